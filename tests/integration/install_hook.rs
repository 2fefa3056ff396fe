//! `keysweep install-hook` / `uninstall-hook` with real `git commit`s: a plain repository,
//! `core.hooksPath`, an existing hook (chained, refused, replaced with --force), uninstall
//! restoring the previous state byte for byte, and `--global` (HOME pointed at a temp dir).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::support::*;

const HINT: &str = "keysweep: a false positive? add its fingerprint to .keysweepignore";

/// `keysweep ARGS` in `repo.dir`, with git's global config under `home`.
fn ks(repo: &Repo, home: &Path, args: &[&str]) -> Outcome {
    let (command, rest) = args.split_first().expect("a command");
    Ks::new(command)
        .args(rest)
        .current_dir(&repo.dir)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("GIT_CONFIG_GLOBAL")
        .run()
}

/// `git commit -m MESSAGE` with hooks; the exit code and stderr.
fn commit(repo: &Repo, message: &str) -> (i32, String) {
    let out = repo
        .command(&["commit", "-q", "-m", message])
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("GIT_CONFIG_GLOBAL")
        .output()
        .expect("git commit");
    let code = out.status.code().expect("exit code");
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Every file in `dir` with its bytes and mode, sorted.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, u32)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| {
                    let e = e.expect("entry");
                    let meta = e.metadata().expect("metadata");
                    let bytes = std::fs::read(e.path()).unwrap_or_default();
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        bytes,
                        meta.permissions().mode(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// A foreign hook that records that it ran.
fn write_foreign_hook(path: &Path) -> Vec<u8> {
    let text = "#!/bin/sh\n# the team's own hook\necho ran >> \"$(git rev-parse --git-dir)/foreign.log\"\n";
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write hook");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    text.as_bytes().to_vec()
}

fn foreign_runs(repo: &Repo) -> usize {
    std::fs::read_to_string(repo.dir.join(".git/foreign.log"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// A repository with one clean commit.
fn repo_in(tmp: &TempDir) -> Repo {
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("README", "hello\n");
    repo.commit("initial");
    repo
}

/// Stage a key and a clean change; assert the hook refuses the first and passes the second.
fn assert_hook_guards(repo: &Repo) {
    repo.write("deploy/key.pem", &p256_pem());
    repo.git(&["add", "deploy/key.pem"]);
    let (code, stderr) = commit(repo, "add a key");
    assert_ne!(code, 0, "a commit staging a key must be refused: {stderr}");
    assert!(stderr.contains(HINT), "the hint line is missing: {stderr}");
    repo.git(&["rm", "-q", "--cached", "deploy/key.pem"]);
    repo.write("README", "hello again\n");
    repo.git(&["add", "README"]);
    let (code, stderr) = commit(repo, "clean");
    assert_eq!(code, 0, "a clean commit must pass: {stderr}");
}

#[test]
fn plain_repository_install_guards_commits_and_uninstall_restores() {
    let tmp = TempDir::new().unwrap();
    let repo = repo_in(&tmp);
    let hooks = repo.dir.join(".git/hooks");
    let before = snapshot(&hooks);
    ks(&repo, tmp.path(), &["install-hook"]).assert_exit(0);
    let hook = hooks.join("pre-commit");
    assert!(std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111 != 0);
    assert_hook_guards(&repo);
    // Installing again is an update in place, not a chain to itself.
    ks(&repo, tmp.path(), &["install-hook"]).assert_exit(0);
    assert!(!hooks.join("pre-commit.keysweep-saved").exists());
    ks(&repo, tmp.path(), &["uninstall-hook"]).assert_exit(0);
    assert_eq!(snapshot(&hooks), before);
    let again = ks(&repo, tmp.path(), &["uninstall-hook"]);
    again.assert_exit(0);
    assert!(again.stdout_str().contains("nothing to do"));
}

#[test]
fn core_hooks_path_is_honoured() {
    let tmp = TempDir::new().unwrap();
    let repo = repo_in(&tmp);
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    ks(&repo, tmp.path(), &["install-hook"]).assert_exit(0);
    assert!(repo.dir.join(".githooks/pre-commit").is_file());
    assert!(!repo.dir.join(".git/hooks/pre-commit").exists());
    assert_hook_guards(&repo);
    ks(&repo, tmp.path(), &["uninstall-hook"]).assert_exit(0);
    assert!(!repo.dir.join(".githooks/pre-commit").exists());
}

#[test]
fn an_existing_hook_is_chained_and_restored_exactly() {
    let tmp = TempDir::new().unwrap();
    let repo = repo_in(&tmp);
    let hooks = repo.dir.join(".git/hooks");
    write_foreign_hook(&hooks.join("pre-commit"));
    let before = snapshot(&hooks);
    let out = ks(&repo, tmp.path(), &["install-hook"]);
    out.assert_exit(0);
    assert!(
        out.stdout_str().contains("runs after it"),
        "{}",
        out.stdout_str()
    );
    assert_hook_guards(&repo);
    assert_eq!(
        foreign_runs(&repo),
        1,
        "the chained hook runs after a clean scan only"
    );
    ks(&repo, tmp.path(), &["uninstall-hook"]).assert_exit(0);
    assert_eq!(
        snapshot(&hooks),
        before,
        "uninstall restores bytes and mode"
    );
}

#[test]
fn an_existing_hook_is_refused_when_its_slot_is_taken_and_replaced_with_force() {
    let tmp = TempDir::new().unwrap();
    let repo = repo_in(&tmp);
    let hooks = repo.dir.join(".git/hooks");
    write_foreign_hook(&hooks.join("pre-commit"));
    std::fs::write(hooks.join("pre-commit.keysweep-saved"), "#!/bin/sh\n").unwrap();
    let before = snapshot(&hooks);
    let refused = ks(&repo, tmp.path(), &["install-hook"]);
    refused.assert_exit(2);
    assert!(
        refused.stderr_str().contains("pre-commit.keysweep-saved"),
        "{}",
        refused.stderr_str()
    );
    assert_eq!(
        snapshot(&hooks),
        before,
        "a refused install changes nothing"
    );

    std::fs::remove_file(hooks.join("pre-commit.keysweep-saved")).unwrap();
    let before = snapshot(&hooks);
    ks(&repo, tmp.path(), &["install-hook", "--force"]).assert_exit(0);
    assert_hook_guards(&repo);
    assert_eq!(
        foreign_runs(&repo),
        0,
        "--force replaces: the old hook does not run"
    );
    ks(&repo, tmp.path(), &["uninstall-hook"]).assert_exit(0);
    assert_eq!(snapshot(&hooks), before);

    // A hook keysweep did not write is not removed by uninstall.
    let foreign = ks(&repo, tmp.path(), &["uninstall-hook"]);
    foreign.assert_exit(2);
    assert!(foreign.stderr_str().contains("not keysweep's"));
}

#[test]
fn global_install_sets_a_user_hooks_path_and_uninstall_unsets_it() {
    let tmp = TempDir::new().unwrap();
    let repo = repo_in(&tmp);
    // `Repo` runs git with HOME set to the repository itself: the global config is its
    // .gitconfig, kept out of commits.
    let home = repo.dir.clone();
    std::fs::write(home.join(".git/info/exclude"), ".gitconfig\n.config/\n").unwrap();
    let global_get = || {
        repo.command(&["config", "--global", "--get", "core.hooksPath"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap()
    };
    // The repository's own hook, hidden by core.hooksPath, still runs through the global hook.
    write_foreign_hook(&repo.dir.join(".git/hooks/pre-commit"));
    let out = ks(&repo, &home, &["install-hook", "--global"]);
    out.assert_exit(0);
    let dir: PathBuf = home.join(".config/keysweep/hooks");
    assert_eq!(global_get(), dir.to_str().unwrap());
    assert!(dir.join("pre-commit").is_file());
    assert_hook_guards(&repo);
    assert_eq!(foreign_runs(&repo), 1);

    ks(&repo, &home, &["uninstall-hook", "--global"]).assert_exit(0);
    assert_eq!(global_get(), "");
    assert!(!home.join(".config/keysweep").exists());
    assert!(repo.dir.join(".git/hooks/pre-commit").is_file());
}
