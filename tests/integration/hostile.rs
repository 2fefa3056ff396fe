//! Hostile input: no panic, no hidden key, no silent pass, no terminal injection, bounded work.
//! Each test is a regression test for a failure seen when the scanner was attacked.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

/// A dangling, truncated or commented `BEGIN` line before a real key used to swallow it.
#[test]
fn a_dangling_begin_line_does_not_hide_the_next_key() {
    let key = gen_key(Alg::Rsa(2048), Enc::Traditional);
    let prefixes = [
        "-----BEGIN RSA PRIVATE KEY-----\n".to_string(),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0truncated\n".to_string(),
        "// -----BEGIN RSA PRIVATE KEY-----\n".to_string(),
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n",
            "QUJDRA==\n".repeat(7000) // ~63 KB of a body that never ends
        ),
    ];
    let t = Tree::new();
    for (i, prefix) in prefixes.iter().enumerate() {
        t.write(&format!("case{i}.txt"), format!("{prefix}{}", key.pem));
    }
    let scan = t.scan(&[]);
    let found = scan.one_with_thumbprint(&key.thumbprint());
    let paths: Vec<&str> = found["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .filter_map(|l| l["path"].as_str())
        .collect();
    assert_eq!(paths, ["case0.txt", "case1.txt", "case2.txt", "case3.txt"]);

    // The same in history.
    let mut repo = Repo::init(t.root());
    repo.commit("keys after dangling headers");
    let history = Ks::new("git").arg(t.root()).format("json").run().scan();
    history.one_with_thumbprint(&key.thumbprint());
}

/// User rules that made the PEM detector (and `rules check`) panic are refused when loaded: exit
/// 2 with an error naming the file and the rule, for `scan` and for `rules check`.
#[test]
fn user_pem_rules_that_could_panic_the_detector_are_refused_at_load() {
    let cases = [
        (
            "user/empty-label",
            r"-----BEGIN (?P<label>(?:X )?)(?s:.*?)PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----",
            "group `label` can match the empty string",
        ),
        (
            "user/end-first",
            r"-----END PRIVATE KEY-----(?s:.{0,200})-----BEGIN (?P<label>PRIVATE KEY)-----",
            "-----END PRIVATE KEY----- -----BEGIN PRIVATE KEY-----",
            "every match must start with `-----BEGIN `",
        ),
    ];
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    for (id, regex, example, problem) in cases {
        let t = Tree::new();
        let config = t.write(
            "rules.toml",
            format!(
                "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\ndescription = \"d\"\n\
                 severity = \"high\"\nkeywords = [\"PRIVATE KEY\"]\nregex = '''{regex}'''\n\
                 detect = \"pem\"\nexamples = [\"{example}\"]\nnegative_examples = []\n"
            ),
        );
        t.write(
            "odd.txt",
            "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY----- x -----BEGIN PRIVATE KEY-----\n",
        );
        t.write("real.pem", &key.pem);
        for command in [
            Ks::new("scan").arg(t.root()).format("json"),
            Ks::new("rules").arg("check"),
        ] {
            let out = command.arg("--config").arg(&config).run();
            let stderr = out.stderr_str();
            assert!(!stderr.contains("panicked"), "{stderr}");
            assert_eq!(out.code, 2, "{id}: {stderr}");
            assert!(
                stderr.contains("rules.toml") && stderr.contains(id) && stderr.contains(problem),
                "{id}: {stderr}"
            );
        }
    }
}

/// 10,000 keys sharing one kid used to take seconds, gigabytes and 694 MB of output.
#[test]
fn jwks_audit_is_linear_in_duplicate_kids() {
    let t = Tree::new();
    let key = public_jwk(&gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8).public, "same");
    let keys: Vec<Value> = (0..10_000).map(|_| key.clone()).collect();
    let path = t.write("jwks.json", json!({ "keys": keys }).to_string());
    let started = Instant::now();
    let out = Ks::new("jwks").arg("audit").arg(&path).format("json").run();
    let elapsed = started.elapsed();
    out.assert_exit(1);
    let report = out.json();
    let duplicates: Vec<&Value> = report["defects"]
        .as_array()
        .expect("defects")
        .iter()
        .filter(|d| d["code"] == "duplicate-kid")
        .collect();
    assert_eq!(duplicates.len(), 1, "one defect per duplicated kid");
    let message = duplicates[0]["message"].as_str().unwrap_or("");
    assert!(message.contains("used by 10000 keys"), "{message}");
    assert!(
        out.stdout.len() < 8 << 20,
        "{} bytes of output",
        out.stdout.len()
    );
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    let human = Ks::new("jwks").arg("audit").arg(&path).run();
    assert!(
        human.stdout.len() < 64 << 10,
        "{} bytes",
        human.stdout.len()
    );
    assert!(human.stdout_str().contains("more key(s)"));
}

/// File names and token claims with control characters used to rewrite the terminal.
#[test]
fn control_characters_are_escaped_in_human_output() {
    let t = Tree::new();
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    t.write("x\x1b[8mhidden\r\n0 finding(s) -- all clean.pem", &key.pem);
    let token = hs_jwt(
        "HS256",
        random_secret(32).as_bytes(),
        &json!({"iss": "evil\x1b]0;title\x07", "sub": "a\rb"}),
    );
    t.write("token.txt", format!("{token}\n"));
    let out = Ks::new("scan").arg(t.root()).run();
    out.assert_exit(1);
    let text = out.stdout_str();
    assert!(!text.contains('\x1b') && !text.contains('\r') && !text.contains('\x07'));
    assert!(text.contains("x\\x1b[8mhidden\\r\\n0 finding(s)"), "{text}");
    // The same on stderr, where skipped names are warned about.
    let json = Ks::new("scan").arg(t.root()).format("json").run();
    assert!(!json.stderr_str().contains('\x1b'));
}

/// A file the user named that is not there is exit 2, even when nothing is found.
#[test]
fn missing_inputs_the_user_named_fail_closed() {
    let t = Tree::new();
    t.write("clean.txt", "nothing here\n");
    for flag in ["--tokens-file", "--jwks"] {
        let out = Ks::new("scan")
            .arg(t.root())
            .arg(flag)
            .arg(t.root().join("no-such-file"))
            .run();
        out.assert_exit(2);
        assert!(
            out.stderr_str().contains("no-such-file"),
            "{}",
            out.stderr_str()
        );
    }
}

#[test]
fn strict_makes_any_skip_an_error() {
    let t = Tree::new();
    t.write("big.txt", "x".repeat(2048));
    t.write("small.txt", "nothing\n");
    Ks::new("scan")
        .arg(t.root())
        .args(["--max-file-size", "1K"])
        .run()
        .assert_exit(0);
    let strict = Ks::new("scan")
        .arg(t.root())
        .args(["--max-file-size", "1K", "--strict"])
        .run();
    strict.assert_exit(2);
    assert!(
        strict.stderr_str().contains("--strict"),
        "{}",
        strict.stderr_str()
    );
}

#[cfg(unix)]
#[test]
fn reports_with_secrets_are_private_files() {
    use std::os::unix::fs::PermissionsExt as _;
    let t = Tree::new();
    t.write("a.pem", p256_pem());
    let shown = t.root().join("shown.json");
    let redacted = t.root().join("redacted.json");
    Ks::new("scan")
        .arg(t.root().join("a.pem"))
        .arg("--show-secrets")
        .arg("--report")
        .arg(format!("json:{}", shown.display()))
        .run()
        .assert_exit(1);
    Ks::new("scan")
        .arg(t.root().join("a.pem"))
        .arg("--report")
        .arg(format!("json:{}", redacted.display()))
        .run()
        .assert_exit(1);
    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode();
    assert_eq!(mode(&shown) & 0o777, 0o600);
    assert_ne!(
        mode(&redacted) & 0o077,
        0,
        "ordinary reports keep the umask"
    );
}

#[test]
fn utf16_text_is_scanned_like_utf8() {
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let t = Tree::new();
    for (name, bom, little) in [
        ("le.pem", [0xFF, 0xFE], true),
        ("be.pem", [0xFE, 0xFF], false),
    ] {
        let mut bytes = bom.to_vec();
        for unit in key.pem.encode_utf16() {
            bytes.extend(if little {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        t.write(name, bytes);
    }
    let scan = t.scan(&[]);
    let found = scan.one_with_thumbprint(&key.thumbprint());
    assert_eq!(found["locations"].as_array().map(Vec::len), Some(2));
}

/// URLs in scanned content (a token's `jku`/`x5u`, an `iss`, an issuer or JWKS URL in a config
/// file) are never fetched: only the key sets the user configured are.
#[test]
fn urls_in_scanned_content_cause_no_connection() {
    let server = Server::http();
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    server.route(
        "/configured/jwks",
        Reply::Json(jwks(&[public_jwk(&key.public, "k1")])),
    );
    for path in [
        "/jku",
        "/x5u",
        "/iss/.well-known/openid-configuration",
        "/config/jwks",
    ] {
        server.route(path, Reply::Json(jwks(&[public_jwk(&key.public, "k1")])));
    }
    let token = make_jwt(
        &json!({"alg": "RS256", "jku": server.url("/jku"), "x5u": server.url("/x5u"), "kid": "k1"}),
        &json!({"iss": server.url("/iss"), "sub": "admin"}),
        |_| vec![7; 64],
    );
    let t = Tree::new();
    t.write("key.pem", &key.pem);
    t.write("token.txt", format!("Authorization: Bearer {token}\n"));
    t.write(
        "settings.yml",
        format!(
            "issuer: {}\njwks_uri: {}\n",
            server.url("/iss"),
            server.url("/config/jwks")
        ),
    );
    let report = Ks::new("scan")
        .arg(t.root())
        .format("json")
        .arg("--jwks")
        .arg(server.url("/configured/jwks"))
        .run()
        .scan();
    assert_eq!(
        report.one_with_thumbprint(&key.thumbprint())["verification"]["status"],
        "live"
    );
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/configured/jwks"],
        "only the configured URL is fetched"
    );
}

/// Fail closed: a history none of whose commits can be read is an error (exit 2) naming the
/// commit, not a clean `0 finding(s)`.
#[test]
fn unreadable_history_is_exit_2() {
    let tmp = Tree::new();
    let mut repo = Repo::init(&tmp.root().join("r"));
    repo.write("a.txt", "one file\n");
    let commit = repo.commit("the only commit");
    repo.damage_loose_object(&commit);
    let out = Ks::new("git").arg(&repo.dir).format("json").run();
    out.assert_exit(2);
    let stderr = out.stderr_str();
    assert!(stderr.contains("no commit could be read"), "{stderr}");
    assert!(stderr.contains(&commit[..12]), "{stderr}");
}

/// Binary inputs are counted; `--verbose` also names each one (escaped) on stderr.
#[test]
fn verbose_names_binary_inputs() {
    let t = Tree::new();
    t.write("blob.bin", b"\x00\x01\x02 not text \x00");
    t.write("evil\x1b[2J.bin", b"\x00\x00");
    t.write("text.txt", "plain\n");
    let quiet = Ks::new("scan").arg(t.root()).format("json").run();
    quiet.assert_exit(0);
    assert_eq!(quiet.json()["stats"]["files_binary"], 2);
    assert!(
        !quiet.stderr_str().contains("binary"),
        "{}",
        quiet.stderr_str()
    );
    let verbose = Ks::new("scan")
        .arg(t.root())
        .format("json")
        .arg("--verbose")
        .run();
    verbose.assert_exit(0);
    let stderr = verbose.stderr_str();
    assert!(stderr.contains("binary, not scanned: blob.bin"), "{stderr}");
    assert!(
        stderr.contains("evil\\x1b[2J.bin") && !stderr.contains('\x1b'),
        "{stderr}"
    );
}

/// Paths hidden by `.gitignore`, `.ignore` and `.git/info/exclude` are counted in the summary of
/// every format (an ignored directory once; `.git` never); `--no-ignore` reads them.
#[test]
fn files_hidden_by_ignore_rules_are_counted_in_the_summary() {
    let t = Tree::new();
    t.git_init();
    t.write(".gitignore", "build/\n*.log\n!keep.log\n");
    t.write(".ignore", "tmp.txt\n");
    t.write(".git/info/exclude", "excluded.txt\n");
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    t.write("build/deep/k.pem", &key.pem);
    t.write("build/out.txt", "out\n");
    for path in [
        "x.log",
        "y.log",
        "tmp.txt",
        "excluded.txt",
        "src/deep/z.log",
    ] {
        t.write(path, "hidden\n");
    }
    for path in ["keep.log", "src/main.rs", "src/deep/lib.rs"] {
        t.write(path, "read\n");
    }
    // build/, x.log, y.log, tmp.txt, excluded.txt, src/deep/z.log
    const HIDDEN: u64 = 6;
    let reports = Tree::new();
    let sarif = reports.root().join("report.sarif");
    let jsonl = reports.root().join("report.jsonl");
    let out = Ks::new("scan")
        .arg(t.root())
        .format("json")
        .arg("--report")
        .arg(format!("sarif:{}", sarif.display()))
        .arg("--report")
        .arg(format!("jsonl:{}", jsonl.display()))
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr_str());
    let report = out.json();
    assert_eq!(report["stats"]["ignored"], HIDDEN, "{report:#}");
    assert_eq!(report["findings"], json!([]));
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("sarif")).expect("sarif json");
    assert_eq!(sarif["runs"][0]["properties"]["stats"]["ignored"], HIDDEN);
    let summary: Value = std::fs::read_to_string(&jsonl)
        .expect("jsonl")
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("jsonl line"))
        .find(|record| record["type"] == "summary")
        .expect("summary record");
    assert_eq!(summary["stats"]["ignored"], HIDDEN, "{summary}");
    let human = Ks::new("scan").arg(t.root()).format("human").run();
    assert!(
        human
            .stdout_str()
            .contains(&format!("; 0 skipped, {HIDDEN} ignored")),
        "{}",
        human.stdout_str()
    );
    let everything = t.scan(&["--no-ignore"]);
    assert_eq!(everything.json["stats"]["ignored"], 0);
    everything.one_with_thumbprint(&key.thumbprint());
}
