//! What a scan walks and how it reports it: skipped entries, odd file names, ignore rules,
//! hidden files, `.git/`, fingerprints and location order.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::support::*;

#[test]
fn fifo_and_broken_symlink_go_to_skipped_and_scan_goes_on() {
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let t = Tree::new();
    t.write("good/key.pem", &key.pem);
    tool(
        "mkfifo",
        &[t.root().join("pipe").to_str().expect("utf8")],
        None,
    );
    std::os::unix::fs::symlink("missing/target.pem", t.root().join("dangling.pem"))
        .expect("symlink");
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(&s, &key.public, false, &[loc_col("good/key.pem", 1, 1)]);
    let skipped = s.skipped();
    for p in ["pipe", "dangling.pem"] {
        let e = skipped.iter().find(|e| e["path"] == p);
        let e = e.unwrap_or_else(|| panic!("{p} must be in skipped\n{}", s.summary()));
        assert!(
            e["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "skipped entry has a reason: {e}"
        );
    }
}

#[test]
fn invalid_utf8_file_name_does_not_stop_the_scan() {
    let key = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let other = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let t = Tree::new();
    t.write("ok.pem", &key.pem);
    let bad = t.root().join(OsStr::from_bytes(b"bad-\xff\xfe-name.pem"));
    std::fs::write(&bad, &other.pem).expect("write invalid utf8 name");
    let s = t.scan(&[]);
    s.assert_exit(1);
    assert_key_finding(&s, &key.public, false, &[loc_col("ok.pem", 1, 1)]);
    // The odd file is either reported (path shown lossily) or listed in skipped; never dropped silently.
    let reported = !s.with_thumbprint(&other.thumbprint()).is_empty();
    let skipped = s
        .skipped()
        .iter()
        .any(|e| e["path"].as_str().is_some_and(|p| p.starts_with("bad-")));
    assert!(
        reported || skipped,
        "file with an invalid UTF-8 name neither reported nor skipped\n{}",
        s.summary()
    );
}

#[test]
fn gitignored_files_skipped_by_default_scanned_with_no_ignore() {
    let a = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let b = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let c = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let t = Tree::new();
    t.git_init();
    t.write(".gitignore", "secrets/\n*.local.pem\n");
    t.write("secrets/a.pem", &a.pem);
    t.write("config/dev.local.pem", &b.pem);
    t.write("config/c.pem", &c.pem);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(&s, &c.public, false, &[loc_col("config/c.pem", 1, 1)]);
    let s = t.scan(&["--no-ignore"]);
    s.assert_exit(1);
    s.assert_count(3);
    assert_key_finding(&s, &a.public, false, &[loc_col("secrets/a.pem", 1, 1)]);
    assert_key_finding(
        &s,
        &b.public,
        false,
        &[loc_col("config/dev.local.pem", 1, 1)],
    );
    assert_key_finding(&s, &c.public, false, &[loc_col("config/c.pem", 1, 1)]);
}

#[test]
fn hidden_files_are_scanned() {
    let rsa = gen_key(Alg::Rsa(2048), Enc::Traditional);
    let v = random_secret(40);
    let t = Tree::new();
    t.write(".ssh/id_rsa", &rsa.pem);
    let env = format!("JWT_SECRET={v}\n");
    t.write(".env", &env);
    let s = t.scan(&["--show-secrets"]);
    s.assert_exit(1);
    s.assert_count(2);
    assert_key_finding(&s, &rsa.public, false, &[loc_col(".ssh/id_rsa", 1, 1)]);
    let h = s.one_with_rule("secret/hmac");
    assert_eq!(h["secret"], v.as_str());
    assert_locations(&s, h, &[loc_col(".env", 1, 12)]);
}

#[test]
fn dot_git_is_never_walked() {
    let inside = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let outside = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let gh = random_secret(40);
    let t = Tree::new();
    t.git_init();
    t.write(".git/leaked/key.pem", &inside.pem);
    t.write(
        ".git/info/secret.env",
        format!("JWT_SECRET={}\n", random_secret(40)),
    );
    t.write("src/key.pem", &outside.pem);
    // .github is not .git: it is walked.
    let wf = format!("env:\n  JWT_SECRET: {gh}\n");
    t.write(".github/workflows/deploy.yml", &wf);
    for extra in [&[][..], &["--no-ignore"][..]] {
        let s = t.scan(extra);
        s.assert_exit(1);
        for f in s.findings() {
            for l in f["locations"].as_array().into_iter().flatten() {
                let p = l["path"].as_str().unwrap_or("");
                assert!(
                    !(p == ".git" || p.starts_with(".git/")),
                    "{extra:?}: .git/ must not be walked: {p}\n{}",
                    s.summary()
                );
            }
        }
        s.assert_count(2);
        assert_key_finding(&s, &outside.public, false, &[loc_col("src/key.pem", 1, 1)]);
        let h = s.one_with_rule("secret/hmac");
        assert_locations(&s, h, &[loc_of(".github/workflows/deploy.yml", &wf, &gh)]);
    }
}

#[test]
fn fingerprint_is_stable_across_paths_and_trees() {
    let key = gen_key(Alg::Ec(Curve::P384), Enc::Pkcs8);
    let other = gen_key(Alg::Ec(Curve::P384), Enc::Pkcs8);
    let t1 = Tree::new();
    t1.write("a.pem", &key.pem);
    let t2 = Tree::new();
    t2.write("deep/er/path/key.txt", format!("\n\n\nnotes\n{}", key.pem));
    t2.write("o.pem", &other.pem);
    let s1 = t1.scan(&[]);
    let s2 = t2.scan(&[]);
    let f1 = s1.one_with_thumbprint(&key.thumbprint());
    let f2 = s2.one_with_thumbprint(&key.thumbprint());
    let fo = s2.one_with_thumbprint(&other.thumbprint());
    assert_eq!(
        f1["fingerprint"], f2["fingerprint"],
        "same key, different path/line: same fingerprint"
    );
    assert_ne!(
        f1["fingerprint"], fo["fingerprint"],
        "different keys, different fingerprints"
    );
}

#[test]
fn locations_sorted_by_path_then_line() {
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let t = Tree::new();
    let text = format!("first copy:\n\n{}\nsecond copy:\n{}", key.pem, key.pem);
    let second_line = text
        .lines()
        .position(|l| l == "second copy:")
        .expect("marker") as u64
        + 2;
    t.write("b.pem", &key.pem);
    t.write("a/notes.txt", &text);
    t.write("c/z.pem", &key.pem);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(
        &s,
        &key.public,
        false,
        &[
            loc_col("a/notes.txt", 3, 1),
            loc_col("a/notes.txt", second_line, 1),
            loc_col("b.pem", 1, 1),
            loc_col("c/z.pem", 1, 1),
        ],
    );
}

/// Files over --max-file-size are listed in `skipped` and the rest of the tree is still scanned.
#[test]
fn files_over_the_size_cap_are_skipped_and_listed() {
    let t = Tree::new();
    t.write(
        "big.env",
        format!(
            "{}\nJWT_SECRET=0a1b2c3d4e5f60718293a4b5c6d7e8f9\n",
            "x".repeat(4096)
        ),
    );
    t.write("small.env", "JWT_SECRET=9f8e7d6c5b4a39281706f5e4d3c2b1a0\n");
    let s = t.scan(&["--max-file-size", "1K"]);
    s.assert_exit(1);
    let skipped = s.skipped();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["path"], "big.env");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("--max-file-size")
    );
    assert_eq!(s.location_paths(), vec!["small.env"]);
}
