//! `keysweep git`: history scans over repositories built with `git` at test time.
//!
//! Keys come from `openssl genpkey` at run time; commit ids from `git rev-parse`; author and
//! dates are fixed through the GIT_AUTHOR_* / GIT_COMMITTER_* environment.

use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use crate::support::*;

/// `keysweep git DIR --format json EXTRA...`.
fn history(dir: &Path, extra: &[&str]) -> Scan {
    Ks::new("git")
        .arg(dir)
        .format("json")
        .args(extra)
        .run()
        .scan()
}

fn make_writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn key_committed_then_deleted_is_found_with_provenance() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    let key = p256_pem();
    repo.write("deploy/signing.pem", &key);
    let added = repo.commit("add key");
    repo.remove("deploy/signing.pem");
    repo.commit("remove key");
    repo.write("README.md", "hello again\n");
    repo.commit("later");

    let report = history(&repo.dir, &[]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    assert_eq!(report.findings().len(), 1, "{:#}", report.json);
    let finding = &report.findings()[0];
    assert_eq!(finding["rule"], "private-key/ec");
    let loc = report.location_at("deploy/signing.pem");
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
    let key = p256_pem();
    repo.write("secret.pem", &key);
    let leaked = repo.commit("oops");
    repo.remove("secret.pem");
    repo.write("app.txt", "v2\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "-m", "clean"]);
    assert_ne!(repo.rev("HEAD"), leaked);

    let default = history(&repo.dir, &[]);
    assert_eq!(default.code, 0, "{:#}", default.json);
    assert!(default.findings().is_empty());

    let forensic = history(&repo.dir, &["--all-objects"]);
    assert_eq!(forensic.code, 1, "{}", forensic.stderr);
    assert_eq!(forensic.findings().len(), 1, "{:#}", forensic.json);
    let loc = forensic.location_at("secret.pem");
    assert_eq!(loc["commit"], leaked.as_str());
    assert_eq!(loc["author"], "Ada Author <ada@example.com>");

    // Packed too (the reflog keeps the amended-away commit in the pack).
    repo.git(&["repack", "-a", "-d", "-q"]);
    let packed = history(&repo.dir, &["--all-objects"]);
    assert_eq!(packed.location_at("secret.pem")["commit"], leaked.as_str());
    assert!(history(&repo.dir, &[]).findings().is_empty());
}

#[test]
fn dangling_blob_is_reported_unreachable() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("app.txt", "v1\n");
    repo.commit("initial");
    let key = p256_pem();
    repo.write("staged-once.pem", &key);
    repo.git(&["add", "staged-once.pem"]);
    repo.git(&["rm", "-q", "--cached", "staged-once.pem"]);
    repo.remove("staged-once.pem");

    assert!(history(&repo.dir, &[]).findings().is_empty());
    let forensic = history(&repo.dir, &["--all-objects"]);
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
    let key = p256_pem();
    repo.write("keys/id.pem", &key);
    let first = repo.commit("add key");
    for i in 0..49 {
        repo.write("counter.txt", &format!("{i}\n"));
        repo.commit(&format!("commit {i}"));
    }
    let report = history(&repo.dir, &[]);
    assert_eq!(report.findings().len(), 1, "{:#}", report.json);
    assert_eq!(report.locations().len(), 1);
    let loc = report.location_at("keys/id.pem");
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
    let report = history(&repo.dir, &[]);
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
    let key = p256_pem();
    let mut first = String::new();
    for i in 0..50 {
        repo.write("config/app.env", &format!("VERSION={i}\n{key}"));
        let id = repo.commit(&format!("bump {i}"));
        if i == 0 {
            first = id;
        }
    }
    let report = history(&repo.dir, &[]);
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
    let old_key = p256_pem();
    repo.write("old.pem", &old_key);
    repo.commit("old key on main");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let new_key = p256_pem();
    repo.write("src/new.pem", &new_key);
    let added = repo.commit("feature adds key");
    let transient = p256_pem();
    repo.write("tmp/transient.pem", &transient);
    let transient_commit = repo.commit("add transient");
    repo.remove("tmp/transient.pem");
    repo.write("old.pem", &format!("{old_key}\n# touched\n"));
    repo.commit("remove transient, touch old");

    let report = history(&repo.dir, &["--range", "main..feature"]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    let paths = report.sorted_paths();
    assert_eq!(
        paths,
        vec!["old.pem", "src/new.pem", "tmp/transient.pem"],
        "{:#}",
        report.json
    );
    assert_eq!(report.location_at("src/new.pem")["commit"], added.as_str());
    assert_eq!(
        report.location_at("tmp/transient.pem")["commit"],
        transient_commit.as_str()
    );
    // old.pem's new blob still contains the old key (the range changed the file), but the
    // blob main already had is not scanned: only one location for it, in the range.
    let old = report.location_at("old.pem");
    assert_ne!(old["commit"], repo.rev("main").as_str());

    // A range that adds nothing: clean.
    let none = history(&repo.dir, &["--range", "feature..feature"]);
    assert_eq!(none.code, 0);
    assert!(none.findings().is_empty());

    // HEAD defaults when omitted; a bad range is an error (exit 2).
    let default_head = history(&repo.dir, &["--range", "main.."]);
    assert_eq!(default_head.sorted_paths(), paths);
    let bad = Ks::new("git")
        .arg(&repo.dir)
        .args(["--range", "nosuchbranch..HEAD"])
        .run();
    bad.assert_exit(2);
    assert!(bad.stderr_str().contains("nosuchbranch"));
}

#[test]
fn merge_commits_do_not_reintroduce_branch_blobs() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    repo.write("a.txt", "a\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "side"]);
    let key = p256_pem();
    repo.write("side.pem", &key);
    let side = repo.commit("side key");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("b.txt", "b\n");
    repo.commit("main work");
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    let report = history(&repo.dir, &[]);
    let loc = report.location_at("side.pem");
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
    let tagged_key = p256_pem();
    repo.git(&["checkout", "-q", "-b", "tmp"]);
    repo.write("tagged.pem", &tagged_key);
    let tagged = repo.commit("tagged only");
    repo.git(&["tag", "-a", "-m", "release", "v1"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "tmp"]);
    // A stash holding a key.
    let stash_key = p256_pem();
    repo.write("a.txt", &format!("a\n{stash_key}"));
    repo.git(&["stash", "-q"]);

    let report = history(&repo.dir, &[]);
    assert_eq!(report.findings().len(), 2, "{:#}", report.json);
    assert_eq!(report.location_at("tagged.pem")["commit"], tagged.as_str());
    report.location_at("a.txt");

    let bare = tmp.path().join("bare.git");
    repo.git(&[
        "clone",
        "-q",
        "--bare",
        repo.dir.to_str().expect("utf-8 path"),
        bare.to_str().expect("utf-8 path"),
    ]);
    let report = history(&bare, &[]);
    // A bare clone has the tag but not the stash.
    assert_eq!(
        report.sorted_paths(),
        vec!["tagged.pem"],
        "{:#}",
        report.json
    );
    assert_eq!(report.location_at("tagged.pem")["commit"], tagged.as_str());
}

#[test]
fn shallow_clone_is_scanned_and_said_to_be_shallow() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = p256_pem();
    repo.write("key.pem", &key);
    repo.commit("key");
    repo.write("b.txt", "b\n");
    repo.commit("two");
    repo.write("c.txt", "c\n");
    let head = repo.commit("three");
    let shallow = tmp.path().join("shallow");
    let url = format!("file://{}", repo.dir.display());
    repo.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        &url,
        shallow.to_str().expect("utf-8 path"),
    ]);
    assert!(shallow.join(".git/shallow").exists());

    let report = history(&shallow, &[]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    let loc = report.location_at("key.pem");
    // The boundary commit is the only one there: it carries everything.
    assert_eq!(loc["commit"], head.as_str());
    assert!(
        report.skipped_lines().iter().any(|s| s.contains("shallow")),
        "{:?}",
        report.skipped_lines()
    );
}

#[test]
fn multi_pack_index_repository() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key1 = p256_pem();
    repo.write("one.pem", &key1);
    let c1 = repo.commit("one");
    repo.git(&["repack", "-d", "-q"]);
    let key2 = p256_pem();
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

    let report = history(&repo.dir, &[]);
    assert_eq!(
        report.sorted_paths(),
        vec!["one.pem", "two.pem"],
        "{:#}",
        report.json
    );
    assert_eq!(report.location_at("one.pem")["commit"], c1.as_str());
    assert_eq!(report.location_at("two.pem")["commit"], c2.as_str());
    assert!(
        report.skipped_lines().is_empty(),
        "{:?}",
        report.skipped_lines()
    );
}

#[test]
fn corrupt_loose_object_is_a_warning_and_the_scan_finishes() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = p256_pem();
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

    let report = history(&repo.dir, &[]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    assert_eq!(report.sorted_paths(), vec!["good.pem"]);
    assert!(
        report.skipped_lines().iter().any(|s| s.contains(&blob)),
        "warning must name the object: {:?}",
        report.skipped_lines()
    );
    assert!(report.stderr.contains(&blob), "{}", report.stderr);
}

#[test]
fn truncated_pack_is_a_warning_and_the_scan_finishes() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = p256_pem();
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

    let out = Ks::new("git").arg(&repo.dir).format("json").run();
    let code = out.code;
    let stderr = out.stderr_str();
    assert!(matches!(code, 0 | 1), "exit {code:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = out.json();
    let skipped = json["skipped"].as_array().expect("skipped");
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
    let out = Ks::new("git").arg(tmp.path()).run();
    out.assert_exit(2);
    let stderr = out.stderr_str();
    assert!(stderr.contains("not a git repository"), "{stderr}");
    let missing = tmp.path().join("nope");
    Ks::new("git").arg(missing).run().assert_exit(2);
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
    let report = history(&repo.dir, &[]);
    let skipped = report.skipped_lines();
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
    let key = p256_pem();
    repo.write("a/b/key.pem", &key);
    repo.commit("key");
    let report = history(&repo.dir.join("a/b"), &[]);
    assert_eq!(report.sorted_paths(), vec!["a/b/key.pem"]);
}

#[test]
fn scan_of_a_work_tree_reads_only_the_files() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = p256_pem();
    repo.write("old.pem", &key);
    repo.commit("key");
    repo.remove("old.pem");
    repo.write("a.txt", "a\n");
    repo.commit("gone");
    // History has the key; the files do not: `scan` does not read .git.
    let out = Ks::new("scan").arg(&repo.dir).format("json").run();
    assert_eq!(out.code, 0, "{}", out.stdout_str());
    assert_eq!(history(&repo.dir, &[]).sorted_paths(), vec!["old.pem"]);
}

#[test]
fn file_and_history_findings_carry_the_same_git_blob_id() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("r"));
    let key = p256_pem();
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
    let files = Ks::new("scan").arg(&repo.dir).format("json").run().json();
    let file_location = &files["findings"][0]["locations"][0];
    assert_eq!(file_location["blob"], Value::String(expected.clone()));
    let in_history = history(&repo.dir, &[]);
    assert_eq!(
        in_history.location_at("deploy/k.pem")["blob"],
        Value::String(expected)
    );
    assert_eq!(
        files["findings"][0]["fingerprint"],
        in_history.findings()[0]["fingerprint"]
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
    let key = p256_pem();
    repo.write("deploy/k.pem", &key);
    repo.commit("key");
    repo.git(&["gc", "-q", "--aggressive"]);
    let report = history(&repo.dir, &[]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    assert_eq!(report.sorted_paths(), vec!["deploy/k.pem"]);
    let fallbacks: Vec<String> = report
        .skipped_lines()
        .into_iter()
        .filter(|s| s.contains("pack traversal failed"))
        .collect();
    assert!(fallbacks.is_empty(), "{fallbacks:?}");
}
