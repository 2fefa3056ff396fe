//! Random test data, base64/hex and text positions.

use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// `n` random bytes from the OS.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut f = std::fs::File::open("/dev/urandom").expect("/dev/urandom");
    let mut buf = vec![0u8; n];
    f.read_exact(&mut buf).expect("read /dev/urandom");
    buf
}

/// A random string of `n` characters from `alphabet`.
pub fn random_string(n: usize, alphabet: &str) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    random_bytes(n)
        .into_iter()
        .map(|b| chars[b as usize % chars.len()])
        .collect()
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Words the hmac detector treats as placeholders: a random test secret must not contain them.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "your", "xxx", "todo", "fixme", "dummy", "example", "insert", "replace", "change",
];

/// Whether `s` contains a word the detector takes for a placeholder (`xxx`, `your`, ...).
pub fn has_placeholder_marker(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m))
}

/// A high-entropy alphanumeric secret that contains upper, lower and digits and no placeholder
/// word, so that the detector reports it.
pub fn random_secret(n: usize) -> String {
    loop {
        let s = random_string(n, ALNUM);
        if s.chars().any(|c| c.is_ascii_uppercase())
            && s.chars().any(|c| c.is_ascii_lowercase())
            && s.chars().any(|c| c.is_ascii_digit())
            && !has_placeholder_marker(&s)
        {
            return s;
        }
    }
}

/// Random bytes whose standard base64 the detector will report (no leading `/` or `+`, no
/// placeholder word): (bytes, base64 text).
pub fn random_b64_secret(n: usize) -> (Vec<u8>, String) {
    loop {
        let bytes = random_bytes(n);
        let text = b64(&bytes);
        if !text.starts_with('/') && !text.starts_with('+') && !has_placeholder_marker(&text) {
            return (bytes, text);
        }
    }
}

pub fn b64url(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

pub fn b64(b: &[u8]) -> String {
    STANDARD.encode(b)
}

pub fn b64url_decode(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("bad base64url {s:?}: {e}"))
}

pub fn b64_decode(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(clean.as_bytes())
        .unwrap_or_else(|e| panic!("bad base64: {e}"))
}

/// Hex of bytes, lower case.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The PEM as a single-line string with `\n` escapes (JSON / JS style), without quotes.
pub fn pem_escaped(pem: &str) -> String {
    pem.replace('\n', "\\n")
}

/// The PEM as one line of standard base64 (Kubernetes `data:` value).
pub fn pem_base64(pem: &str) -> String {
    b64(pem.as_bytes())
}

/// The base64 body lines of a PEM (no header lines, no markers).
pub fn pem_body_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && !l.contains(':') && !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect()
}

/// 12-character windows of `s` (every `step` characters), for redaction checks.
pub fn windows_of(s: &str, step: usize) -> Vec<String> {
    let b = s.as_bytes();
    let mut v = Vec::new();
    let mut i = 0;
    while i + 12 <= b.len() {
        v.push(String::from_utf8_lossy(&b[i..i + 12]).into_owned());
        i += step;
    }
    v
}

/// 1-based (line, column) of the first occurrence of `needle` in `text` (byte columns).
pub fn line_col(text: &str, needle: &str) -> (u64, u64) {
    let idx = text
        .find(needle)
        .unwrap_or_else(|| panic!("needle {needle:?} not in text"));
    let before = &text[..idx];
    let line = before.matches('\n').count() as u64 + 1;
    let col = match before.rfind('\n') {
        Some(nl) => idx - nl,
        None => idx + 1,
    } as u64;
    (line, col)
}
