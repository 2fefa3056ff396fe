//! Output contract: SARIF validity and GitHub's required fields, redaction in every format,
//! jsonl, -o, exit codes, skipped entries, ignore rules, hidden files and `.git/`.

mod context;
mod walk;

use std::path::Path;

use serde_json::{Value, json};

use crate::support::*;

const ALL_KINDS: &[&str] = &[
    "private-key/rsa",
    "private-key/ec",
    "private-key/ed25519",
    "private-key/dsa",
    "private-key/pgp",
    "private-key/encrypted",
    "secret/hmac",
    "jwt/token",
];

/// `keysweep scan ROOT --format FMT EXTRA...`.
fn run_format(root: &Path, fmt: &str, extra: &[&str]) -> Outcome {
    Ks::new("scan").arg(root).format(fmt).args(extra).run()
}

/// A tree with one of each common kind. Returns (tree, secrets): the secret strings that must
/// never be printed by default, as 12-character windows, plus what --show-secrets must reveal.
struct Leaky {
    tree: Tree,
    /// Windows of private material that must not appear in any default output.
    windows: Vec<(String, String)>,
    /// Strings that `--show-secrets` json must contain.
    revealed: Vec<String>,
}

fn leaky_tree() -> Leaky {
    let t = Tree::new();
    let mut windows: Vec<(String, String)> = Vec::new();
    let mut revealed: Vec<String> = Vec::new();
    let mut public_text: Vec<String> = Vec::new();

    // RSA PKCS#1 file.
    let rsa = gen_key(Alg::Rsa(2048), Enc::Traditional);
    t.write("deploy/a.pem", &rsa.pem);
    public_text.extend(rsa.public.public_strings());
    add_body("rsa pkcs1 body", &rsa.body_lines(), 24, &mut windows);
    revealed.extend(rsa.body_lines());

    // EC SEC1 file.
    let ec = gen_key(Alg::Ec(Curve::P256), Enc::Traditional);
    t.write("deploy/ec.key", &ec.pem);
    public_text.extend(ec.public.public_strings());
    add_body("ec sec1 body", &ec.body_lines(), 12, &mut windows);
    revealed.extend(ec.body_lines());

    // Ed25519 PKCS#8 escaped in JSON.
    let ed = gen_key(Alg::Ed25519, Enc::Pkcs8);
    t.write(
        "config/signing.json",
        format!("{{\"privateKey\": \"{}\"}}\n", pem_escaped(&ed.pem)),
    );
    public_text.extend(ed.public.public_strings());
    // The whole Ed25519 PKCS#8 body is one 64-char line: 16 chars of header, then the seed.
    add_body(
        "ed25519 pkcs8 (escaped) body",
        &ed.body_lines(),
        16,
        &mut windows,
    );

    // Private JWK (RSA) in a .ts literal: the private members are secret.
    let jk = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    public_text.extend(jk.public.public_strings());
    let m = |k: &str| jk.jwk[k].as_str().expect("member").to_string();
    t.write(
        "src/key.ts",
        format!(
            "export const k = {{\n  kty: 'RSA',\n  n: '{}',\n  e: '{}',\n  d: '{}',\n  p: '{}',\n  q: '{}',\n  dp: '{}',\n  dq: '{}',\n  qi: '{}',\n}};\n",
            m("n"), m("e"), m("d"), m("p"), m("q"), m("dp"), m("dq"), m("qi")
        ),
    );
    for member in ["d", "p", "q", "dp", "dq", "qi"] {
        for win in windows_of(&m(member), 5) {
            windows.push((format!("jwk.{member}"), win));
        }
    }

    // OpenSSH Ed25519.
    let ssh = gen_ssh("ed25519", None, "");
    t.write(".ssh/id_ed25519", &ssh.private);
    public_text.extend(ssh.public.public_strings());
    public_text.push(ssh.public_line.clone());
    add_body(
        "openssh body",
        &pem_body_lines(&ssh.private),
        0,
        &mut windows,
    );

    // Base64-wrapped PEM in a Kubernetes Secret (skip the part that encodes the BEGIN line).
    let k8 = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    public_text.extend(k8.public.public_strings());
    let wrapped = pem_base64(&k8.pem);
    t.write(
        "k8s/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\ndata:\n  key.pem: {wrapped}\n"),
    );
    for win in windows_of(&wrapped[64..], 7) {
        windows.push(("k8s base64 pem".into(), win));
    }

    // HMAC secret in .env and a JWT.
    let hmac = random_secret(48);
    t.write(".env", format!("PORT=3000\nJWT_SECRET={hmac}\n"));
    for win in windows_of(&hmac, 1) {
        windows.push(("hmac .env value".into(), win));
    }
    revealed.push(hmac.clone());
    let token = make_jwt(
        &json!({"alg":"RS256","typ":"JWT","kid":"k-1"}),
        &json!({"iss":"https://issuer.example","sub":"u1","exp":1893456000}),
        |i| rs256_sign(&rsa.pem, i),
    );
    t.write("docs/call.http", format!("Authorization: Bearer {token}\n"));
    let sig = token.rsplit('.').next().expect("sig").to_string();
    for win in windows_of(&sig, 4) {
        windows.push(("jwt signature".into(), win));
    }
    revealed.push(token);

    // Drop any window that also occurs in public material (which output may show).
    windows.retain(|(_, w)| !public_text.iter().any(|p| p.contains(w.as_str())));
    assert!(
        windows.len() > 300,
        "enough windows to test: {}",
        windows.len()
    );
    Leaky {
        tree: t,
        windows,
        revealed,
    }
}

/// Windows of each body line (skipping the first `skip_first` structural chars of line one).
fn add_body(label: &str, lines: &[String], skip_first: usize, w: &mut Vec<(String, String)>) {
    for (i, l) in lines.iter().enumerate() {
        let l = if i == 0 && l.len() > skip_first {
            &l[skip_first..]
        } else {
            l.as_str()
        };
        for win in windows_of(l, 3) {
            w.push((label.to_string(), win));
        }
    }
}

fn assert_no_windows(label: &str, out: &str, windows: &[(String, String)]) {
    let leaks: Vec<&(String, String)> = windows
        .iter()
        .filter(|(_, w)| out.contains(w.as_str()))
        .collect();
    assert!(
        leaks.is_empty(),
        "{label}: {} secret substring(s) leaked, e.g. {:?}\n--- output (first 3000 bytes) ---\n{}",
        leaks.len(),
        leaks.iter().take(5).collect::<Vec<_>>(),
        &out[..out.len().min(3000)]
    );
}
#[test]
fn no_secret_substring_in_any_format_by_default() {
    let l = leaky_tree();
    let root = l.tree.root();
    for fmt in ["human", "json", "jsonl", "sarif"] {
        let r = run_format(root, fmt, &[]);
        assert_eq!(
            r.code,
            1,
            "--format {fmt} exit code; stderr: {}",
            r.stderr_str()
        );
        assert!(!r.stdout.is_empty(), "--format {fmt} printed nothing");
        assert_no_windows(
            &format!("--format {fmt} stdout"),
            &r.stdout_str(),
            &l.windows,
        );
        assert_no_windows(
            &format!("--format {fmt} stderr"),
            &r.stderr_str(),
            &l.windows,
        );
    }
    // Also through -o FILE.
    let out = Tree::new();
    for fmt in ["json", "sarif"] {
        let file = out.root().join(format!("report.{fmt}"));
        let r = run_format(root, fmt, &["-o", file.to_str().expect("utf8")]);
        assert_eq!(r.code, 1, "-o exit code");
        let text = read_string(&file);
        assert_no_windows(&format!("-o FILE ({fmt})"), &text, &l.windows);
    }
    // The same scan with --show-secrets shows them: the test can see secrets when they are there.
    let s = l.tree.scan(&["--show-secrets"]);
    s.assert_exit(1);
    let text = serde_json::to_string(&s.json).expect("json");
    let all: String = s
        .findings()
        .iter()
        .map(|f| f["secret"].as_str().unwrap_or("").to_string())
        .collect::<Vec<_>>()
        .join("\n");
    for r in &l.revealed {
        assert!(
            all.contains(r.as_str()),
            "--show-secrets: json `secret` fields must contain {r:?}\n{}",
            s.summary()
        );
    }
    let seen = l
        .windows
        .iter()
        .filter(|(_, w)| text.contains(w.as_str()))
        .count();
    assert!(
        seen * 2 > l.windows.len(),
        "--show-secrets should reveal most secret windows ({seen}/{})",
        l.windows.len()
    );
}

#[test]
fn sarif_validates_against_schema_and_has_github_fields() {
    let l = leaky_tree();
    let root = l.tree.root();
    let r = run_format(root, "sarif", &[]);
    assert_eq!(r.code, 1, "exit code; stderr: {}", r.stderr_str());
    let sarif = r.json();
    assert_valid_sarif(&sarif);

    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "keysweep");
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("driver.rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    for k in ALL_KINDS {
        assert!(
            ids.contains(k),
            "SARIF rules must include {k}; have {ids:?}"
        );
    }
    for rule in rules {
        let id = &rule["id"];
        for f in ["shortDescription", "fullDescription", "help"] {
            assert!(
                rule[f]["text"].as_str().is_some_and(|s| !s.is_empty()),
                "rule {id}: {f}.text"
            );
        }
        let tags: Vec<&str> = rule["properties"]["tags"]
            .as_array()
            .unwrap_or_else(|| panic!("rule {id}: properties.tags"))
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        assert!(tags.contains(&"security"), "rule {id}: tags {tags:?}");
        let sev = rule["properties"]["security-severity"]
            .as_str()
            .unwrap_or_else(|| panic!("rule {id}: security-severity must be a string"));
        let n: f64 = sev
            .parse()
            .unwrap_or_else(|_| panic!("rule {id}: security-severity {sev:?} is a number"));
        assert!(
            (0.0..=10.0).contains(&n),
            "rule {id}: security-severity {n}"
        );
    }
    let results = run["results"].as_array().expect("results");
    let json = l.tree.scan(&[]);
    assert!(
        results.len() >= json.findings().len(),
        "one result per finding at least: {} results, {} findings",
        results.len(),
        json.findings().len()
    );
    let mut uris = Vec::new();
    for res in results {
        let rid = res["ruleId"].as_str().expect("ruleId");
        assert!(ids.contains(&rid), "result ruleId {rid} is a declared rule");
        assert!(res["message"]["text"].is_string(), "message.text: {res}");
        let pf = res["partialFingerprints"]
            .as_object()
            .unwrap_or_else(|| panic!("partialFingerprints: {res}"));
        assert!(!pf.is_empty(), "partialFingerprints non-empty: {res}");
        let locs = res["locations"].as_array().expect("locations");
        assert!(!locs.is_empty(), "result has locations: {res}");
        for loc in locs {
            let pl = &loc["physicalLocation"];
            let uri = pl["artifactLocation"]["uri"].as_str().expect("uri");
            assert!(
                !uri.starts_with('/') && !uri.contains("://") && !uri.starts_with("file:"),
                "uri must be relative: {uri}"
            );
            assert!(!uri.contains('\\'), "uri uses '/': {uri}");
            let rg = &pl["region"];
            for k in ["startLine", "startColumn", "endLine", "endColumn"] {
                assert!(
                    rg[k].as_u64().is_some_and(|v| v >= 1),
                    "region.{k} must be a 1-based integer: {rg}"
                );
            }
            assert!(
                rg["endLine"].as_u64() >= rg["startLine"].as_u64(),
                "region end after start: {rg}"
            );
            uris.push((
                uri.to_string(),
                rg["startLine"].as_u64().unwrap_or(0),
                rid.to_string(),
            ));
        }
    }
    assert!(
        uris.contains(&("deploy/a.pem".to_string(), 1, "private-key/rsa".to_string())),
        "SARIF has the PEM at deploy/a.pem:1: {uris:?}"
    );
    assert!(
        uris.iter()
            .any(|(u, _, r)| u == ".env" && r == "secret/hmac"),
        "SARIF has the .env secret: {uris:?}"
    );
    assert_no_windows("sarif", &r.stdout_str(), &l.windows);
}

#[test]
fn jsonl_is_one_record_per_line() {
    let l = leaky_tree();
    let root = l.tree.root();
    let json = l.tree.scan(&[]);
    let r = run_format(root, "jsonl", &[]);
    assert_eq!(r.code, 1);
    let records: Vec<Value> = r
        .stdout_str()
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("jsonl line is not JSON ({e}): {line}"))
        })
        .collect();
    let last = records.last().expect("a summary record");
    assert_eq!(last["type"], "summary", "the last record is the summary");
    assert_eq!(last["completed"], true);
    assert_eq!(
        last["findings"].as_u64(),
        Some(json.findings().len() as u64)
    );
    let mut got: Vec<(String, String)> = Vec::new();
    for v in &records[..records.len() - 1] {
        match v["type"].as_str() {
            Some("finding") => {
                assert_finding_shape(v);
                got.push((
                    v["rule"].as_str().unwrap_or("").into(),
                    v["fingerprint"].as_str().unwrap_or("").into(),
                ));
            }
            Some("update") => assert!(v["fingerprint"].is_string(), "{v}"),
            other => panic!("unexpected record type {other:?}: {v}"),
        }
    }
    let mut want: Vec<(String, String)> = json
        .findings()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").into(),
                f["fingerprint"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "jsonl finding records == json findings");
}

#[test]
fn output_file_option_writes_the_report() {
    let key = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let t = Tree::new();
    t.write("k.pem", &key.pem);
    let out = Tree::new();
    let file = out.root().join("report.json");
    let r = run_format(t.root(), "json", &["-o", file.to_str().expect("utf8")]);
    assert_eq!(r.code, 1, "exit code with -o: {}", r.stderr_str());
    assert!(
        !r.stdout_str().contains("\"findings\""),
        "with -o the report goes to the file, not stdout"
    );
    let v: Value = serde_json::from_str(&read_string(&file)).expect("report json");
    assert_eq!(
        v["findings"][0]["key"]["thumbprint"],
        key.thumbprint().as_str()
    );
}

#[test]
fn exit_code_2_for_nonexistent_path() {
    let t = Tree::new();
    let missing = t.root().join("does/not/exist");
    let r = Ks::new("scan").arg(&missing).run();
    r.assert_exit(2);
    assert!(!r.stderr.is_empty(), "an error message on stderr");
    let r = run_format(&missing, "json", &[]);
    assert_eq!(r.code, 2);
}

#[test]
fn exit_codes_0_and_1_in_human_format() {
    let t = Tree::new();
    t.write("README.md", "nothing here\n");
    let r = run_format(t.root(), "human", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr_str());
    let key = gen_key(Alg::Rsa(2048), Enc::Traditional);
    t.write("deploy/a.pem", &key.pem);
    let r = run_format(t.root(), "human", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr_str());
    assert!(
        r.stdout_str().contains("deploy/a.pem"),
        "human output names the relative path:\n{}",
        r.stdout_str()
    );
}

#[test]
fn json_document_shape() {
    let key = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let t = Tree::new();
    t.write("k.pem", &key.pem);
    let s = t.scan(&[]);
    s.assert_exit(1);
    let j = &s.json;
    assert_eq!(j["tool"]["name"], "keysweep");
    assert_eq!(j["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(j["findings"].is_array());
    assert!(j["skipped"].is_array());
    assert!(j["stats"].is_object());
    let f = s.one_with_thumbprint(&key.thumbprint());
    let l = &f["locations"][0];
    for k in ["commit", "author", "date"] {
        assert!(l[k].is_null(), "file location has null {k}: {l}");
    }
    for k in ["line", "column", "end_line", "end_column"] {
        assert!(l[k].as_u64().is_some_and(|v| v >= 1), "location.{k}: {l}");
    }
}

/// Human output is coloured on a terminal (run under `script`, which gives the binary a pty) and
/// plain when piped or with NO_COLOR.
#[test]
fn human_output_is_coloured_only_on_a_terminal() {
    let dir = Tree::new();
    dir.write(".env", "JWT_SECRET=9f8e7d6c5b4a39281706f5e4d3c2b1a0\n");
    let scan = || Ks::new("scan").arg(dir.root());
    let on_terminal = scan().env_remove("NO_COLOR").run_on_terminal();
    let text = on_terminal.stdout_str();
    assert!(text.contains("\x1b["), "no colour on a terminal: {text:?}");
    assert!(
        text.contains("Symmetric secret (HMAC signing or encryption key)"),
        "{text:?}"
    );
    let piped = scan().env_remove("NO_COLOR").run();
    let text = piped.stdout_str();
    assert_eq!(piped.code, 1);
    assert!(!text.contains('\x1b'), "colour in piped output: {text:?}");
    let no_color = scan().env("NO_COLOR", "1").run_on_terminal();
    assert!(!no_color.stdout_str().contains("\x1b["));
}

/// `keysweep baseline` records fingerprints only; a scan with `--baseline` reports only what is
/// new since.
#[test]
fn baseline_accepts_known_findings_and_reports_new_ones() {
    let t = Tree::new();
    let old_secret = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    t.write(".env", format!("JWT_SECRET={old_secret}\n"));
    let baseline = t.root().join("baseline.json");
    let baseline_arg = baseline.to_str().expect("utf-8");
    let root = t.root().to_str().expect("utf-8");
    let written = Ks::new("baseline").args(["-o", baseline_arg, root]).run();
    assert_eq!(written.code, 0, "{}", written.stderr_str());
    let text = read_string(&baseline);
    assert!(
        !text.contains(old_secret) && !text.contains("9f8e7d6c"),
        "secret in baseline: {text}"
    );
    let fingerprints = serde_json::from_str::<Value>(&text).expect("json")["fingerprints"].clone();
    assert_eq!(fingerprints.as_array().map(Vec::len), Some(1), "{text}");

    t.scan(&["--baseline", baseline_arg]).assert_exit(0);

    t.write("app.env", "SIGNING_KEY=0a1b2c3d4e5f60718293a4b5c6d7e8f9\n");
    let changed = t.scan(&["--baseline", baseline_arg]);
    changed.assert_exit(1);
    assert_eq!(changed.location_paths(), vec!["app.env"]);
}
