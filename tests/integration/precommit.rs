//! The pre-commit framework (the real `pre-commit`, installed by `.ci/install-test-deps` into
//! target/test-tools/venv, or named by KEYSWEEP_PRE_COMMIT) running the project's own
//! `.pre-commit-hooks.yaml`: a test repository's `.pre-commit-config.yaml` points at a copy of
//! this repository's hook manifest and uses its `keysweep-system` hook, with the binary under
//! test first on PATH. Real `git commit`s, `pre-commit run --all-files` and the pre-push stage.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::support::ks::BIN;
use crate::support::*;

/// The `pre-commit` executable the project's test set-up installed.
fn pre_commit_bin() -> PathBuf {
    let path = std::env::var_os("KEYSWEEP_PRE_COMMIT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-tools/venv/bin/pre-commit"),
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "pre-commit is not installed at {}; this test must not be skipped. Run .ci/install-test-deps",
        path.display()
    );
    path
}

/// PATH with the keysweep under test first.
fn path_with_keysweep() -> String {
    let dir = Path::new(BIN)
        .parent()
        .expect("bin dir")
        .display()
        .to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// A hook repository holding this project's `.pre-commit-hooks.yaml`, committed; its head.
fn hook_repo(tmp: &Path) -> (PathBuf, String) {
    let mut repo = Repo::init(&tmp.join("hooks-repo"));
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    repo.write(".pre-commit-hooks.yaml", &read_string(manifest));
    let head = repo.commit("hooks");
    (repo.dir.clone(), head)
}

/// A project repository using the `keysweep-system` hook, with `pre-commit install`ed for the
/// pre-commit and pre-push stages, and one clean commit.
struct Project {
    repo: Repo,
    cache: TempDir,
}

impl Project {
    fn new(tmp: &Path) -> Project {
        let (hooks, rev) = hook_repo(tmp);
        let mut repo = Repo::init(&tmp.join("project"));
        repo.write(
            ".pre-commit-config.yaml",
            &format!(
                "repos:\n- repo: {}\n  rev: {rev}\n  hooks:\n  - id: keysweep-system\n",
                hooks.display()
            ),
        );
        repo.write("README", "hello\n");
        repo.commit("initial");
        let project = Project {
            repo,
            cache: TempDir::new().expect("tempdir"),
        };
        let out = project.pre_commit(&["install", "-t", "pre-commit", "-t", "pre-push"]);
        assert_eq!(out.0, 0, "pre-commit install: {}", out.1);
        project
    }

    /// A command in the project with `Repo`'s identities and dates, pre-commit's cache in a
    /// temp dir and keysweep on PATH.
    fn command(&self, program: &Path, args: &[&str]) -> Command {
        let template = self.repo.command(&[]);
        let mut cmd = Command::new(program);
        for (key, value) in template.get_envs() {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd.args(args)
            .current_dir(&self.repo.dir)
            .stdin(std::process::Stdio::null())
            .env("PRE_COMMIT_HOME", self.cache.path())
            .env("PATH", path_with_keysweep())
            .env("NO_COLOR", "1");
        cmd
    }

    fn run(&self, program: &Path, args: &[&str]) -> (i32, String) {
        let out = self.command(program, args).output().expect("run");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().expect("exit code"), text)
    }

    fn pre_commit(&self, args: &[&str]) -> (i32, String) {
        self.run(&pre_commit_bin(), args)
    }

    /// `git ARGS` with the hooks pre-commit installed.
    fn git(&self, args: &[&str]) -> (i32, String) {
        self.run(Path::new("git"), args)
    }
}

#[test]
fn a_commit_staging_a_key_is_rejected_and_a_clean_one_passes() {
    let tmp = TempDir::new().unwrap();
    let project = Project::new(tmp.path());
    let repo = &project.repo;
    repo.write("deploy/service.pem", &p256_pem());
    repo.git(&["add", "deploy/service.pem"]);
    let (code, output) = project.git(&["commit", "-m", "add a key"]);
    assert_ne!(code, 0, "the commit must be rejected:\n{output}");
    assert!(output.contains("deploy/service.pem"), "{output}");
    assert!(
        output.contains(".keysweepignore"),
        "the hint is missing:\n{output}"
    );
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]).trim(), "1");

    repo.git(&["rm", "-q", "--cached", "deploy/service.pem"]);
    repo.remove("deploy/service.pem");
    repo.write("README", "hello again\n");
    repo.git(&["add", "README"]);
    let (code, output) = project.git(&["commit", "-m", "clean"]);
    assert_eq!(code, 0, "a clean commit must pass:\n{output}");
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]).trim(), "2");
}

#[test]
fn a_partially_staged_file_is_judged_by_its_staged_bytes() {
    let tmp = TempDir::new().unwrap();
    let project = Project::new(tmp.path());
    let repo = &project.repo;
    repo.write("app.cfg", "name=app\n");
    repo.git(&["add", "app.cfg"]);
    project.git(&["commit", "-q", "-m", "cfg"]);

    // The key only in the work tree: the staged bytes are clean, the commit passes.
    repo.write("app.cfg", "name=app\nport=1\n");
    repo.git(&["add", "app.cfg"]);
    repo.write("app.cfg", &format!("name=app\nport=1\n{}", p256_pem()));
    let (code, output) = project.git(&["commit", "-m", "port"]);
    assert_eq!(code, 0, "unstaged key must not block:\n{output}");

    // The key staged, then removed from the work tree only: rejected.
    repo.write("app.cfg", &format!("name=app\nport=1\n{}", p256_pem()));
    repo.git(&["add", "app.cfg"]);
    repo.write("app.cfg", "name=app\nport=2\n");
    let (code, output) = project.git(&["commit", "-m", "staged key"]);
    assert_ne!(code, 0, "the staged key must block:\n{output}");
    assert!(output.contains("app.cfg"), "{output}");
    // pre-commit put the unstaged change back.
    assert_eq!(read_string(repo.dir.join("app.cfg")), "name=app\nport=2\n");
}

#[test]
fn run_all_files_finds_a_key_already_committed() {
    let tmp = TempDir::new().unwrap();
    let mut project = Project::new(tmp.path());
    let (code, output) = project.pre_commit(&["run", "--all-files"]);
    assert_eq!(code, 0, "clean repository:\n{output}");

    project.repo.write("old/legacy.pem", &p256_pem());
    project
        .repo
        .commit("committed before the hook existed (--no-verify)");
    let (code, output) = project.pre_commit(&["run", "--all-files"]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("old/legacy.pem"), "{output}");
    let (code, output) = project.pre_commit(&["run", "--all-files", "--hook-stage", "manual"]);
    assert_eq!(code, 1, "{output}");
    // A plain commit does not re-flag it: only the staged content is judged.
    project.repo.write("README", "more\n");
    project.repo.git(&["add", "README"]);
    let (code, output) = project.git(&["commit", "-m", "unrelated"]);
    assert_eq!(code, 0, "{output}");
}

#[test]
fn pre_push_stage_scans_what_the_pushed_commits_add() {
    let tmp = TempDir::new().unwrap();
    let mut project = Project::new(tmp.path());
    let base = project.repo.rev("HEAD");
    project.repo.write("new/key.pem", &p256_pem());
    let head = project.repo.commit("key");
    let range = |project: &Project, from: &str, to: &str| {
        project.pre_commit(&[
            "run",
            "--hook-stage",
            "pre-push",
            "--from-ref",
            from,
            "--to-ref",
            to,
        ])
    };
    let (code, output) = range(&project, &base, &head);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("new/key.pem"), "{output}");
    project.repo.write("README", "later\n");
    let later = project.repo.commit("later");
    let (code, output) = range(&project, &head, &later);
    assert_eq!(code, 0, "the key is not in {head}..{later}:\n{output}");
}

#[test]
fn hook_with_nothing_to_scan_says_so_on_one_line() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("README", "hi\n");
    repo.commit("initial");
    let index = repo.dir.join(".git/index");
    let out = Ks::new("hook")
        .current_dir(&repo.dir)
        .env("GIT_INDEX_FILE", &index)
        .run();
    out.assert_exit(0);
    let lines: Vec<String> = out
        .stderr_str()
        .lines()
        .filter(|l| l.contains("nothing to scan"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines,
        ["keysweep: nothing to scan: no staged changes"],
        "{}",
        out.stderr_str()
    );
}

#[test]
fn the_hook_manifest_is_valid_and_never_passes_file_names() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    let out = Command::new(pre_commit_bin())
        .arg("validate-manifest")
        .arg(&manifest)
        .output()
        .expect("run pre-commit");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = read_string(&manifest);
    assert_eq!(text.matches("\n- id: ").count(), 2, "{text}");
    assert_eq!(text.matches("pass_filenames: false").count(), 2);
    assert_eq!(
        text.matches("stages: [pre-commit, pre-push, manual]")
            .count(),
        2
    );
    assert!(text.contains("language: rust") && text.contains("language: system"));
}
