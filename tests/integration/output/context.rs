//! Context and severity: every location says where it is (code, config, test, docs, example,
//! vendor); a finding's severity is its kind's, lowered by the context of its most exposed
//! location unless verification proved it in use; human, JSON, JSON Lines and SARIF agree, and
//! `--min-severity` leaves out (and does not fail on) what is below it.

use serde_json::{Value, json};

use crate::support::*;

/// Each file holds its own freshly generated RSA key, so each is its own finding.
fn keys_in(paths: &[&str]) -> Tree {
    let t = Tree::new();
    for path in paths {
        let key = gen_key(Alg::Rsa(2048), Enc::Traditional);
        let text = if path.ends_with(".md") {
            format!("# Setup\n\n```\n{}```\n", key.pem)
        } else {
            key.pem.clone()
        };
        t.write(path, text);
    }
    t
}

/// The one finding whose (only or first) location is at `path`.
fn finding_at<'s>(scan: &'s Scan, path: &str) -> &'s Value {
    let found = scan.at_path(path);
    assert_eq!(found.len(), 1, "one finding at {path}: {}", scan.pretty());
    found[0]
}

#[test]
fn each_location_has_its_context_and_the_severity_follows_it() {
    let cases = [
        ("config/production.pem", "config", "critical"),
        ("src/signing.pem", "code", "critical"),
        ("README.md", "docs", "high"),
        ("examples/app/key.pem", "example", "high"),
        ("tests/fixtures/key.pem", "test", "medium"),
        ("vendor/lib/key.pem", "vendor", "medium"),
    ];
    let paths: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let t = keys_in(&paths);
    let scan = t.scan(&[]);
    scan.assert_count(cases.len());
    for (path, context, severity) in cases {
        let f = finding_at(&scan, path);
        assert_eq!(f["rule"], "private-key/rsa", "{path}");
        assert_eq!(f["locations"][0]["context"], context, "{path}");
        assert_eq!(f["severity"], severity, "{path}: {}", scan.pretty());
    }
    // Most urgent first: the two critical keys lead the report.
    let first: Vec<&str> = scan.findings()[..2]
        .iter()
        .map(|f| f["severity"].as_str().expect("severity"))
        .collect();
    assert_eq!(first, ["critical", "critical"], "{}", scan.pretty());
}

#[test]
fn the_most_exposed_location_decides_and_each_location_keeps_its_own_context() {
    let t = Tree::new();
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    t.write("tests/fixtures/signing.pem", &key.pem);
    t.write("deploy/signing.pem", &key.pem);
    let scan = t.scan(&[]);
    scan.assert_count(1);
    let f = scan.one_with_rule("private-key/ec");
    assert_eq!(f["severity"], "critical", "{}", scan.pretty());
    let contexts: Vec<(&str, &str)> = f["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| {
            (
                l["path"].as_str().expect("path"),
                l["context"].as_str().expect("context"),
            )
        })
        .collect();
    assert!(contexts.contains(&("tests/fixtures/signing.pem", "test")));
    assert!(contexts.contains(&("deploy/signing.pem", "code")));

    // The same key only in tests is two levels lower.
    let only_tests = Tree::new();
    only_tests.write("tests/fixtures/signing.pem", &key.pem);
    let scan = only_tests.scan(&[]);
    assert_eq!(scan.one_with_rule("private-key/ec")["severity"], "medium");
}

#[test]
fn min_severity_leaves_out_and_does_not_fail_on_what_is_below_it() {
    let t = keys_in(&["config/production.pem", "tests/fixtures/key.pem"]);
    let scan = t.scan(&["--min-severity", "high"]);
    scan.assert_count(1);
    assert_eq!(
        scan.findings()[0]["locations"][0]["path"],
        "config/production.pem"
    );
    assert_eq!(scan.json["stats"]["findings"], 1, "{}", scan.pretty());
    scan.assert_exit(1);

    // Only a test key: nothing at or above high, so nothing reported and exit 0.
    let tests_only = keys_in(&["tests/fixtures/key.pem"]);
    let scan = tests_only.scan(&["--min-severity", "HIGH"]);
    scan.assert_count(0);
    scan.assert_exit(0);
    // Without the option it is reported (and fails the run).
    let scan = tests_only.scan(&[]);
    scan.assert_count(1);
    scan.assert_exit(1);

    // A severity --fail-on below --min-severity is raised to it; above it, it stays.
    let scan = tests_only.scan(&["--min-severity", "high", "--fail-on", "low"]);
    scan.assert_exit(0);
    let scan = t.scan(&["--min-severity", "low", "--fail-on", "critical"]);
    scan.assert_count(2);
    scan.assert_exit(1);

    let bad = Ks::new("scan")
        .arg(t.root())
        .args(["--min-severity", "urgent"])
        .run();
    bad.assert_exit(2);
    assert!(
        bad.stderr_str().contains("min-severity urgent"),
        "{}",
        bad.stderr_str()
    );
}

#[test]
fn human_jsonl_and_sarif_follow_the_context() {
    let t = keys_in(&["config/production.pem", "tests/fixtures/key.pem"]);
    let secret = random_secret(40);
    t.write("spec/support/.env", format!("JWT_SECRET={secret}\n"));

    let human = Ks::new("scan").arg(t.root()).run().stdout_str();
    assert!(human.contains("(pem-pkcs1, config)"), "{human}");
    assert!(human.contains("(pem-pkcs1, test)"), "{human}");
    assert!(human.contains("MEDIUM RSA private key"), "{human}");
    assert!(human.contains("CRITICAL RSA private key"), "{human}");
    assert!(human.contains("LOW Symmetric secret"), "{human}");

    let jsonl = Ks::new("scan")
        .arg(t.root())
        .format("jsonl")
        .run()
        .stdout_str();
    let records: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl record"))
        .collect();
    let severity_of = |path: &str| {
        records
            .iter()
            .filter(|r| r["type"] == "finding" || r["type"] == "update")
            .filter(|r| r["locations"][0]["path"] == path)
            .map(|r| r["severity"].as_str().expect("severity").to_string())
            .next_back()
            .unwrap_or_else(|| panic!("no record at {path}: {jsonl}"))
    };
    assert_eq!(severity_of("config/production.pem"), "critical");
    assert_eq!(severity_of("tests/fixtures/key.pem"), "medium");
    assert_eq!(severity_of("spec/support/.env"), "low");
    let summary = records.last().expect("summary");
    assert_eq!(
        summary["by_severity"],
        json!({"critical": 1, "medium": 1, "low": 1}),
        "{jsonl}"
    );

    let sarif = Ks::new("scan").arg(t.root()).format("sarif").run().json();
    assert_valid_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let level_at = |path: &str| {
        let r = results
            .iter()
            .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == path)
            .unwrap_or_else(|| panic!("no result at {path}"));
        (
            r["level"].as_str().expect("level").to_string(),
            r["properties"]["context"]
                .as_str()
                .expect("context")
                .to_string(),
        )
    };
    assert_eq!(
        level_at("config/production.pem"),
        ("error".into(), "config".into())
    );
    assert_eq!(
        level_at("tests/fixtures/key.pem"),
        ("warning".into(), "test".into())
    );
    assert_eq!(
        level_at("spec/support/.env"),
        ("note".into(), "test".into())
    );
}

#[test]
fn a_proven_secret_stays_critical_wherever_it_is() {
    let t = Tree::new();
    let secret = random_secret(40);
    t.write("tests/fixtures/.env", format!("JWT_SECRET={secret}\n"));
    let token = hs_jwt("HS256", secret.as_bytes(), &json!({"sub": "u1"}));
    let scan = t.scan(&["--token", &token]);
    let f = scan.one_with_rule("secret/hmac");
    assert_eq!(
        f["verification"]["status"],
        "signs-token",
        "{}",
        scan.pretty()
    );
    assert_eq!(f["locations"][0]["context"], "test");
    assert_eq!(f["severity"], "critical");
    // Unproven, the same secret in the same place is low.
    let scan = t.scan(&[]);
    assert_eq!(scan.one_with_rule("secret/hmac")["severity"], "low");
}

#[test]
fn token_severities_are_coherent_across_algorithms() {
    let t = Tree::new();
    let claims = json!({"sub": "u1", "iss": "https://issuer.example"});
    let unsigned = make_jwt(&json!({"alg": "none", "typ": "JWT"}), &claims, |_| {
        Vec::new()
    });
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let rs256 = make_jwt(
        &json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}),
        &claims,
        |input| rs256_sign(&key.pem, input),
    );
    let weak = hs_jwt("HS256", b"your-256-bit-secret", &claims);
    t.write("src/unsigned.js", format!("const t = '{unsigned}';\n"));
    t.write("src/rs256.js", format!("const t = '{rs256}';\n"));
    t.write("src/weak.js", format!("const t = '{weak}';\n"));
    let scan = t.scan(&[]);
    let severity = |path: &str| {
        finding_at(&scan, path)["severity"]
            .as_str()
            .map(String::from)
    };
    // Unsigned proves nothing; a token is a bearer credential; a forgeable one is worse.
    assert_eq!(
        severity("src/unsigned.js").as_deref(),
        Some("low"),
        "{}",
        scan.pretty()
    );
    assert_eq!(severity("src/rs256.js").as_deref(), Some("medium"));
    assert_eq!(severity("src/weak.js").as_deref(), Some("high"));
}

#[test]
fn min_severity_in_the_settings_file_mirrors_the_flag() {
    let t = keys_in(&["tests/fixtures/a.pem", "deploy/b.pem"]);
    t.write("keysweep.toml", "min-severity = \"high\"\n");
    let scan = t.scan(&[]);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let paths = scan.sorted_paths();
    assert_eq!(paths, ["deploy/b.pem"], "{}", scan.pretty());
    // The flag wins over the file.
    let scan = t.scan(&["--min-severity", "low"]);
    assert_eq!(scan.sorted_paths().len(), 2, "{}", scan.pretty());
    t.write("keysweep.toml", "min-severity = \"urgent\"\n");
    let bad = Ks::new("scan").arg(t.root()).run();
    bad.assert_exit(2);
    assert!(
        bad.stderr_str().contains("min-severity urgent"),
        "{}",
        bad.stderr_str()
    );
}
