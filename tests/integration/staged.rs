//! `keysweep staged`: what the index will commit, judged by the lines the commit adds.
//!
//! Repositories are built with `git` at test time; the hook tests run a real `git commit` with
//! a pre-commit hook that calls the binary (the `git commit -a` and `git commit PATH` cases run
//! the hook with a temporary index named by GIT_INDEX_FILE).

use std::path::Path;

use tempfile::TempDir;

use crate::support::*;

/// `keysweep staged --format json` in `repo`, with `GIT_INDEX_FILE` set to `index_file` if given.
fn staged(repo: &Path, index_file: Option<&str>) -> Scan {
    let ks = Ks::new("staged").format("json").current_dir(repo);
    match index_file {
        Some(index) => ks.env("GIT_INDEX_FILE", index),
        None => ks,
    }
    .run()
    .scan()
}

#[test]
fn first_commit_scans_everything_staged() {
    let tmp = TempDir::new().unwrap();
    let repo = Repo::init(&tmp.path().join("r"));
    let key = p256_pem();
    repo.write("keys/a.pem", &key);
    repo.write("README", "hi\n");
    repo.git(&["add", "-A"]);
    let s = staged(&repo.dir, None);
    assert_eq!(s.code, 1, "{}", s.stderr);
    assert_eq!(s.sorted_paths(), vec!["keys/a.pem"]);
    let loc = &s.json["findings"][0]["locations"][0];
    assert_eq!(loc["source"], "staged");
    assert_eq!(loc["blob"], repo.rev(":keys/a.pem").as_str());
    // Nothing staged at all: clean.
    let empty = Repo::init(&tmp.path().join("empty"));
    let s = staged(&empty.dir, None);
    assert_eq!(s.code, 0);
    assert!(s.sorted_paths().is_empty());
}

#[test]
fn partially_staged_file_is_judged_by_its_staged_content() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("app.cfg", "name=app\n");
    repo.commit("initial");

    // A secret only in the work tree is not reported.
    let unstaged_key = p256_pem();
    repo.write("app.cfg", "name=app\nport=1\n");
    repo.git(&["add", "app.cfg"]);
    repo.write("app.cfg", &format!("name=app\nport=1\n{unstaged_key}"));
    let s = staged(&repo.dir, None);
    assert_eq!(s.code, 0, "{:#} {}", s.json, s.stderr);

    // A secret staged and then removed from the work tree is reported.
    let staged_key = p256_pem();
    repo.write("app.cfg", &format!("name=app\n{staged_key}"));
    repo.git(&["add", "app.cfg"]);
    repo.write("app.cfg", "name=app\n");
    let s = staged(&repo.dir, None);
    assert_eq!(s.code, 1, "{}", s.stderr);
    assert_eq!(s.sorted_paths(), vec!["app.cfg"]);
    assert_eq!(s.json["findings"][0]["locations"][0]["line"], 2);
}

#[test]
fn committed_secret_is_not_reflagged_but_an_edited_pem_block_is() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = p256_pem();
    repo.write("config.txt", &format!("a=1\n{key}b=2\n"));
    repo.commit("existing key (already reported by history scans)");

    // Editing another line of the same file: the old key is not added by this commit.
    repo.write("config.txt", &format!("a=100\n{key}b=2\nc=3\n"));
    repo.git(&["add", "config.txt"]);
    let s = staged(&repo.dir, None);
    assert_eq!(s.code, 0, "{:#} {}", s.json, s.stderr);

    // Replacing the key between the same BEGIN/END lines: only body lines are added, and the
    // finding spans them.
    let other = p256_pem();
    assert_eq!(
        key.lines().next(),
        other.lines().next(),
        "same BEGIN line for both keys"
    );
    repo.write("config.txt", &format!("a=100\n{other}b=2\nc=3\n"));
    repo.git(&["add", "config.txt"]);
    let s = staged(&repo.dir, None);
    assert_eq!(s.code, 1, "{}", s.stderr);
    assert_eq!(s.sorted_paths(), vec!["config.txt"]);

    // A new file with the old key is added as a whole: reported.
    repo.git(&["reset", "-q"]);
    repo.write("copy.pem", &key);
    repo.git(&["add", "copy.pem"]);
    let s = staged(&repo.dir, None);
    assert_eq!(s.code, 1);
    assert_eq!(s.sorted_paths(), vec!["copy.pem"]);
}

#[test]
fn git_index_file_is_honoured_relative_to_the_current_directory() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("a.txt", "a\n");
    repo.commit("initial");
    let key = p256_pem();
    repo.write("b.pem", &key);
    // Stage into an alternative index only.
    let mut cmd = repo.command(&["add", "b.pem"]);
    let alt = repo.dir.join(".git/alt-index");
    std::fs::copy(repo.dir.join(".git/index"), &alt).unwrap();
    cmd.env("GIT_INDEX_FILE", &alt);
    assert!(cmd.output().unwrap().status.success());

    let s = staged(&repo.dir, None);
    assert_eq!(s.code, 0, "the real index has nothing staged");
    let s = staged(&repo.dir, Some(".git/alt-index"));
    assert_eq!(s.code, 1, "{}", s.stderr);
    assert_eq!(s.sorted_paths(), vec!["b.pem"]);
}

#[test]
fn hook_with_commit_all_scans_the_temporary_index() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("settings.ini", "debug=false\n");
    repo.commit("initial");
    repo.install_hook();

    // Modified in the work tree only: a plain `git commit` would not include it, `-a` does.
    let key = p256_pem();
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
    let log = repo.hook_log();
    assert!(log.contains("index.lock"), "{log}");
    let report = repo.hook_report();
    assert_eq!(report.code, 1, "{}", report.pretty());
    assert_eq!(report.sorted_paths(), vec!["settings.ini"]);

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
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("clean.txt", "one\n");
    repo.write("other.txt", "x\n");
    repo.commit("initial");
    repo.install_hook();

    // A key staged in the real index in other.txt; `git commit clean.txt` commits only
    // clean.txt (its hook sees a temporary index without other.txt's change).
    let key = p256_pem();
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
    let log = repo.hook_log();
    assert!(log.contains("next-index"), "{log}");

    // `git commit other.txt` commits the key: refused.
    let out = repo
        .command(&["commit", "-m", "the key", "other.txt"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let report = repo.hook_report();
    assert_eq!(report.code, 1, "{}", report.pretty());
    assert_eq!(report.sorted_paths(), vec!["other.txt"]);

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
    let out = Ks::new("staged").arg(tmp.path()).run();
    out.assert_exit(2);
    assert!(out.stderr_str().contains("not a git repository"));
}
