//! The one pipeline: `jsonl` streams findings while the scan runs, several reports in one run,
//! `update` records that settle what a later blob proved, de-duplication by blob id.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};

use serde_json::{Value, json};

use crate::support::*;

/// A file holding one secret, then about 1 MB of text dense with prefilter keywords that no
/// rule matches: costly to scan, so a tree of these keeps the scanner busy for seconds.
fn secret_then_dense_tail() -> Vec<u8> {
    let mut text = format!("JWT_SECRET={}\n", random_secret(32)).into_bytes();
    let line = b"let token = key.secret(password); // api_key secret token private key\n";
    while text.len() < 1 << 20 {
        text.extend_from_slice(line);
    }
    text
}

#[test]
fn jsonl_finding_is_read_while_the_scan_runs() {
    let t = Tree::new();
    for i in 0..240 {
        t.write(&format!("f{i:03}.env"), secret_then_dense_tail());
    }
    let mut child = Ks::new("scan")
        .arg(t.root())
        .format("jsonl")
        .args(["--threads", "1"])
        .spawn();
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a first record").expect("read");
    let still_running = child.try_wait().expect("try_wait").is_none();
    let record: Value = serde_json::from_str(&first).expect("first record is JSON");
    assert_eq!(record["type"], "finding", "{record}");
    assert_eq!(record["rule"], "secret/hmac", "{record}");
    assert!(
        still_running,
        "the first finding must arrive while 240 MB are still being scanned"
    );
    let rest: Vec<String> = lines.map(|l| l.expect("read")).collect();
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(1));
    let summary: Value = serde_json::from_str(rest.last().expect("summary")).expect("json");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["completed"], true);
    assert_eq!(summary["findings"], 240);
}

#[test]
fn several_reports_in_one_run() {
    let t = Tree::new();
    t.write("keys/signing.pem", p256_pem());
    t.write(".env", format!("JWT_SECRET={}\n", random_secret(32)));
    let sarif_path = t.root().join("out.sarif");
    let json_path = t.root().join("out.json");
    let outcome = Ks::new("scan")
        .arg(t.root().join("keys"))
        .arg(t.root().join(".env"))
        .arg("--report")
        .arg(format!("sarif:{}", sarif_path.display()))
        .arg("--report")
        .arg(format!("json:{}", json_path.display()))
        .run();
    outcome.assert_exit(1);
    assert!(
        outcome.stdout_str().contains("finding(s)"),
        "the human report still goes to the terminal: {}",
        outcome.stdout_str()
    );
    let sarif: Value = serde_json::from_str(&read_string(&sarif_path)).expect("sarif json");
    assert_valid_sarif(&sarif);
    assert_eq!(sarif["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(2)
    );
    let document: Value = serde_json::from_str(&read_string(&json_path)).expect("json");
    let rules: Vec<&str> = document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(rules.len(), 2, "{document:#}");
    assert!(rules.contains(&"private-key/ec") && rules.contains(&"secret/hmac"));
    let bad = Ks::new("scan")
        .arg(t.root())
        .args(["--report", "yaml:x"])
        .run();
    bad.assert_exit(2);
    assert!(
        bad.stderr_str().contains("unknown format"),
        "{}",
        bad.stderr_str()
    );
}

/// Apply `update` records to the `finding` records they follow.
fn settle(records: &[Value]) -> HashMap<String, Value> {
    let mut findings: HashMap<String, Value> = HashMap::new();
    for record in records {
        let fingerprint = record["fingerprint"].as_str().unwrap_or("").to_string();
        match record["type"].as_str() {
            Some("finding") => {
                findings.insert(fingerprint, record.clone());
            }
            Some("update") => {
                let finding = findings
                    .get_mut(&fingerprint)
                    .unwrap_or_else(|| panic!("update before its finding: {record}"));
                for member in ["severity", "verification", "locations"] {
                    finding[member] = record[member].clone();
                }
            }
            _ => {}
        }
    }
    findings
}

#[test]
fn update_records_settle_what_a_later_blob_proved() {
    // A secret in one file, a token it signs in another: whichever the walk meets first, the
    // stream settles on the same verdicts as the JSON document.
    let t = Tree::new();
    let secret = random_secret(40);
    let token = hs_jwt(
        "HS256",
        secret.as_bytes(),
        &json!({"sub": "user-1", "iss": "prod"}),
    );
    t.write("config/.env", format!("JWT_SECRET={secret}\n"));
    t.write(
        "logs/request.log",
        format!("Authorization: Bearer {token}\n"),
    );
    t.write("copy/.env", format!("JWT_SECRET={secret}\n"));
    let document = t.scan(&[]);
    let out = Ks::new("scan").arg(t.root()).format("jsonl").run();
    out.assert_exit(1);
    let records: Vec<Value> = out
        .stdout_str()
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl record"))
        .collect();
    assert!(
        records.iter().any(|r| r["type"] == "update"),
        "the secret's second location (or its proof) comes as an update: {records:#?}"
    );
    let settled = settle(&records);
    assert_eq!(settled.len(), document.findings().len());
    for finding in document.findings() {
        let fingerprint = finding["fingerprint"].as_str().expect("fingerprint");
        let streamed = &settled[fingerprint];
        assert_eq!(streamed["severity"], finding["severity"], "{fingerprint}");
        assert_eq!(
            streamed["verification"]["status"], finding["verification"]["status"],
            "{fingerprint}"
        );
        assert_eq!(streamed["locations"], finding["locations"], "{fingerprint}");
    }
    assert_eq!(
        document.one_with_rule("secret/hmac")["verification"]["status"],
        "signs-token"
    );
}
