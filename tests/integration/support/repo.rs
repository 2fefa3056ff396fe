//! Git repositories built with the real `git`, with fixed identities and dates.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::ks::BIN;
use super::report::Scan;
use super::tools::require;

/// Author date of the first commit (the clock then moves a minute per commit).
const BASE_EPOCH: u64 = 1_600_000_000; // 2020-09-13T12:26:40Z

/// A repository driven by `git` with deterministic identities and dates.
pub struct Repo {
    pub dir: PathBuf,
    /// Minutes added to the base date for the next commit.
    clock: u64,
    /// A date that overrides the clock (`commit_at`).
    date: Option<String>,
}

impl Repo {
    /// `git init` in `dir` (created if needed), default branch `main`.
    pub fn init(dir: &Path) -> Repo {
        require("git");
        std::fs::create_dir_all(dir).expect("mkdir repo");
        let repo = Repo {
            dir: dir.to_path_buf(),
            clock: 0,
            date: None,
        };
        repo.git(&["-c", "init.defaultBranch=main", "init", "-q"]);
        repo
    }

    fn date(&self) -> String {
        self.date
            .clone()
            .unwrap_or_else(|| format!("{} +0200", BASE_EPOCH + self.clock * 60))
    }

    /// `git ARGS` in the repository, with the test identities and dates.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.args(["-c", "core.autocrlf=false", "-c", "gc.auto=0"])
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .env("GIT_AUTHOR_NAME", "Ada Author")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Carl Committer")
            .env("GIT_COMMITTER_EMAIL", "carl@example.com")
            .env("GIT_AUTHOR_DATE", self.date())
            .env("GIT_COMMITTER_DATE", self.date())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.dir)
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE");
        cmd
    }

    /// Runs git, asserts it succeeded, returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 from git")
    }

    pub fn write(&self, path: &str, content: &str) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }

    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.dir.join(path)).expect("remove");
    }

    /// Stages everything and commits (no hooks); returns the new commit id.
    pub fn commit(&mut self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&[
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-m",
            message,
        ]);
        self.clock += 1;
        self.rev("HEAD")
    }

    /// `commit` with author and committer date `date` (any format git accepts).
    pub fn commit_at(&mut self, message: &str, date: &str) -> String {
        self.date = Some(date.to_string());
        let id = self.commit(message);
        self.date = None;
        id
    }

    pub fn rev(&self, spec: &str) -> String {
        self.git(&["rev-parse", spec]).trim().to_string()
    }

    /// Overwrites the loose object `id` with bytes that are not a zlib stream (git writes
    /// objects read-only), so that reading it fails.
    pub fn damage_loose_object(&self, id: &str) {
        let object = self.dir.join(".git/objects").join(&id[..2]).join(&id[2..]);
        let mut permissions = std::fs::metadata(&object)
            .expect("loose object")
            .permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&object, permissions).expect("make the object writable");
        std::fs::write(&object, b"not a zlib stream").expect("overwrite the object");
    }

    pub fn author_date(&self, commit: &str) -> String {
        self.git(&["log", "-1", "--format=%aI", commit])
            .trim()
            .to_string()
    }

    /// Installs a pre-commit hook that runs `keysweep staged --format json` (and fails on
    /// findings); `hook_report` reads what its last run saw.
    pub fn install_hook(&self) {
        let hook = self.dir.join(".git/hooks/pre-commit");
        std::fs::create_dir_all(hook.parent().expect("parent")).expect("mkdir hooks");
        let script = format!(
            "#!/bin/sh\ngit_dir=\"$(git rev-parse --git-dir)\"\necho \"GIT_INDEX_FILE=$GIT_INDEX_FILE\" >> \"$git_dir/hook.log\"\n'{BIN}' staged --format json > \"$git_dir/hook.json\"\ncode=$?\necho $code > \"$git_dir/hook.code\"\nexit $code\n"
        );
        std::fs::write(&hook, script).expect("write hook");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// The hook's `GIT_INDEX_FILE=...` lines so far.
    pub fn hook_log(&self) -> String {
        std::fs::read_to_string(self.dir.join(".git/hook.log")).expect("hook.log")
    }

    /// The report and exit code of the hook's last run.
    pub fn hook_report(&self) -> Scan {
        let read = |name: &str| {
            std::fs::read_to_string(self.dir.join(".git").join(name))
                .unwrap_or_else(|e| panic!("hook did not write {name}: {e}"))
        };
        let json = read("hook.json");
        Scan {
            code: read("hook.code").trim().parse().expect("hook exit code"),
            json: serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("hook report is not JSON ({e}): {json}")),
            stderr: String::new(),
        }
    }
}
