//! `keysweep staged`: what the index will commit, judged by the lines the commit adds.
//!
//! Repositories are built with `git` at test time; the hook tests run a real `git commit` with
//! a pre-commit hook that calls the binary (the `git commit -a` and `git commit PATH` cases run
//! the hook with a temporary index named by GIT_INDEX_FILE).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

mod git_support;
use git_support::{gen_key, require};

struct Repo {
    dir: PathBuf,
}

impl Repo {
    fn init(dir: &Path) -> Repo {
        require("git");
        std::fs::create_dir_all(dir).unwrap();
        let repo = Repo {
            dir: dir.to_path_buf(),
        };
        repo.git(&["-c", "init.defaultBranch=main", "init", "-q"]);
        repo
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.args(["-c", "core.autocrlf=false", "-c", "gc.auto=0"])
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .env("GIT_AUTHOR_NAME", "Ada Author")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Author")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_AUTHOR_DATE", "1600000000 +0000")
            .env("GIT_COMMITTER_DATE", "1600000000 +0000")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.dir)
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE");
        cmd
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn write(&self, path: &str, content: &str) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
    }

    fn rev(&self, spec: &str) -> String {
        self.git(&["rev-parse", spec]).trim().to_string()
    }

    /// Install a pre-commit hook that runs `keysweep staged` and fails on findings.
    fn install_hook(&self) {
        let hook = self.dir.join(".git/hooks/pre-commit");
        std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
        let script = format!(
            "#!/bin/sh\necho \"GIT_INDEX_FILE=$GIT_INDEX_FILE\" >> \"$(git rev-parse --git-dir)/hook.log\"\nexec '{}' staged --format json > \"$(git rev-parse --git-dir)/hook.json\"\n",
            env!("CARGO_BIN_EXE_keysweep")
        );
        std::fs::write(&hook, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn staged(repo: &Path, index_file: Option<&str>) -> (i32, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keysweep"));
    cmd.args(["staged", "--format", "json"])
        .current_dir(repo)
        .stdin(Stdio::null())
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR");
    if let Some(index) = index_file {
        cmd.env("GIT_INDEX_FILE", index);
    }
    let out: Output = cmd.output().expect("run keysweep");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}); stderr: {stderr}"));
    (out.status.code().unwrap_or(-1), json, stderr)
}

fn paths(json: &Value) -> Vec<String> {
    let mut out: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["locations"].as_array().unwrap().clone())
        .map(|l| l["path"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn first_commit_scans_everything_staged() {
    let tmp = TempDir::new().unwrap();
    let repo = Repo::init(&tmp.path().join("r"));
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("keys/a.pem", &key);
    repo.write("README", "hi\n");
    repo.git(&["add", "-A"]);
    let (code, json, stderr) = staged(&repo.dir, None);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths(&json), vec!["keys/a.pem"]);
    let loc = &json["findings"][0]["locations"][0];
    assert_eq!(loc["source"], "staged");
    assert_eq!(loc["blob"], repo.rev(":keys/a.pem").as_str());
    // Nothing staged at all: clean.
    let empty = Repo::init(&tmp.path().join("empty"));
    let (code, json, _) = staged(&empty.dir, None);
    assert_eq!(code, 0);
    assert!(paths(&json).is_empty());
}

#[test]
fn partially_staged_file_is_judged_by_its_staged_content() {
    let tmp = TempDir::new().unwrap();
    let repo = Repo::init(&tmp.path().join("r"));
    repo.write("app.cfg", "name=app\n");
    repo.commit_all("initial");

    // A secret only in the work tree is not reported.
    let unstaged_key = gen_key(tmp.path(), "u.pem");
    repo.write("app.cfg", "name=app\nport=1\n");
    repo.git(&["add", "app.cfg"]);
    repo.write("app.cfg", &format!("name=app\nport=1\n{unstaged_key}"));
    let (code, json, stderr) = staged(&repo.dir, None);
    assert_eq!(code, 0, "{json:#} {stderr}");

    // A secret staged and then removed from the work tree is reported.
    let staged_key = gen_key(tmp.path(), "s.pem");
    repo.write("app.cfg", &format!("name=app\n{staged_key}"));
    repo.git(&["add", "app.cfg"]);
    repo.write("app.cfg", "name=app\n");
    let (code, json, stderr) = staged(&repo.dir, None);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths(&json), vec!["app.cfg"]);
    assert_eq!(json["findings"][0]["locations"][0]["line"], 2);
}

#[test]
fn committed_secret_is_not_reflagged_but_an_edited_pem_block_is() {
    let tmp = TempDir::new().unwrap();
    let repo = Repo::init(&tmp.path().join("r"));
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("config.txt", &format!("a=1\n{key}b=2\n"));
    repo.commit_all("existing key (already reported by history scans)");

    // Editing another line of the same file: the old key is not added by this commit.
    repo.write("config.txt", &format!("a=100\n{key}b=2\nc=3\n"));
    repo.git(&["add", "config.txt"]);
    let (code, json, stderr) = staged(&repo.dir, None);
    assert_eq!(code, 0, "{json:#} {stderr}");

    // Replacing the key between the same BEGIN/END lines: only body lines are added, and the
    // finding spans them.
    let other = gen_key(tmp.path(), "o.pem");
    assert_eq!(
        key.lines().next(),
        other.lines().next(),
        "same BEGIN line for both keys"
    );
    repo.write("config.txt", &format!("a=100\n{other}b=2\nc=3\n"));
    repo.git(&["add", "config.txt"]);
    let (code, json, stderr) = staged(&repo.dir, None);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths(&json), vec!["config.txt"]);

    // A new file with the old key is added as a whole: reported.
    repo.git(&["reset", "-q"]);
    repo.write("copy.pem", &key);
    repo.git(&["add", "copy.pem"]);
    let (code, json, _) = staged(&repo.dir, None);
    assert_eq!(code, 1);
    assert_eq!(paths(&json), vec!["copy.pem"]);
}

#[test]
fn git_index_file_is_honoured_relative_to_the_current_directory() {
    let tmp = TempDir::new().unwrap();
    let repo = Repo::init(&tmp.path().join("r"));
    repo.write("a.txt", "a\n");
    repo.commit_all("initial");
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("b.pem", &key);
    // Stage into an alternative index only.
    let mut cmd = repo.command(&["add", "b.pem"]);
    let alt = repo.dir.join(".git/alt-index");
    std::fs::copy(repo.dir.join(".git/index"), &alt).unwrap();
    cmd.env("GIT_INDEX_FILE", &alt);
    assert!(cmd.output().unwrap().status.success());

    let (code, _, _) = staged(&repo.dir, None);
    assert_eq!(code, 0, "the real index has nothing staged");
    let (code, json, stderr) = staged(&repo.dir, Some(".git/alt-index"));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(paths(&json), vec!["b.pem"]);
}

#[test]
fn hook_with_commit_all_scans_the_temporary_index() {
    let tmp = TempDir::new().unwrap();
    let repo = Repo::init(&tmp.path().join("r"));
    repo.write("settings.ini", "debug=false\n");
    repo.commit_all("initial");
    repo.install_hook();

    // Modified in the work tree only: a plain `git commit` would not include it, `-a` does.
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("settings.ini", &format!("debug=false\n{key}"));
    let out = repo
        .command(&["commit", "-a", "-m", "with -a"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the hook must refuse: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(repo.dir.join(".git/hook.log")).unwrap();
    assert!(log.contains("index.lock"), "{log}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.dir.join(".git/hook.json")).unwrap())
            .unwrap();
    assert_eq!(paths(&report), vec!["settings.ini"]);

    // Without the key, `git commit -a` goes through.
    repo.write("settings.ini", "debug=true\n");
    let out = repo
        .command(&["commit", "-a", "-m", "clean"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn hook_with_commit_path_scans_only_that_path() {
    let tmp = TempDir::new().unwrap();
    let repo = Repo::init(&tmp.path().join("r"));
    repo.write("clean.txt", "one\n");
    repo.write("other.txt", "x\n");
    repo.commit_all("initial");
    repo.install_hook();

    // A key staged in the real index in other.txt; `git commit clean.txt` commits only
    // clean.txt (its hook sees a temporary index without other.txt's change).
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("other.txt", &format!("x\n{key}"));
    repo.git(&["add", "other.txt"]);
    repo.write("clean.txt", "two\n");
    let out = repo
        .command(&["commit", "-m", "only clean", "clean.txt"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "other.txt is not part of this commit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(repo.dir.join(".git/hook.log")).unwrap();
    assert!(log.contains("next-index"), "{log}");

    // `git commit other.txt` commits the key: refused.
    let out = repo
        .command(&["commit", "-m", "the key", "other.txt"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.dir.join(".git/hook.json")).unwrap())
            .unwrap();
    assert_eq!(paths(&report), vec!["other.txt"]);

    // Work-tree-only key in a file committed by path: `git commit PATH` takes the work-tree
    // content, so the hook must see it.
    repo.git(&["reset", "-q"]);
    repo.write("other.txt", "x\n");
    repo.write("clean.txt", &format!("three\n{key}"));
    let out = repo
        .command(&["commit", "-m", "path with key", "clean.txt"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn staged_on_a_non_repository_is_exit_2() {
    let tmp = TempDir::new().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_keysweep"))
        .args(["staged", tmp.path().to_str().unwrap()])
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"));
}
