//! `keysweep git`: history scans over repositories built with `git` at test time.
//!
//! Keys come from `openssl genpkey` at run time; commit ids from `git rev-parse`; author and
//! dates are fixed through the GIT_AUTHOR_* / GIT_COMMITTER_* environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

mod git_support;
use git_support::{gen_key, require};

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

/// A repository driven by `git` with deterministic identities and dates.
struct Repo {
    dir: PathBuf,
    /// Seconds added to the base date for the next commit.
    clock: u64,
}

const BASE_EPOCH: u64 = 1_600_000_000; // 2020-09-13T12:26:40Z

impl Repo {
    fn init(dir: &Path) -> Repo {
        require("git");
        std::fs::create_dir_all(dir).unwrap();
        let repo = Repo {
            dir: dir.to_path_buf(),
            clock: 0,
        };
        repo.git(&["-c", "init.defaultBranch=main", "init", "-q"]);
        repo
    }

    fn date(&self) -> String {
        format!("{} +0200", BASE_EPOCH + self.clock * 60)
    }

    fn command(&self, args: &[&str]) -> Command {
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

    /// Stage everything and commit; returns the new commit id.
    fn commit(&mut self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.clock += 1;
        self.rev("HEAD")
    }

    fn rev(&self, spec: &str) -> String {
        self.git(&["rev-parse", spec]).trim().to_string()
    }

    fn author_date(&self, commit: &str) -> String {
        self.git(&["log", "-1", "--format=%aI", commit])
            .trim()
            .to_string()
    }
}

fn keysweep(args: &[&str], cwd: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keysweep"));
    cmd.args(args)
        .stdin(Stdio::null())
        .env_remove("GIT_INDEX_FILE");
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    cmd.output().expect("run keysweep")
}

struct Report {
    json: Value,
    code: i32,
    stderr: String,
}

impl Report {
    fn findings(&self) -> &Vec<Value> {
        self.json["findings"].as_array().unwrap()
    }

    fn skipped(&self) -> Vec<String> {
        self.json["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{}: {}",
                    s["path"].as_str().unwrap(),
                    s["reason"].as_str().unwrap()
                )
            })
            .collect()
    }

    /// All locations of all findings.
    fn locations(&self) -> Vec<&Value> {
        self.findings()
            .iter()
            .flat_map(|f| f["locations"].as_array().unwrap())
            .collect()
    }

    fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self
            .locations()
            .iter()
            .map(|l| l["path"].as_str().unwrap().to_string())
            .collect();
        paths.sort();
        paths
    }
}

fn scan(repo: &Path, extra: &[&str]) -> Report {
    let repo = repo.to_str().unwrap();
    let mut args = vec!["git", repo, "--format", "json"];
    args.extend_from_slice(extra);
    let out = keysweep(&args, None);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON from keysweep git (exit {code}): {e}\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    Report { json, code, stderr }
}

fn location_at<'a>(report: &'a Report, path: &str) -> &'a Value {
    report
        .locations()
        .into_iter()
        .find(|l| l["path"] == path)
        .unwrap_or_else(|| panic!("no location at {path}: {:#}", report.json))
}

// ---------------------------------------------------------------------------
// tests
// ---------------------------------------------------------------------------

#[test]
fn key_committed_then_deleted_is_found_with_provenance() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("deploy/signing.pem", &key);
    let added = repo.commit("add key");
    std::fs::remove_file(repo.dir.join("deploy/signing.pem")).unwrap();
    repo.commit("remove key");
    repo.write("README.md", "hello again\n");
    repo.commit("later");

    let report = scan(&repo.dir, &[]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    assert_eq!(report.findings().len(), 1, "{:#}", report.json);
    let finding = &report.findings()[0];
    assert_eq!(finding["rule"], "private-key/ec");
    let loc = location_at(&report, "deploy/signing.pem");
    assert_eq!(loc["source"], "git");
    assert_eq!(loc["commit"], added.as_str());
    assert_eq!(loc["author"], "Ada Author <ada@example.com>");
    assert_eq!(loc["date"], repo.author_date(&added).as_str());
    assert_eq!(loc["date"], "2020-09-13T14:27:40+02:00");
    assert_eq!(loc["line"], 1);
    assert_eq!(loc["commits"], 1);
    let blob = repo.git(&["rev-parse", &format!("{added}:deploy/signing.pem")]);
    assert_eq!(loc["blob"], blob.trim());
}

#[test]
fn amended_away_key_is_found_only_with_all_objects() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("app.txt", "v1\n");
    repo.commit("initial");
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("secret.pem", &key);
    let leaked = repo.commit("oops");
    std::fs::remove_file(repo.dir.join("secret.pem")).unwrap();
    repo.write("app.txt", "v2\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "-m", "clean"]);
    assert_ne!(repo.rev("HEAD"), leaked);

    let default = scan(&repo.dir, &[]);
    assert_eq!(default.code, 0, "{:#}", default.json);
    assert!(default.findings().is_empty());

    let forensic = scan(&repo.dir, &["--all-objects"]);
    assert_eq!(forensic.code, 1, "{}", forensic.stderr);
    assert_eq!(forensic.findings().len(), 1, "{:#}", forensic.json);
    let loc = location_at(&forensic, "secret.pem");
    assert_eq!(loc["commit"], leaked.as_str());
    assert_eq!(loc["author"], "Ada Author <ada@example.com>");

    // Packed too (the reflog keeps the amended-away commit in the pack).
    repo.git(&["repack", "-a", "-d", "-q"]);
    let packed = scan(&repo.dir, &["--all-objects"]);
    assert_eq!(
        location_at(&packed, "secret.pem")["commit"],
        leaked.as_str()
    );
    assert!(scan(&repo.dir, &[]).findings().is_empty());
}

#[test]
fn dangling_blob_is_reported_unreachable() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("app.txt", "v1\n");
    repo.commit("initial");
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("staged-once.pem", &key);
    repo.git(&["add", "staged-once.pem"]);
    repo.git(&["rm", "-q", "--cached", "staged-once.pem"]);
    std::fs::remove_file(repo.dir.join("staged-once.pem")).unwrap();

    assert!(scan(&repo.dir, &[]).findings().is_empty());
    let forensic = scan(&repo.dir, &["--all-objects"]);
    assert_eq!(forensic.findings().len(), 1, "{:#}", forensic.json);
    let loc = &forensic.locations()[0];
    assert!(
        loc["path"].as_str().unwrap().starts_with("unreachable/"),
        "{loc:#}"
    );
    assert!(loc["commit"].is_null());
}

#[test]
fn same_key_in_fifty_commits_is_one_finding() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("keys/id.pem", &key);
    let first = repo.commit("add key");
    for i in 0..49 {
        repo.write("counter.txt", &format!("{i}\n"));
        repo.commit(&format!("commit {i}"));
    }
    let report = scan(&repo.dir, &[]);
    assert_eq!(report.findings().len(), 1, "{:#}", report.json);
    assert_eq!(report.locations().len(), 1);
    let loc = location_at(&report, "keys/id.pem");
    assert_eq!(loc["commit"], first.as_str());
    // `commits`: how many commits carry the blob.
    assert_eq!(loc["commits"], 50);

    // The same blob introduced again and again (copied to a new path in 50 commits): still one
    // finding and one location, at the earliest introduction, with the count.
    let tmp2 = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp2.path().join("r"));
    let mut first = String::new();
    for i in 0..50 {
        repo.write(&format!("copies/{i:02}.pem"), &key);
        let id = repo.commit(&format!("copy {i}"));
        if i == 0 {
            first = id;
        }
    }
    let report = scan(&repo.dir, &[]);
    assert_eq!(report.findings().len(), 1, "{:#}", report.json);
    assert_eq!(report.locations().len(), 1, "{:#}", report.json);
    let loc = &report.locations()[0];
    assert_eq!(loc["path"], "copies/00.pem");
    assert_eq!(loc["commit"], first.as_str());
    assert_eq!(loc["commits"], 50);
}

#[test]
fn key_in_a_file_edited_by_many_commits_is_one_finding() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = gen_key(tmp.path(), "k.pem");
    let mut first = String::new();
    for i in 0..50 {
        repo.write("config/app.env", &format!("VERSION={i}\n{key}"));
        let id = repo.commit(&format!("bump {i}"));
        if i == 0 {
            first = id;
        }
    }
    let report = scan(&repo.dir, &[]);
    assert_eq!(report.findings().len(), 1, "{:#}", report.json);
    let locations = report.locations();
    // One location per distinct blob; the earliest is the first commit.
    assert_eq!(locations.len(), 50);
    assert!(locations.iter().any(|l| l["commit"] == first.as_str()));
}

#[test]
fn range_scan_finds_what_the_range_added_and_nothing_older() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let old_key = gen_key(tmp.path(), "old.pem");
    repo.write("old.pem", &old_key);
    repo.commit("old key on main");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let new_key = gen_key(tmp.path(), "new.pem");
    repo.write("src/new.pem", &new_key);
    let added = repo.commit("feature adds key");
    let transient = gen_key(tmp.path(), "transient.pem");
    repo.write("tmp/transient.pem", &transient);
    let transient_commit = repo.commit("add transient");
    std::fs::remove_file(repo.dir.join("tmp/transient.pem")).unwrap();
    repo.write("old.pem", &format!("{old_key}\n# touched\n"));
    repo.commit("remove transient, touch old");

    let report = scan(&repo.dir, &["--range", "main..feature"]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    let paths = report.paths();
    assert_eq!(
        paths,
        vec!["old.pem", "src/new.pem", "tmp/transient.pem"],
        "{:#}",
        report.json
    );
    assert_eq!(
        location_at(&report, "src/new.pem")["commit"],
        added.as_str()
    );
    assert_eq!(
        location_at(&report, "tmp/transient.pem")["commit"],
        transient_commit.as_str()
    );
    // old.pem's new blob still contains the old key (the range changed the file), but the
    // blob main already had is not scanned: only one location for it, in the range.
    let old = location_at(&report, "old.pem");
    assert_ne!(old["commit"], repo.rev("main").as_str());

    // A range that adds nothing: clean.
    let none = scan(&repo.dir, &["--range", "feature..feature"]);
    assert_eq!(none.code, 0);
    assert!(none.findings().is_empty());

    // HEAD defaults when omitted; a bad range is an error (exit 2).
    let default_head = scan(&repo.dir, &["--range", "main.."]);
    assert_eq!(default_head.paths(), paths);
    let bad = keysweep(
        &[
            "git",
            repo.dir.to_str().unwrap(),
            "--range",
            "nosuchbranch..HEAD",
        ],
        None,
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nosuchbranch"));
}

#[test]
fn merge_commits_do_not_reintroduce_branch_blobs() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("a.txt", "a\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "side"]);
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("side.pem", &key);
    let side = repo.commit("side key");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("b.txt", "b\n");
    repo.commit("main work");
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    let report = scan(&repo.dir, &[]);
    let loc = location_at(&report, "side.pem");
    assert_eq!(
        loc["commit"],
        side.as_str(),
        "introduced on the side branch"
    );
    assert_eq!(
        loc["commits"], 2,
        "carried by the side commit and the merge"
    );
}

#[test]
fn bare_repository_and_other_refs() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("a.txt", "a\n");
    repo.commit("base");
    let tagged_key = gen_key(tmp.path(), "t.pem");
    repo.git(&["checkout", "-q", "-b", "tmp"]);
    repo.write("tagged.pem", &tagged_key);
    let tagged = repo.commit("tagged only");
    repo.git(&["tag", "-a", "-m", "release", "v1"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "tmp"]);
    // A stash holding a key.
    let stash_key = gen_key(tmp.path(), "s.pem");
    repo.write("a.txt", &format!("a\n{stash_key}"));
    repo.git(&["stash", "-q"]);

    let report = scan(&repo.dir, &[]);
    assert_eq!(report.findings().len(), 2, "{:#}", report.json);
    assert_eq!(
        location_at(&report, "tagged.pem")["commit"],
        tagged.as_str()
    );
    location_at(&report, "a.txt");

    let bare = tmp.path().join("bare.git");
    Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(&repo.dir)
        .arg(&bare)
        .output()
        .unwrap();
    let report = scan(&bare, &[]);
    // A bare clone has the tag but not the stash.
    assert_eq!(report.paths(), vec!["tagged.pem"], "{:#}", report.json);
    assert_eq!(
        location_at(&report, "tagged.pem")["commit"],
        tagged.as_str()
    );
}

#[test]
fn shallow_clone_is_scanned_and_said_to_be_shallow() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("key.pem", &key);
    repo.commit("key");
    repo.write("b.txt", "b\n");
    repo.commit("two");
    repo.write("c.txt", "c\n");
    let head = repo.commit("three");
    let shallow = tmp.path().join("shallow");
    let url = format!("file://{}", repo.dir.display());
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&shallow)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shallow.join(".git/shallow").exists());

    let report = scan(&shallow, &[]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    let loc = location_at(&report, "key.pem");
    // The boundary commit is the only one there: it carries everything.
    assert_eq!(loc["commit"], head.as_str());
    assert!(
        report.skipped().iter().any(|s| s.contains("shallow")),
        "{:?}",
        report.skipped()
    );
}

#[test]
fn multi_pack_index_repository() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key1 = gen_key(tmp.path(), "1.pem");
    repo.write("one.pem", &key1);
    let c1 = repo.commit("one");
    repo.git(&["repack", "-d", "-q"]);
    let key2 = gen_key(tmp.path(), "2.pem");
    repo.write("two.pem", &key2);
    let c2 = repo.commit("two");
    repo.git(&["repack", "-d", "-q"]);
    repo.git(&["multi-pack-index", "write"]);
    let pack_dir = repo.dir.join(".git/objects/pack");
    assert!(pack_dir.join("multi-pack-index").exists());
    let packs = std::fs::read_dir(&pack_dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pack")
        })
        .count();
    assert!(packs >= 2, "{packs} packs");
    // No loose objects left: everything must come from the packs behind the MIDX.
    repo.git(&["prune-packed"]);
    let loose = repo.git(&["count-objects"]);
    assert!(loose.starts_with("0 objects"), "{loose}");

    let report = scan(&repo.dir, &[]);
    assert_eq!(
        report.paths(),
        vec!["one.pem", "two.pem"],
        "{:#}",
        report.json
    );
    assert_eq!(location_at(&report, "one.pem")["commit"], c1.as_str());
    assert_eq!(location_at(&report, "two.pem")["commit"], c2.as_str());
    assert!(report.skipped().is_empty(), "{:?}", report.skipped());
}

#[test]
fn corrupt_loose_object_is_a_warning_and_the_scan_finishes() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("good.pem", &key);
    repo.write("broken.txt", "this blob will be damaged\n");
    repo.commit("two files");
    let blob = repo.rev("HEAD:broken.txt");
    let object = repo
        .dir
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let mut bytes = std::fs::read(&object).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..] {
        *b = 0xAA;
    }
    make_writable(&object);
    std::fs::write(&object, bytes).unwrap();

    let report = scan(&repo.dir, &[]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    assert_eq!(report.paths(), vec!["good.pem"]);
    assert!(
        report.skipped().iter().any(|s| s.contains(&blob)),
        "warning must name the object: {:?}",
        report.skipped()
    );
    assert!(report.stderr.contains(&blob), "{}", report.stderr);
}

#[test]
fn truncated_pack_is_a_warning_and_the_scan_finishes() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("good.pem", &key);
    for i in 0..20 {
        repo.write(
            &format!("filler/{i}.txt"),
            &format!("{}\n", "x".repeat(200 + i)),
        );
    }
    repo.commit("content");
    repo.git(&["repack", "-a", "-d", "-q"]);
    let pack = std::fs::read_dir(repo.dir.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .unwrap();
    let bytes = std::fs::read(&pack).unwrap();
    make_writable(&pack);
    std::fs::write(&pack, &bytes[..bytes.len() * 2 / 3]).unwrap();

    let out = keysweep(
        &["git", repo.dir.to_str().unwrap(), "--format", "json"],
        None,
    );
    let code = out.status.code();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(code, Some(0) | Some(1)), "exit {code:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("a report");
    let skipped = json["skipped"].as_array().unwrap();
    assert!(!skipped.is_empty(), "{json:#}");
    // Some warning names an object id or the pack.
    assert!(
        skipped.iter().any(|s| {
            let text = format!("{}{}", s["path"], s["reason"]);
            text.contains(".pack") || text.chars().filter(|c| c.is_ascii_hexdigit()).count() >= 40
        }),
        "{json:#}"
    );
}

#[test]
fn not_a_repository_is_exit_2_with_a_clear_error() {
    let tmp = TempDir::new().unwrap();
    let out = keysweep(&["git", tmp.path().to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a git repository"), "{stderr}");
    let missing = tmp.path().join("nope");
    let out = keysweep(&["git", missing.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn lfs_pointers_are_skipped_and_submodules_noted() {
    let tmp = TempDir::new().unwrap();
    let mut sub = Repo::init(&tmp.path().join("sub"));
    sub.write("s.txt", "s\n");
    sub.commit("sub");
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write(
        "big.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    );
    repo.commit("lfs");
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        sub.dir.to_str().unwrap(),
        "vendor/sub",
    ]);
    repo.commit("submodule");
    let report = scan(&repo.dir, &[]);
    let skipped = report.skipped();
    assert!(
        skipped
            .iter()
            .any(|s| s.starts_with("big.bin") && s.contains("git-lfs pointer")),
        "{skipped:?}"
    );
    assert!(
        skipped
            .iter()
            .any(|s| s.starts_with("vendor/sub") && s.contains("not followed")),
        "{skipped:?}"
    );
}

#[test]
fn subdirectory_of_a_work_tree_scans_the_repository() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("a/b/key.pem", &key);
    repo.commit("key");
    let report = scan(&repo.dir.join("a/b"), &[]);
    assert_eq!(report.paths(), vec!["a/b/key.pem"]);
}

fn make_writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn scan_of_a_work_tree_reads_only_the_files() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("old.pem", &key);
    repo.commit("key");
    std::fs::remove_file(repo.dir.join("old.pem")).unwrap();
    repo.write("a.txt", "a\n");
    repo.commit("gone");
    // History has the key; the files do not: `scan` does not read .git.
    let out = keysweep(
        &["scan", repo.dir.to_str().unwrap(), "--format", "json"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(scan(&repo.dir, &[]).paths(), vec!["old.pem"]);
}

#[test]
fn file_and_history_findings_carry_the_same_git_blob_id() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("deploy/k.pem", &key);
    repo.commit("key");
    let expected = String::from_utf8(
        repo.command(&["hash-object", "deploy/k.pem"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let out = keysweep(
        &["scan", repo.dir.to_str().unwrap(), "--format", "json"],
        None,
    );
    let files: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file_location = &files["findings"][0]["locations"][0];
    assert_eq!(file_location["blob"], Value::String(expected.clone()));
    let history = scan(&repo.dir, &[]);
    assert_eq!(
        location_at(&history, "deploy/k.pem")["blob"],
        Value::String(expected)
    );
    assert_eq!(
        files["findings"][0]["fingerprint"],
        history.findings()[0]["fingerprint"]
    );
}

#[test]
fn packed_history_is_read_by_the_pack_traversal_not_the_fallback() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    for i in 0..30 {
        repo.write(&format!("src/file{i}.txt"), &format!("line {i}\n"));
        repo.commit(&format!("c{i}"));
    }
    let key = gen_key(tmp.path(), "k.pem");
    repo.write("deploy/k.pem", &key);
    repo.commit("key");
    repo.git(&["gc", "-q", "--aggressive"]);
    let report = scan(&repo.dir, &[]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    assert_eq!(report.paths(), vec!["deploy/k.pem"]);
    let fallbacks: Vec<String> = report
        .skipped()
        .into_iter()
        .filter(|s| s.contains("pack traversal failed"))
        .collect();
    assert!(fallbacks.is_empty(), "{fallbacks:?}");
}
