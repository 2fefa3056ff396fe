//! Properties checked on generated inputs (proptest): redaction never leaks a 12-character
//! piece of a secret in any format; a finding's fingerprint does not depend on where the secret
//! sits; LF, CRLF and UTF-16 versions of a file give the same findings.

use proptest::prelude::*;
use serde_json::Value;

use crate::support::*;

/// Alphanumeric secrets with upper, lower and digits and no placeholder word (what the HMAC
/// rules report).
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{28,48}".prop_filter("mixed classes, no placeholder word", |s| {
        s.chars().any(|c| c.is_ascii_uppercase())
            && s.chars().any(|c| c.is_ascii_lowercase())
            && s.chars().filter(|c| c.is_ascii_digit()).count() >= 2
            && !has_placeholder_marker(s)
    })
}

/// The (rule, fingerprint) pairs of a JSON report, sorted.
fn identities(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap_or("").to_string(),
                        f["fingerprint"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn redaction_never_leaks_a_piece_of_the_secret(secret in secret()) {
        let t = Tree::new();
        t.write("app/.env", format!("JWT_SECRET={secret}\n"));
        for format in ["human", "json", "jsonl", "sarif"] {
            let out = Ks::new("scan").arg(t.root()).format(format).run();
            prop_assert_eq!(out.code, 1, "{}", out.stdout_str());
            let printed = format!("{}{}", out.stdout_str(), out.stderr_str());
            for piece in windows_of(&secret, 1).iter().filter(|w| w.len() >= 12) {
                prop_assert!(!printed.contains(piece.as_str()), "{format} leaks {piece}");
            }
        }
    }

    #[test]
    fn fingerprint_does_not_depend_on_the_line(secret in secret(), padding in 0usize..40) {
        let t = Tree::new();
        t.write("a/.env", format!("JWT_SECRET={secret}\n"));
        t.write("b/.env", format!("{}JWT_SECRET={secret}\n", "# comment\n".repeat(padding)));
        let report = t.scan(&[]);
        let finding = report.one_with_rule("secret/hmac");
        let lines: Vec<u64> = finding["locations"]
            .as_array()
            .expect("locations")
            .iter()
            .filter_map(|l| l["line"].as_u64())
            .collect();
        prop_assert_eq!(lines, vec![1, padding as u64 + 1]);
    }

    #[test]
    fn line_endings_and_utf16_give_the_same_findings(secret in secret()) {
        let text = format!("# settings\nJWT_SECRET={secret}\nother = 1\n");
        let lf = Tree::new();
        lf.write(".env", &text);
        let crlf = Tree::new();
        crlf.write(".env", text.replace('\n', "\r\n"));
        let utf16 = Tree::new();
        utf16.write(".env", utf16le(&text));
        let expected = identities(&lf.scan(&[]).json);
        prop_assert_eq!(expected.len(), 1);
        prop_assert_eq!(&identities(&crlf.scan(&[]).json), &expected);
        prop_assert_eq!(&identities(&utf16.scan(&[]).json), &expected);
    }
}
