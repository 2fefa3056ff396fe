//! One case per detector shape: the built binary on a tree the test writes, with keys generated
//! at test time, asserting the exact findings (rule, path, line, column where the contract fixes
//! it, and the RFC 7638 thumbprint computed here independently).

mod code_shapes;
mod embedded;
mod jose;
mod jwt_shapes;
mod keys_other;
mod pem;
mod pkcs12;
mod raw_keys;

use serde_json::Value;

use crate::support::*;

/// For a PEM that is a whole file: the region ends on the `-----END` line, one past its last char.
fn assert_pem_file_region(f: &Value, i: usize, text: &str) {
    let end_line_no = text
        .lines()
        .position(|l| l.starts_with("-----END"))
        .expect("END line") as u64
        + 1;
    let end_line = text.lines().nth(end_line_no as usize - 1).unwrap_or("");
    let l = &f["locations"][i];
    assert_eq!(l["line"], 1, "PEM file starts on line 1: {l}");
    assert_eq!(l["column"], 1, "PEM file starts on column 1: {l}");
    assert_eq!(
        l["end_line"], end_line_no,
        "end_line = the -----END line: {l}"
    );
    assert_eq!(
        l["end_column"],
        end_line.len() as u64 + 1,
        "end_column = one past the end of the -----END line: {l}"
    );
}

/// A tree with one file, scanned (with `extra`): exit 1 and exactly one finding.
fn scan_one_file(path: &str, text: &str, extra: &[&str]) -> Scan {
    let t = Tree::new();
    t.write(path, text);
    let s = t.scan(extra);
    s.assert_exit(1);
    s.assert_count(1);
    s
}
