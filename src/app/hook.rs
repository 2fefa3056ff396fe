//! `keysweep hook` (the pre-commit framework's entry) and `keysweep install-hook` /
//! `uninstall-hook` (a plain git hook).
//!
//! `hook` scans what its context asks for, as `config` decided it: the staged content under
//! `git commit`, the pushed range in the pre-push stage, else every tracked file (`pre-commit
//! run --all-files`, the manual stage), so a key committed before the hook existed is found.

mod install;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use gix::bstr::ByteSlice as _;

use super::Outcome;
use crate::config::{Config, HookJob, HookMode, WalkJob};
use crate::source::fs::FsOptions;
use crate::source::git;

pub use install::{install, uninstall};

/// The one-line hint a hook prints when it refuses a commit.
const HINT: &str = "keysweep: a false positive? add its fingerprint to .keysweepignore (or put keysweep:allow on the line); skip once with git commit --no-verify";

/// Run `keysweep hook`; on findings, end with the hint on how to allow a false positive.
pub fn run(config: &Config, job: &HookJob) -> anyhow::Result<Outcome> {
    let outcome = match &job.mode {
        HookMode::Staged(staged) => super::staged::staged(config, staged),
        HookMode::Range(range) => super::history::git(config, range),
        HookMode::Tracked { repo, fs } => tracked(config, repo, fs),
    }?;
    if outcome == Outcome::Found {
        eprintln!("{HINT}");
    }
    Ok(outcome)
}

/// Scan the work-tree files the index tracks (regular files at stage 0; a tracked file deleted
/// from the work tree is not there to scan).
fn tracked(config: &Config, repo_path: &Path, fs: &FsOptions) -> anyhow::Result<Outcome> {
    let repo = git::open(repo_path, &git::GitTuning::default())?;
    let workdir = repo.workdir().with_context(|| {
        format!(
            "{}: a bare repository has no tracked files",
            repo_path.display()
        )
    })?;
    let base = display_base(workdir);
    let paths = tracked_paths(&repo)?
        .into_iter()
        .map(|path| base.join(path))
        .filter(|path| std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()))
        .collect();
    let walk = WalkJob {
        paths,
        fs: fs.clone(),
    };
    super::files::scan(config, &walk)
}

/// Tracked paths are walked relative to the current directory when it is the work tree, so
/// reports show them as `git ls-files` does.
fn display_base(workdir: &Path) -> PathBuf {
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    if canonical(workdir).is_some() && canonical(workdir) == canonical(Path::new(".")) {
        PathBuf::new()
    } else {
        workdir.to_path_buf()
    }
}

/// The regular files in the index (stage 0; no symlinks, submodules or sparse directories).
fn tracked_paths(repo: &gix::Repository) -> anyhow::Result<Vec<String>> {
    let Some(index) = crate::source::staged::read_index(repo, &repo.index_path())? else {
        return Ok(Vec::new());
    };
    use gix::index::entry::Mode;
    Ok(index
        .entries()
        .iter()
        .filter(|e| e.stage_raw() == 0 && (e.mode == Mode::FILE || e.mode == Mode::FILE_EXECUTABLE))
        .map(|e| e.path(&index).to_str_lossy().into_owned())
        .collect())
}
