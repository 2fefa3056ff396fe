//! Adversarial inputs, generated here: every run finishes within a bound asserted on the child,
//! ends with a result, a listed skip or an error (never a panic), and stays under 1 GB of peak
//! resident memory. Each case prints its time and peak memory (`--nocapture` shows them).

use std::io::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::measure::Measured;
use crate::support::*;

const MAX_RSS_KB: u64 = 1 << 20; // 1 GiB
const BOUND: Duration = Duration::from_secs(90);

/// Run, assert the bounds, print the cost, and return the outcome.
fn bounded(case: &str, ks: Ks) -> Outcome {
    bounded_measured(case, ks).outcome
}

/// `bounded`, keeping the measured cost.
fn bounded_measured(case: &str, ks: Ks) -> Measured {
    let run = run_measured(ks, BOUND);
    println!(
        "adversarial {case}: {:.2} s, peak RSS {} MB, exit {}",
        run.elapsed.as_secs_f64(),
        run.peak_rss_kb / 1024,
        run.outcome.code
    );
    assert!(
        run.peak_rss_kb < MAX_RSS_KB,
        "{case}: peak RSS {} kB",
        run.peak_rss_kb
    );
    let stderr = run.outcome.stderr_str();
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    run
}

/// Write `total` bytes made of `unit` repeated, without holding them all in memory.
fn write_repeated(path: &std::path::Path, unit: &[u8], total: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut written = 0;
    while written < total {
        file.write_all(unit).expect("write");
        written += unit.len();
    }
    file.flush().expect("flush");
}

#[test]
fn a_100_mb_line_dense_with_keywords() {
    let t = Tree::new();
    write_repeated(
        &t.root().join("line.js"),
        b"secret=key;token(password,private_key);jwt.sign(x,secret);",
        100 << 20,
    );
    let out = bounded(
        "100 MB single line",
        Ks::new("scan")
            .arg(t.root())
            .format("json")
            .args(["--max-file-size", "200M"]),
    );
    assert_eq!(out.code, 0, "{}", out.stderr_str());
    assert_eq!(out.json()["stats"]["files_scanned"], 1);
}

#[test]
fn a_million_begin_markers_then_a_key() {
    let t = Tree::new();
    let path = t.root().join("begins.txt");
    write_repeated(&path, b"-----BEGIN RSA PRIVATE KEY-----\n", 32 << 20);
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    file.write_all(key.pem.as_bytes()).expect("append");
    let out = bounded(
        "1M BEGIN markers",
        Ks::new("scan").arg(t.root()).format("json"),
    );
    assert_eq!(out.code, 1, "{}", out.stderr_str());
    let report = out.scan();
    report.one_with_thumbprint(&key.thumbprint());
}

#[test]
fn deeply_nested_json_and_huge_base64() {
    let t = Tree::new();
    let depth = 1 << 20;
    let nested = format!(
        "{}{{\"kty\":\"oct\",\"k\":\"{}\"}}{}",
        "[".repeat(depth),
        b64url(&random_bytes(32)),
        "]".repeat(depth)
    );
    t.write("nested.json", nested);
    write_repeated(
        &t.root().join("wrapped.b64"),
        b"LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2Z0lCQURBTkJna3Foa2lHOXcwQkFRRUZBQVNDQktnd2dn",
        48 << 20,
    );
    let out = bounded(
        "nested JSON + 48 MB base64",
        Ks::new("scan").arg(t.root()).format("json"),
    );
    assert!(matches!(out.code, 0 | 1), "{}", out.stderr_str());
    let rules: Vec<String> = out.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect();
    assert!(rules.contains(&"secret/hmac".to_string()), "{rules:?}");
}

#[test]
fn a_2_gb_sparse_file() {
    let t = Tree::new();
    let path = t.root().join("sparse.img");
    std::fs::File::create(&path)
        .expect("create")
        .set_len(2 << 30)
        .expect("sparse");
    t.write("k.pem", p256_pem());
    let skipped = bounded(
        "2 GB sparse file, default limit",
        Ks::new("scan").arg(t.root()).format("json"),
    );
    assert_eq!(skipped.code, 1);
    let report = skipped.json();
    let listed = report["skipped"].as_array().expect("skipped");
    assert!(
        listed.iter().any(|s| s["path"] == "sparse.img"),
        "{report:#}"
    );
    let read = bounded(
        "2 GB sparse file, read",
        Ks::new("scan")
            .arg(t.root())
            .format("json")
            .args(["--max-file-size", "3G"]),
    );
    assert_eq!(read.code, 1);
    assert_eq!(read.json()["stats"]["files_binary"], 1);
}

#[test]
fn corrupt_objects_and_a_ref_to_a_missing_object() {
    let t = Tree::new();
    let mut repo = Repo::init(&t.root().join("r"));
    repo.write("k.pem", &p256_pem());
    repo.write("notes.txt", "notes\n");
    repo.commit("key");
    repo.git(&["repack", "-a", "-d", "-q"]);
    std::fs::write(
        repo.dir.join(".git/refs/heads/ghost"),
        "0123456789abcdef0123456789abcdef01234567\n",
    )
    .expect("ref");
    let loose = repo.dir.join(".git/objects/ab");
    std::fs::create_dir_all(&loose).expect("dir");
    std::fs::write(
        loose.join("cdef0123456789abcdef0123456789abcdef01"),
        b"garbage",
    )
    .expect("loose");
    let out = bounded(
        "ref to a missing object, corrupt loose object",
        Ks::new("git")
            .arg(&repo.dir)
            .format("json")
            .arg("--all-objects"),
    );
    assert_eq!(out.code, 1, "{}", out.stderr_str());
    let report = out.json();
    let skipped: Vec<String> = report["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| format!("{} {}", s["path"], s["reason"]))
        .collect();
    assert!(
        skipped
            .iter()
            .any(|s| s.contains("ghost") || s.contains("0123456789abcdef")),
        "{skipped:?}"
    );
}

#[test]
fn jwks_audit_of_100000_keys_sharing_one_kid() {
    let t = Tree::new();
    let key = public_jwk(&gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8).public, "same");
    let keys: Vec<Value> = (0..100_000).map(|_| key.clone()).collect();
    let path = t.write("jwks.json", json!({ "keys": keys }).to_string());
    let out = bounded(
        "jwks audit, 100,000 duplicate kids",
        Ks::new("jwks").arg("audit").arg(&path).format("json"),
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.len() < 64 << 20, "{} bytes", out.stdout.len());
    let duplicates = out.json()["defects"]
        .as_array()
        .expect("defects")
        .iter()
        .filter(|d| d["code"] == "duplicate-kid")
        .count();
    assert_eq!(duplicates, 1);
}

/// A 2 GB sparse text file scanned whole (`--max-file-size 3G`) is read in windows, not into
/// memory: the key after the hole is found once, on its line, under 200 MiB of peak memory.
#[test]
fn a_2_gb_sparse_text_file_is_read_in_windows() {
    use std::io::{Seek, SeekFrom};
    const MAX_WINDOWED_RSS_KB: u64 = 200 << 10;
    let t = Tree::new();
    let path = t.root().join("sparse.log");
    // More text than the binary sniff (8 KiB) reads, so the file is judged text.
    let header: String = (0..400)
        .map(|i| format!("log line {i:04} of a long text file\n"))
        .collect();
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(header.as_bytes()).expect("header");
    file.seek(SeekFrom::Start(2 << 30))
        .expect("seek past the hole");
    file.write_all(b"\n").expect("end the hole's line");
    file.write_all(key.pem.as_bytes()).expect("key");
    let size = file.metadata().expect("size").len();
    drop(file);
    let run = bounded_measured(
        "2 GB sparse text file, read in windows",
        Ks::new("scan")
            .arg(t.root())
            .format("json")
            .args(["--max-file-size", "3G"]),
    );
    assert!(
        run.peak_rss_kb < MAX_WINDOWED_RSS_KB,
        "peak RSS {} kB",
        run.peak_rss_kb
    );
    assert_eq!(run.outcome.code, 1, "{}", run.outcome.stderr_str());
    let scan = run.outcome.scan();
    let found = scan.one_with_thumbprint(&key.thumbprint());
    let locations = found["locations"].as_array().expect("locations");
    assert_eq!(locations.len(), 1, "{}", scan.summary());
    // 400 header lines, the hole's line, then the key.
    assert_eq!(locations[0]["line"], 402, "{}", scan.pretty());
    assert_eq!(locations[0]["column"], 1);
    assert_eq!(scan.json["stats"]["bytes_scanned"], size);
    assert_eq!(scan.json["stats"]["files_scanned"], 1);
}

/// With a 64 KiB window (`KEYSWEEP_WINDOW_BYTES`, so 16 KiB of overlap), a key across a window
/// boundary, one wholly inside an overlap, a JWK across the next boundary and a key windows later
/// are each found once, on their line and column; every byte is counted once.
#[test]
fn keys_across_window_boundaries_are_found_once_on_their_line() {
    const WINDOW: usize = 64 * 1024;
    let filler = |text: &mut String, until: usize| {
        let mut i = 0;
        while text.len() < until {
            text.push_str(&format!("filler line {i:06}, nothing to see here\n"));
            i += 1;
        }
    };
    let in_overlap = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let across = gen_key(Alg::Rsa(2048), Enc::Traditional);
    let jwk = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let later = gen_key(Alg::Ec(Curve::P384), Enc::Traditional);
    let jwk_text = format!("config = {}\n", jwk.jwk);
    let mut text = String::new();
    // The second window starts within a line of WINDOW - overlap (48 KiB).
    filler(&mut text, 52 * 1024);
    text.push_str(&in_overlap.pem);
    filler(&mut text, WINDOW - across.pem.len() / 2);
    text.push_str(&across.pem);
    assert!(text.len() > WINDOW && text.len() - across.pem.len() < WINDOW);
    // The second window ends within a line of 48 KiB + 64 KiB.
    filler(&mut text, 112 * 1024 - 100);
    let jwk_at = text.len();
    text.push_str(&jwk_text);
    assert!(jwk_at < 112 * 1024 && text.len() > 112 * 1024 + 40);
    filler(&mut text, 300 * 1024);
    text.push_str(&later.pem);
    filler(&mut text, 400 * 1024);
    let t = Tree::new();
    t.write("big.txt", &text);
    let scan = Ks::new("scan")
        .arg(t.root())
        .format("json")
        .env("KEYSWEEP_WINDOW_BYTES", WINDOW.to_string())
        .run()
        .scan();
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    for (key, needle) in [
        (&in_overlap, in_overlap.pem.as_str()),
        (&across, across.pem.as_str()),
        (&jwk, jwk_text.as_str()),
        (&later, later.pem.as_str()),
    ] {
        let found = scan.one_with_thumbprint(&key.thumbprint());
        let locations = found["locations"].as_array().expect("locations");
        assert_eq!(locations.len(), 1, "{}", scan.summary());
        let (line, column) = line_col(&text, needle);
        assert_eq!(locations[0]["line"], line, "{}", scan.pretty());
        if needle != jwk_text {
            assert_eq!(locations[0]["column"], column, "{}", scan.pretty());
        }
    }
    assert_eq!(scan.findings().len(), 4, "{}", scan.summary());
    assert_eq!(scan.json["stats"]["bytes_scanned"], text.len());
}
