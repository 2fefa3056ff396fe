//! `keysweep install-hook` / `uninstall-hook`: a pre-commit hook in the hooks directory git
//! really uses (`git rev-parse --git-path hooks`, so `core.hooksPath` is honoured), or in the
//! user-wide `core.hooksPath` with `--global`.
//!
//! An existing hook is moved aside to `pre-commit.keysweep-saved` and run after keysweep (with
//! `--force`, moved aside and not run); uninstalling removes keysweep's hook and moves the
//! saved one back, byte for byte, with its mode. What the installer did is written in the hook
//! itself (`# keysweep-...:` lines), so uninstalling needs no other state.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use super::super::Outcome;
use super::HINT;
use crate::config::InstallJob;

/// The first line after the shebang of every hook keysweep writes.
const MARKER: &str = "# keysweep-hook v1";
/// Where an existing hook is kept.
const SAVED_NAME: &str = "pre-commit.keysweep-saved";

/// Where the hook goes, and whether `--global` set `core.hooksPath` to get there.
struct HooksDir {
    dir: PathBuf,
    set_hooks_path: bool,
}

/// What a hook script says about how it was installed.
#[derive(Default)]
struct Installed {
    chain: bool,
    set_hooks_path: bool,
}

/// Run `keysweep install-hook`.
pub fn install(job: &InstallJob) -> anyhow::Result<Outcome> {
    let target = hooks_dir(job, true)?.context("no hooks directory")?;
    std::fs::create_dir_all(&target.dir)
        .with_context(|| format!("cannot create {}", target.dir.display()))?;
    let hook = target.dir.join("pre-commit");
    let saved = target.dir.join(SAVED_NAME);
    let mut state = Installed {
        chain: false,
        set_hooks_path: target.set_hooks_path,
    };
    match read_installed(&hook)? {
        Some(previous) => {
            state.chain = previous.chain && !job.force;
            state.set_hooks_path |= previous.set_hooks_path;
        }
        None if exists(&hook) => {
            if exists(&saved) {
                bail!(
                    "{} is not keysweep's and {} already exists: move one of them away, then install again",
                    hook.display(),
                    saved.display()
                );
            }
            std::fs::rename(&hook, &saved)
                .with_context(|| format!("cannot move {} aside", hook.display()))?;
            state.chain = !job.force;
        }
        None => {}
    }
    write_hook(&hook, &script(job, &state))?;
    let how = match (exists(&saved), state.chain) {
        (true, true) => format!("; the existing hook, kept as {SAVED_NAME}, runs after it"),
        (true, false) => format!("; the existing hook is kept as {SAVED_NAME} and not run"),
        _ => String::new(),
    };
    println!(
        "keysweep: installed {} (runs `keysweep staged`{how})",
        hook.display()
    );
    Ok(Outcome::Clean)
}

/// Run `keysweep uninstall-hook`.
pub fn uninstall(job: &InstallJob) -> anyhow::Result<Outcome> {
    let Some(target) = hooks_dir(job, false)? else {
        println!("keysweep: core.hooksPath is not set globally: nothing to do");
        return Ok(Outcome::Clean);
    };
    let hook = target.dir.join("pre-commit");
    let saved = target.dir.join(SAVED_NAME);
    let Some(state) = read_installed(&hook)? else {
        if exists(&hook) {
            bail!("{} is not keysweep's: left as it is", hook.display());
        }
        println!(
            "keysweep: no keysweep hook in {}: nothing to do",
            target.dir.display()
        );
        return Ok(Outcome::Clean);
    };
    std::fs::remove_file(&hook).with_context(|| format!("cannot remove {}", hook.display()))?;
    if exists(&saved) {
        std::fs::rename(&saved, &hook)
            .with_context(|| format!("cannot restore {}", saved.display()))?;
    }
    if state.set_hooks_path {
        unset_global_hooks_path(&target.dir, job.home.as_deref())?;
    }
    println!("keysweep: removed the hook from {}", target.dir.display());
    Ok(Outcome::Clean)
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// The hooks directory: the repository's (as git resolves it), or the global `core.hooksPath`
/// (set to the default directory when `creating` and unset; `None` when unset otherwise).
fn hooks_dir(job: &InstallJob, creating: bool) -> anyhow::Result<Option<HooksDir>> {
    if !job.global {
        let out = git(&job.repo, &["rev-parse", "--git-path", "hooks"])?
            .context("git rev-parse --git-path hooks printed nothing")?;
        let dir = if job.repo == Path::new(".") {
            PathBuf::from(out)
        } else {
            job.repo.join(out)
        };
        return Ok(Some(HooksDir {
            dir,
            set_hooks_path: false,
        }));
    }
    let here = Path::new(".");
    if let Some(path) = git(here, &["config", "--global", "--get", "core.hooksPath"])? {
        return Ok(Some(HooksDir {
            dir: expand_home(&path, job.home.as_deref()),
            set_hooks_path: false,
        }));
    }
    if !creating {
        return Ok(None);
    }
    let dir = job.default_global_dir.clone().context(
        "neither XDG_CONFIG_HOME nor HOME is set: cannot choose a global hooks directory",
    )?;
    let text = dir.to_str().context("the hooks directory is not UTF-8")?;
    git(here, &["config", "--global", "core.hooksPath", text])?;
    Ok(Some(HooksDir {
        dir,
        set_hooks_path: true,
    }))
}

/// `~/x` as git reads it in `core.hooksPath`.
fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// Undo `git config --global core.hooksPath DIR` (only if it still names `dir`), and remove the
/// directory (and keysweep's parent of it) when empty.
fn unset_global_hooks_path(dir: &Path, home: Option<&Path>) -> anyhow::Result<()> {
    let here = Path::new(".");
    let current = git(here, &["config", "--global", "--get", "core.hooksPath"])?;
    if current.map(|c| expand_home(&c, home)).as_deref() == Some(dir) {
        git(here, &["config", "--global", "--unset", "core.hooksPath"])?;
    }
    if std::fs::remove_dir(dir).is_ok()
        && let Some(parent) = dir.parent().filter(|p| p.ends_with("keysweep"))
    {
        let _ = std::fs::remove_dir(parent);
    }
    Ok(())
}

/// Run git in `dir`; its trimmed stdout, `None` when empty or (for `config --get`) unset.
fn git(dir: &Path, args: &[&str]) -> anyhow::Result<Option<String>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .context("cannot run git (is it installed?)")?;
    let is_unset_config = args.contains(&"--get") && out.status.code() == Some(1);
    if is_unset_config {
        return Ok(None);
    }
    if !out.status.success() {
        bail!(
            "git {} failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8(out.stdout).context("git printed a non-UTF-8 path")?;
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// Whether `hook` is keysweep's, and how it was installed; `None` when absent or foreign.
fn read_installed(hook: &Path) -> anyhow::Result<Option<Installed>> {
    if !std::fs::symlink_metadata(hook).is_ok_and(|m| m.is_file()) {
        return Ok(None);
    }
    let text = std::fs::read(hook).with_context(|| format!("cannot read {}", hook.display()))?;
    let text = String::from_utf8_lossy(&text);
    if !text.lines().take(3).any(|line| line.starts_with(MARKER)) {
        return Ok(None);
    }
    let says = |key: &str| text.lines().any(|line| line == format!("# {key}: yes"));
    Ok(Some(Installed {
        chain: says("keysweep-chain"),
        set_hooks_path: says("keysweep-set-hooks-path"),
    }))
}

/// The hook script: keysweep on the staged content, the hint on findings, then the saved hook
/// (when chaining) and, for a global hook, the repository's own hook that core.hooksPath hides.
fn script(job: &InstallJob, state: &Installed) -> String {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut lines = vec![
        "#!/bin/sh".to_string(),
        format!(
            "{MARKER}: installed by `keysweep install-hook`; remove with `keysweep uninstall-hook`."
        ),
        format!("# keysweep-chain: {}", yes_no(state.chain)),
        format!(
            "# keysweep-set-hooks-path: {}",
            yes_no(state.set_hooks_path)
        ),
        "# Refuses a commit that adds a private key or signing secret (judges the staged content)."
            .into(),
        format!("keysweep={}", shell_quote(&job.exe.to_string_lossy())),
        r#"[ -x "$keysweep" ] || keysweep=keysweep"#.into(),
        r#""$keysweep" staged"#.into(),
        "status=$?".into(),
        r#"if [ "$status" -ne 0 ]; then"#.into(),
        format!(
            r#"    [ "$status" -eq 1 ] && echo {} >&2"#,
            shell_quote(HINT)
        ),
        r#"    exit "$status""#.into(),
        "fi".into(),
    ];
    if state.chain {
        lines.push(format!(r#"saved="$(dirname "$0")/{SAVED_NAME}""#));
        lines.push(r#"if [ -x "$saved" ]; then "$saved" "$@" || exit $?; fi"#.into());
    }
    if job.global {
        lines.push(
            "# core.hooksPath hides the repository's own hooks: run its pre-commit too.".into(),
        );
        lines.push(r#"own="$(git rev-parse --git-dir)/hooks/pre-commit""#.into());
        lines.push(r#"if [ -x "$own" ]; then "$own" "$@" || exit $?; fi"#.into());
    }
    lines.push("exit 0\n".into());
    lines.join("\n")
}

/// Single-quote for sh.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Write the hook, executable.
fn write_hook(hook: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(hook, text).with_context(|| format!("cannot write {}", hook.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(hook, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", hook.display()))?;
    }
    Ok(())
}
