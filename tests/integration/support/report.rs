//! Reading keysweep's JSON report (`Scan`) and the assertions shared by the detector tests.

use serde_json::Value;

use super::der::PublicKey;
use super::text::line_col;
use super::tools::read_string;

/// The records of a JSON Lines report, in order; none while the file does not exist yet (a
/// test polling a running keysweep). Every line must be JSON.
pub fn jsonl_records(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line: {e}: {line}"))
        })
        .collect()
}

/// A keysweep JSON report (`--format json` of `scan`, `git` or `staged`) with its exit code.
pub struct Scan {
    pub code: i32,
    pub json: Value,
    pub stderr: String,
}

impl Scan {
    pub fn findings(&self) -> Vec<&Value> {
        self.json["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("no findings array in {}", self.pretty()))
            .iter()
            .collect()
    }
    /// The path of every location of every finding, in report order.
    pub fn location_paths(&self) -> Vec<&str> {
        self.locations()
            .into_iter()
            .map(|l| l["path"].as_str().expect("location path"))
            .collect()
    }
    /// Every location of every finding, in report order.
    pub fn locations(&self) -> Vec<&Value> {
        self.findings()
            .into_iter()
            .flat_map(|f| f["locations"].as_array().expect("locations array"))
            .collect()
    }
    /// The path of every location, sorted.
    pub fn sorted_paths(&self) -> Vec<&str> {
        let mut paths = self.location_paths();
        paths.sort();
        paths
    }
    /// The first location in `path`.
    pub fn location_at(&self, path: &str) -> &Value {
        self.locations()
            .into_iter()
            .find(|l| l["path"] == path)
            .unwrap_or_else(|| panic!("no location at {path}: {}", self.pretty()))
    }
    /// `path: reason` of every skipped entry.
    pub fn skipped_lines(&self) -> Vec<String> {
        self.skipped()
            .into_iter()
            .map(|s| {
                format!(
                    "{}: {}",
                    s["path"].as_str().expect("skipped path"),
                    s["reason"].as_str().expect("skipped reason")
                )
            })
            .collect()
    }
    pub fn skipped(&self) -> Vec<&Value> {
        self.json["skipped"]
            .as_array()
            .unwrap_or_else(|| panic!("no skipped array in {}", self.pretty()))
            .iter()
            .collect()
    }
    pub fn pretty(&self) -> String {
        let s = serde_json::to_string_pretty(&self.json).unwrap_or_default();
        if s.len() > 20000 {
            format!("{}\n...(truncated)", &s[..20000])
        } else {
            s
        }
    }
    /// Compact one-line-per-finding view used in assertion messages.
    pub fn summary(&self) -> String {
        let mut out = format!("exit={} findings:\n", self.code);
        for f in self.json["findings"].as_array().into_iter().flatten() {
            let locs: Vec<String> = f["locations"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| {
                    format!(
                        "{}:{}:{}({})",
                        l["path"].as_str().unwrap_or("?"),
                        l["line"],
                        l["column"],
                        l["format"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            out.push_str(&format!(
                "  {} key={} jwt={} locs=[{}]\n",
                f["rule"],
                f["key"],
                f["jwt"],
                locs.join(", ")
            ));
        }
        out.push_str(&format!("skipped: {}\n", self.json["skipped"]));
        if !self.stderr.is_empty() {
            let e = &self.stderr;
            let e = if e.len() > 2000 { &e[..2000] } else { e };
            out.push_str(&format!("stderr: {e}\n"));
        }
        out
    }
    pub fn with_rule(&self, rule: &str) -> Vec<&Value> {
        self.findings()
            .into_iter()
            .filter(|f| f["rule"] == rule)
            .collect()
    }
    pub fn with_thumbprint(&self, tp: &str) -> Vec<&Value> {
        self.findings()
            .into_iter()
            .filter(|f| f["key"]["thumbprint"] == tp)
            .collect()
    }
    /// Findings that have a location in `path`.
    pub fn at_path(&self, path: &str) -> Vec<&Value> {
        self.findings()
            .into_iter()
            .filter(|f| {
                f["locations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|l| l["path"] == path)
            })
            .collect()
    }
    pub fn assert_count(&self, n: usize) {
        assert_eq!(
            self.findings().len(),
            n,
            "expected exactly {n} finding(s)\n{}",
            self.summary()
        );
    }
    pub fn assert_exit(&self, code: i32) {
        assert_eq!(
            self.code,
            code,
            "expected exit code {code}\n{}",
            self.summary()
        );
    }
    /// The one finding with this thumbprint (panics with context otherwise).
    pub fn one_with_thumbprint(&self, tp: &str) -> &Value {
        let v = self.with_thumbprint(tp);
        assert_eq!(
            v.len(),
            1,
            "expected exactly one finding with thumbprint {tp}\n{}",
            self.summary()
        );
        v[0]
    }
    pub fn one_with_rule(&self, rule: &str) -> &Value {
        let v = self.with_rule(rule);
        assert_eq!(
            v.len(),
            1,
            "expected exactly one finding with rule {rule}\n{}",
            self.summary()
        );
        v[0]
    }
}

/// An expected location: path, line and (optionally) column.
#[derive(Clone, Debug)]
pub struct Loc {
    pub path: String,
    pub line: u64,
    pub column: Option<u64>,
}

pub fn loc(path: &str, line: u64) -> Loc {
    Loc {
        path: path.to_string(),
        line,
        column: None,
    }
}
pub fn loc_col(path: &str, line: u64, column: u64) -> Loc {
    Loc {
        path: path.to_string(),
        line,
        column: Some(column),
    }
}
/// Location of the first occurrence of `needle` in `text`, which is the file `path`.
pub fn loc_of(path: &str, text: &str, needle: &str) -> Loc {
    let (l, c) = line_col(text, needle);
    loc_col(path, l, c)
}

/// Asserts the finding's locations are exactly `expected` (same order: by path, line).
pub fn assert_locations(scan: &Scan, f: &Value, expected: &[Loc]) {
    let locs = f["locations"]
        .as_array()
        .unwrap_or_else(|| panic!("finding without locations: {f}\n{}", scan.summary()));
    let actual: Vec<(String, u64, u64)> = locs
        .iter()
        .map(|l| {
            (
                l["path"].as_str().unwrap_or("<not a string>").to_string(),
                l["line"].as_u64().unwrap_or(0),
                l["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let ok = actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, e)| a.0 == e.path && a.1 == e.line && e.column.is_none_or(|c| c == a.2));
    assert!(
        ok,
        "locations mismatch for rule {}\n expected (path, line, column): {:?}\n actual   (path, line, column): {:?}\n{}",
        f["rule"],
        expected
            .iter()
            .map(|e| (e.path.clone(), e.line, e.column))
            .collect::<Vec<_>>(),
        actual,
        scan.summary()
    );
    for l in locs {
        assert_eq!(l["source"], "file", "location.source: {l}");
        assert!(
            l["format"].as_str().is_some_and(|s| !s.is_empty()),
            "location.format must be a non-empty string: {l}"
        );
        let path = l["path"].as_str().unwrap_or("");
        assert!(
            !path.starts_with('/') && !path.contains('\\'),
            "path must be relative with '/': {path}"
        );
    }
}

/// Asserts location `i` has a format mentioning one of `tokens` (case-insensitive).
pub fn assert_format(f: &Value, i: usize, tokens: &[&str]) {
    let fmt = f["locations"][i]["format"]
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(
        tokens.iter().any(|t| fmt.contains(&t.to_ascii_lowercase())),
        "locations[{i}].format = {fmt:?}, expected it to name one of {tokens:?}; finding: {f}"
    );
}

/// Checks the common shape of every finding.
pub fn assert_finding_shape(f: &Value) {
    for k in ["rule", "title", "severity", "fingerprint"] {
        assert!(
            f[k].as_str().is_some_and(|s| !s.is_empty()),
            "finding.{k} must be a non-empty string: {f}"
        );
    }
    let fp = f["fingerprint"].as_str().unwrap_or("");
    assert!(
        fp.chars().all(|c| c.is_ascii_hexdigit()),
        "fingerprint must be hex: {fp}"
    );
    assert!(f.get("secret").is_some(), "finding.secret missing: {f}");
    assert!(f.get("key").is_some(), "finding.key missing: {f}");
    assert!(f.get("jwt").is_some(), "finding.jwt missing: {f}");
    assert!(
        f["verification"]["status"].is_string(),
        "finding.verification.status missing: {f}"
    );
    assert!(f["locations"].is_array(), "finding.locations missing: {f}");
}

/// The whole check for a private key finding of a key the test generated: the one finding with
/// the independently computed thumbprint has the expected rule, type, bits, curve, public JWK,
/// encrypted flag and locations.
pub fn assert_key_finding<'a>(
    scan: &'a Scan,
    key: &PublicKey,
    encrypted: bool,
    expected: &[Loc],
) -> &'a Value {
    let tp = key.thumbprint();
    let f = scan.one_with_thumbprint(&tp);
    assert_finding_shape(f);
    assert_eq!(f["rule"], key.rule(), "rule\n{}", scan.summary());
    let k = &f["key"];
    assert_eq!(k["type"], key.type_str(), "key.type: {k}");
    assert_eq!(k["bits"], key.bits(), "key.bits: {k}");
    match key.curve() {
        Some(c) => assert_eq!(k["curve"], c, "key.curve: {k}"),
        None => assert!(k["curve"].is_null(), "key.curve must be null: {k}"),
    }
    assert_eq!(k["encrypted"], encrypted, "key.encrypted: {k}");
    assert_eq!(k["thumbprint"], tp.as_str(), "key.thumbprint");
    let pj = &k["public_jwk"];
    for (m, v) in key.jwk_public().as_object().expect("obj") {
        assert_eq!(&pj[m], v, "key.public_jwk.{m}: {pj}");
    }
    assert!(
        pj.get("d").is_none() && pj.get("p").is_none(),
        "public_jwk must not carry private members: {pj}"
    );
    assert!(f["jwt"].is_null(), "jwt must be null for a key: {f}");
    assert_eq!(
        f["verification"]["status"], "unverified",
        "verification of a fresh key without JWKS"
    );
    assert_locations(scan, f, expected);
    f
}

/// Asserts `sarif` validates against the SARIF 2.1.0 schema (tests/data).
pub fn assert_valid_sarif(sarif: &Value) {
    let schema: Value =
        serde_json::from_str(&read_string(super::SARIF_SCHEMA)).expect("schema json");
    let validator = jsonschema::draft4::new(&schema).expect("compile SARIF schema");
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(20)
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema errors:\n{}",
        errors.join("\n")
    );
}
