//! A synthetic home directory: dotfiles, shell histories, an SSH key, repositories (a key only
//! in an amended-away commit, a bare clone and a work-tree clone sharing a key), archives (a
//! PEM in a tar.gz in a zip, a zip bomb, a too-deep nesting), PKCS#12 stores (empty, common and
//! random password), a symlink loop, a FIFO, an unreadable directory and a file whose name is
//! not UTF-8.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use serde_json::{Value, json};

use super::planted;
use super::snapshot::{assert_unchanged, snapshot};
use std::time::Duration;

use crate::support::{
    Alg, Curve, Enc, Ks, Repo, Scan, Tree, gen_key, gen_ssh, hs_jwt, random_secret, run_measured,
    tool,
};

/// What was planted, to look for in the report.
struct Home {
    tree: Tree,
    bash_secret: String,
    zsh_secret: String,
    /// In an IntelliJ run configuration.
    ide_secret: String,
    token: String,
    ssh_thumbprint: String,
    amended_thumbprint: String,
    shared_thumbprint: String,
    unreadable_thumbprint: String,
    odd_name_thumbprint: String,
    nested_archive_thumbprint: String,
    deep_archive_thumbprint: String,
    /// Empty, common and random password.
    store_thumbprints: [String; 3],
    /// Whether the unreadable directory really is unreadable (not when running as root).
    unreadable: bool,
}

fn build_home() -> Home {
    let tree = Tree::new();
    let home = tree.root();
    tree.write(".bashrc", "alias ll='ls -l'\nexport EDITOR=vim\n");
    tree.write(".profile", "PATH=$HOME/bin:$PATH\n");

    let bash_secret = random_secret(32);
    let token = hs_jwt(
        "HS256",
        bash_secret.as_bytes(),
        &json!({"sub": "admin", "iat": 1_700_000_000}),
    );
    tree.write(
        ".bash_history",
        format!(
            "ls -la\nexport JWT_SECRET={bash_secret}\ncurl -H 'Authorization: Bearer {token}' https://api.example.test/me\n"
        ),
    );
    let zsh_secret = random_secret(32);
    tree.write(
        ".zsh_history",
        format!(": 1700000000:0;cd code\n: 1700000005:0;export JWT_SECRET={zsh_secret}\n"),
    );

    let ide_secret = random_secret(32);
    tree.write(
        "code/app/.idea/workspace.xml",
        format!(
            "<component name=\"RunManager\">\n  <configuration name=\"api\">\n    <envs>\n      <env name=\"JWT_SECRET\" value=\"{ide_secret}\" />\n    </envs>\n  </configuration>\n</component>\n"
        ),
    );

    let ssh = gen_ssh("ed25519", None, "");
    tree.write(".ssh/id_ed25519", &ssh.private);
    tree.write(".ssh/id_ed25519.pub", &ssh.public_line);

    // A key that exists only in a commit amended away.
    let amended = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let mut app = Repo::init(&home.join("code/app"));
    app.write("README.md", "app\n");
    app.write("deploy/signing.pem", &amended.pem);
    app.commit("add signing key");
    app.remove("deploy/signing.pem");
    app.git(&["commit", "-q", "--amend", "-m", "readme only"]);

    // The same key in a bare clone and a work-tree clone of a project outside the home.
    let shared = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let upstream_dir = tempfile::tempdir().expect("tempdir");
    let mut upstream = Repo::init(upstream_dir.path());
    upstream.write("keys/jwt.pem", &shared.pem);
    upstream.commit("jwt key");
    let source = upstream_dir.path().to_str().expect("utf8 path");
    tool(
        "git",
        &["clone", "-q", "--bare", source, "backups/app.git"],
        Some(home),
    );
    tool("git", &["clone", "-q", source, "code/app2"], Some(home));

    // A symbolic link loop, a FIFO, a link to a file.
    std::os::unix::fs::symlink("loop-b", home.join("loop-a")).expect("symlink");
    std::os::unix::fs::symlink("loop-a", home.join("loop-b")).expect("symlink");
    std::os::unix::fs::symlink(".ssh/id_ed25519", home.join("ssh-key-link")).expect("symlink");
    tool("mkfifo", &[home.join("pipe").to_str().expect("utf8")], None);

    // A directory the sweeping user cannot read.
    let hidden = gen_key(Alg::Ec(Curve::P384), Enc::Pkcs8);
    tree.write("private/hidden.pem", &hidden.pem);
    set_mode(&home.join("private"), 0o000);
    let unreadable = std::fs::read_dir(home.join("private")).is_err();

    // A file whose name is not UTF-8.
    let odd = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let odd_path = home.join(OsStr::from_bytes(b"notes-\xff\xfe.pem"));
    std::fs::write(odd_path, &odd.pem).expect("write odd name");

    let nested = planted::nested_archive(home);
    planted::zip_bomb(home);
    let deep = planted::deep_archive(home, 12);
    let stores = planted::key_stores(home);

    Home {
        tree,
        nested_archive_thumbprint: nested.thumbprint(),
        deep_archive_thumbprint: deep.thumbprint(),
        store_thumbprints: stores.map(|k| k.thumbprint()),
        bash_secret,
        zsh_secret,
        ide_secret,
        token,
        ssh_thumbprint: ssh.public.thumbprint(),
        amended_thumbprint: amended.thumbprint(),
        shared_thumbprint: shared.thumbprint(),
        unreadable_thumbprint: hidden.thumbprint(),
        odd_name_thumbprint: odd.thumbprint(),
        unreadable,
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn paths_of(finding: &Value) -> Vec<(String, String)> {
    finding["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| {
            (
                l["source"].as_str().unwrap_or_default().to_string(),
                l["path"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn one_key<'s>(scan: &'s Scan, thumbprint: &str, what: &str) -> &'s Value {
    let found = scan.with_thumbprint(thumbprint);
    assert_eq!(found.len(), 1, "{what}: one finding\n{}", scan.summary());
    found[0]
}

fn secret_finding<'s>(scan: &'s Scan, secret: &str) -> Option<&'s Value> {
    scan.findings()
        .into_iter()
        .find(|f| f["secret"].as_str() == Some(secret))
}

#[test]
fn a_home_directory_is_swept_completely_and_left_unchanged() {
    let home = build_home();
    let root = home.tree.root();
    let before = snapshot(root); // reads every file: access times are set after it
    // Access times older than the modification times: a plain read would update them even on a
    // `relatime` mount; the sweep opens with O_NOATIME and must leave them.
    let watched = [root.join(".ssh/id_ed25519"), root.join(".bash_history")];
    let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    for path in &watched {
        let file = std::fs::File::options()
            .write(true)
            .open(path)
            .expect("open");
        file.set_times(std::fs::FileTimes::new().set_accessed(old))
            .expect("set atime");
    }
    let measured = run_measured(
        Ks::new("sweep")
            .arg(root)
            .args(["--format", "json", "--no-config", "--show-secrets"]),
        Duration::from_secs(120),
    );
    eprintln!(
        "sweep of the synthetic home: {:.2} s, peak RSS {} MB",
        measured.elapsed.as_secs_f64(),
        measured.peak_rss_kb / 1024
    );
    assert!(
        measured.peak_rss_kb < 300 * 1024,
        "the zip bomb stays within the limits: peak RSS {} kB",
        measured.peak_rss_kb
    );
    let scan = measured.outcome.scan();
    scan.assert_exit(1);

    let nested = paths_of(one_key(
        &scan,
        &home.nested_archive_thumbprint,
        "nested archive",
    ));
    assert_eq!(
        nested,
        [(
            "archive".into(),
            "backups/bundle.zip!inner.tar.gz!keys/signing.pem".into()
        )]
    );
    for (thumbprint, path) in home.store_thumbprints[..2]
        .iter()
        .zip([".certs/empty.p12", ".certs/common.p12"])
    {
        let store = paths_of(one_key(&scan, thumbprint, path));
        assert_eq!(store, [("file".into(), path.into())]);
    }
    assert!(scan.with_thumbprint(&home.store_thumbprints[2]).is_empty());
    let locked = scan.at_path(".certs/locked.p12");
    assert!(
        locked.len() == 1 && locked[0]["rule"] == "private-key/keystore",
        "the locked store is reported as a key store: {locked:?}"
    );
    assert!(
        scan.with_thumbprint(&home.deep_archive_thumbprint)
            .is_empty()
    );

    let ssh = one_key(&scan, &home.ssh_thumbprint, "ssh key");
    assert!(paths_of(ssh).contains(&("file".into(), ".ssh/id_ed25519".into())));

    let amended = one_key(&scan, &home.amended_thumbprint, "amended-away key");
    assert!(
        paths_of(amended).contains(&("git".into(), "code/app/deploy/signing.pem".into())),
        "the amended-away key is found in code/app's history: {:?}",
        paths_of(amended)
    );

    let shared = paths_of(one_key(&scan, &home.shared_thumbprint, "shared key"));
    for expected in [
        ("git", "backups/app.git/keys/jwt.pem"),
        ("git", "code/app2/keys/jwt.pem"),
        ("file", "code/app2/keys/jwt.pem"),
    ] {
        assert!(
            shared.contains(&(expected.0.into(), expected.1.into())),
            "the shared key is one finding with {expected:?}: {shared:?}"
        );
    }

    let odd = paths_of(one_key(&scan, &home.odd_name_thumbprint, "odd name"));
    assert_eq!(odd, [("file".into(), "notes-\\xff\\xfe.pem".into())]);

    for (secret, path) in [
        (&home.bash_secret, ".bash_history"),
        (&home.zsh_secret, ".zsh_history"),
        (&home.ide_secret, "code/app/.idea/workspace.xml"),
    ] {
        let finding = secret_finding(&scan, secret)
            .unwrap_or_else(|| panic!("secret in {path} not found\n{}", scan.summary()));
        assert!(paths_of(finding).contains(&("file".into(), path.into())));
    }
    let bash = secret_finding(&scan, &home.bash_secret).expect("bash secret");
    assert_eq!(
        bash["verification"]["status"], "signs-token",
        "the exported secret signs the token pasted into curl: {bash}"
    );
    let token = secret_finding(&scan, &home.token)
        .unwrap_or_else(|| panic!("token in .bash_history not found\n{}", scan.summary()));
    assert!(paths_of(token).contains(&("file".into(), ".bash_history".into())));

    let skipped = scan.skipped_lines();
    let has_skip = |path: &str, reason: &str| {
        skipped
            .iter()
            .any(|line| line.starts_with(path) && line.contains(reason))
    };
    for (path, reason) in [
        ("pipe", "not a regular file"),
        ("loop-a", "symbolic link"),
        ("loop-b", "symbolic link"),
        ("ssh-key-link", "not followed"),
        ("Downloads/bomb.zip", "max_ratio"),
        (
            "Downloads/deep.zip!l2.zip!l3.zip!l4.zip!l5.zip!l6.zip",
            "nested deeper than 5",
        ),
    ] {
        assert!(
            has_skip(path, reason),
            "{path} listed as skipped ({reason}): {skipped:#?}"
        );
    }
    if home.unreadable {
        assert!(
            has_skip("private", "Permission denied"),
            "the unreadable directory is listed: {skipped:#?}"
        );
        assert!(scan.with_thumbprint(&home.unreadable_thumbprint).is_empty());
    } else {
        eprintln!(
            "running as root: the unreadable-directory case is skipped (root reads it; its key \
             is found instead)"
        );
        one_key(&scan, &home.unreadable_thumbprint, "key root can read");
    }
    let run = &scan.json["run"];
    assert_eq!(run["completed"], true, "{}", scan.pretty());
    assert!(run["host"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(run["roots"][0], root.to_str().expect("utf8"));

    for path in &watched {
        let accessed = std::fs::metadata(path)
            .and_then(|m| m.accessed())
            .expect("atime");
        assert_eq!(
            accessed,
            old,
            "{} was read without O_NOATIME",
            path.display()
        );
    }
    set_mode(&root.join("private"), 0o700);
    let mut after = snapshot(root);
    // The mode change above is ours: compare the rest.
    let private = root.join("private");
    after.insert(private.clone(), before[&private].clone());
    assert_unchanged(&before, &after);
}

#[test]
fn history_can_be_left_out_and_git_directories_are_never_walked_as_files() {
    let home = build_home();
    let root = home.tree.root();
    set_mode(&root.join("private"), 0o700);
    let scan = Ks::new("sweep")
        .arg(root)
        .args(["--format", "json", "--no-config", "--no-history"])
        .run()
        .scan();
    assert!(
        scan.with_thumbprint(&home.amended_thumbprint).is_empty(),
        "without history the amended-away key is not found"
    );
    assert!(
        scan.locations()
            .iter()
            .all(|l| l["source"] != "git" && !l["path"].as_str().unwrap_or("").contains(".git/")),
        "{}",
        scan.summary()
    );
    let shared = paths_of(one_key(&scan, &home.shared_thumbprint, "shared key"));
    assert_eq!(shared, [("file".into(), "code/app2/keys/jwt.pem".into())]);
}

#[test]
fn a_missing_root_is_an_error() {
    let tree = Tree::new();
    let out = Ks::new("sweep")
        .arg(tree.root().join("nope"))
        .args(["--no-config"])
        .run();
    out.assert_exit(2);
    assert!(
        out.stderr_str().contains("no such file"),
        "{}",
        out.stderr_str()
    );
}

#[test]
fn sarif_and_jsonl_carry_the_sweep_record() {
    let tree = Tree::new();
    let key = gen_key(Alg::Ed25519, Enc::Pkcs8);
    tree.write(".ssh/deploy.pem", &key.pem);
    let sarif_path = tree.root().join("..").join(format!(
        "{}.sarif",
        tree.root()
            .file_name()
            .and_then(OsStr::to_str)
            .unwrap_or("x")
    ));
    let out = Ks::new("sweep")
        .arg(tree.root())
        .args(["--no-config", "--format", "jsonl", "--report"])
        .arg(format!("sarif:{}", sarif_path.display()))
        .run();
    out.assert_exit(1);
    let last: Value =
        serde_json::from_str(out.stdout_str().lines().last().expect("a summary line"))
            .expect("json");
    assert_eq!(last["type"], "summary");
    assert_eq!(last["completed"], true);
    assert_eq!(last["mode"], "sweep");
    assert!(
        last["run"]["started"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
    let sarif: Value =
        serde_json::from_slice(&std::fs::read(&sarif_path).expect("sarif")).expect("json");
    std::fs::remove_file(&sarif_path).ok();
    crate::support::assert_valid_sarif(&sarif);
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    assert!(invocation["machine"].as_str().is_some());
}
