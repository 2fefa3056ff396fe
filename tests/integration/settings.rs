//! `keysweep.toml` (found at the repository root, or `--config`), `.keysweepignore` (fingerprints
//! and path globs, or `--ignore-file`), `--fail-on`, and the project scanning itself clean.

use crate::support::*;

/// Two different private keys on one line (JSON-style `\n`-escaped PEM strings).
fn two_keys_on_one_line() -> String {
    format!(
        "keys = [\"{}\", \"{}\"]\n",
        pem_escaped(&p256_pem()),
        pem_escaped(&p256_pem())
    )
}

fn fingerprints(scan: &Scan) -> Vec<String> {
    scan.findings()
        .iter()
        .map(|f| f["fingerprint"].as_str().expect("fingerprint").to_string())
        .collect()
}

#[test]
fn a_fingerprint_silences_one_finding_and_not_another_secret_on_the_same_line() {
    let tree = Tree::new();
    tree.write("config/keys.json", two_keys_on_one_line());
    let all = tree.scan(&[]);
    all.assert_exit(1);
    let both = fingerprints(&all);
    assert_eq!(both.len(), 2, "{}", all.pretty());
    assert_eq!(all.sorted_paths(), ["config/keys.json", "config/keys.json"]);

    tree.write(
        ".keysweepignore",
        format!("# a throwaway key of the docs\n{}  # first key\n", both[0]),
    );
    let rest = tree.scan(&[]);
    rest.assert_exit(1);
    assert_eq!(fingerprints(&rest), [both[1].clone()], "{}", rest.pretty());
    assert_eq!(rest.locations()[0]["line"], 1);

    // Both listed: clean. The same through --ignore-file from elsewhere, and --no-config.
    tree.write(".keysweepignore", format!("{}\n{}\n", both[0], both[1]));
    tree.scan(&[]).assert_exit(0);
    let outside = Tree::new();
    let list = outside.write("list", format!("{}\n", both[1].to_uppercase()));
    let flagged = tree.scan(&["--no-config", "--ignore-file", list.to_str().unwrap()]);
    assert_eq!(fingerprints(&flagged), [both[0].clone()]);
}

#[test]
fn path_globs_silence_locations_under_them_only() {
    let tree = Tree::new();
    tree.git_init();
    let key = p256_pem();
    tree.write("fixtures/keys/a.pem", &key);
    tree.write("src/app.pem", p256_pem());
    tree.write("deep/x/throwaway.key", p256_pem());
    tree.write(".keysweepignore", "fixtures/\n*.key\n");
    let scan = tree.scan(&[]);
    scan.assert_exit(1);
    assert_eq!(scan.sorted_paths(), ["src/app.pem"], "{}", scan.pretty());

    // The same key elsewhere is still reported there (the glob drops a location, not a key).
    tree.write("src/copy.pem", &key);
    let scan = tree.scan(&[]);
    assert_eq!(scan.sorted_paths(), ["src/app.pem", "src/copy.pem"]);

    // Scanning a subdirectory: globs stay relative to the repository root.
    let sub = Ks::new("scan")
        .arg("fixtures")
        .format("json")
        .current_dir(tree.root())
        .run()
        .scan();
    sub.assert_exit(0);
}

#[test]
fn settings_file_at_the_repository_root_is_found_and_mirrors_the_flags() {
    let tree = Tree::new();
    tree.git_init();
    tree.write("docs/example.pem", p256_pem());
    tree.write("src/real.pem", p256_pem());
    tree.write(
        "keysweep.toml",
        "fail-on = \"critical\"\nmax-file-size = \"1M\"\n[allow]\npaths = [\"docs/\"]\n",
    );
    let scan = Ks::new("scan")
        .arg("src")
        .format("json")
        .current_dir(tree.root())
        .run()
        .scan();
    scan.assert_exit(1);
    let root = tree.scan(&[]);
    assert_eq!(root.sorted_paths(), ["src/real.pem"], "{}", root.pretty());
    // --no-config: the file is not read.
    let raw = tree.scan(&["--no-config"]);
    assert_eq!(raw.sorted_paths(), ["docs/example.pem", "src/real.pem"]);
    // An allow regex on the secret.
    tree.write("keysweep.toml", "[allow]\nregexes = [\"PRIVATE KEY\"]\n");
    let none = tree.scan(&[]);
    none.assert_exit(0);
    assert!(none.findings().is_empty(), "{}", none.pretty());
}

#[test]
fn an_unknown_settings_key_is_an_error_that_names_it() {
    let tree = Tree::new();
    tree.write("a.txt", "nothing here\n");
    tree.write("keysweep.toml", "fail-on = \"high\"\ncolour = true\n");
    let discovered = Ks::new("scan").arg(tree.root()).run();
    discovered.assert_exit(2);
    let stderr = discovered.stderr_str();
    assert!(stderr.contains("colour"), "{stderr}");
    assert!(stderr.contains("keysweep.toml"), "{stderr}");

    let other = Tree::new();
    let config = other.write("ks.toml", "[allow]\npath = [\"x\"]\n");
    let explicit = Ks::new("scan")
        .arg(tree.root())
        .arg("--config")
        .arg(&config)
        .run();
    explicit.assert_exit(2);
    assert!(
        explicit.stderr_str().contains("path"),
        "{}",
        explicit.stderr_str()
    );
}

#[test]
fn fail_on_sets_the_exit_threshold_and_keeps_reporting() {
    let tree = Tree::new();
    tree.write("k.pem", p256_pem());
    for (threshold, code) in [
        ("critical", 1),
        ("low", 1),
        ("unverified", 1),
        ("live", 0),
        ("signs-token", 0),
    ] {
        let scan = tree.scan(&["--fail-on", threshold]);
        assert_eq!(scan.code, code, "--fail-on {threshold}: {}", scan.stderr);
        assert_eq!(scan.findings().len(), 1, "still reported under {threshold}");
    }
    tree.write("keysweep.toml", "fail-on = \"live\"\n");
    tree.scan(&[]).assert_exit(0);
    tree.scan(&["--fail-on", "high"]).assert_exit(1);
    let bad = Ks::new("scan")
        .arg(tree.root())
        .args(["--fail-on", "severe"])
        .run();
    bad.assert_exit(2);
    assert!(bad.stderr_str().contains("severe"), "{}", bad.stderr_str());
}

#[test]
fn the_project_scans_itself_clean_with_its_own_ignore_file() {
    let root = env!("CARGO_MANIFEST_DIR");
    let scan = Ks::new("scan").arg(root).format("json").run().scan();
    assert_eq!(
        scan.code,
        0,
        "`keysweep scan .` of the repository must be clean (add throwaway keys to \
         .keysweepignore):\n{}",
        scan.pretty()
    );
    assert!(
        scan.json["stats"]["files_scanned"].as_u64().unwrap_or(0) > 50,
        "{}",
        scan.summary()
    );
}
