//! JSON Web Keys (RFC 7517) with private members, in JSON and in code object literals.
//!
//! The matcher finds a `kty` member; this detector finds the object around it, reads its string
//! members leniently (JSON, or JS/TS literals with unquoted keys, single quotes and trailing
//! commas), and reports it only when it carries private members.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::MatchContext;
use super::keys::PublicKey;
use crate::encoding::base64_url;
use crate::finding::{Candidate, kind, redact};

/// How far to look for the braces of the object around a `kty` member.
const MAX_OBJECT_BYTES: usize = 64 * 1024;

static MEMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"["'`]?([A-Za-z_][A-Za-z0-9_]*)["'`]?\s*:\s*(?:"([^"\\]*)"|'([^'\\]*)'|`([^`\\$]*)`)"#,
    )
    .expect("member regex is valid")
});

/// Report a private JWK around the matched `kty`.
pub fn detect(ctx: &MatchContext<'_>) -> Option<Candidate> {
    let (open, close) = enclosing_object(ctx.blob, ctx.match_start)?;
    let object = &ctx.blob[open..=close];
    let members = string_members(object);
    let kty = members.get("kty")?.as_str();
    let mut candidate = match kty {
        "oct" => symmetric_key(ctx, &members)?,
        _ => asymmetric_key(ctx, kty, &members)?,
    };
    candidate.start = open;
    candidate.end = close + 1;
    Some(candidate)
}

fn asymmetric_key(
    ctx: &MatchContext<'_>,
    kty: &str,
    members: &BTreeMap<String, String>,
) -> Option<Candidate> {
    let d = members.get("d")?;
    let d_bytes = base64_url(d.as_bytes())?;
    if d_bytes.len() < 16 || d_bytes.iter().all(|&b| b == d_bytes[0]) {
        return None;
    }
    let public = PublicKey::from_jwk(|name| members.get(name).map(String::as_str))?;
    let secret = d.clone();
    let preview = format!("{{\"kty\":\"{kty}\",\"d\":\"{}\"}}", redact(&secret));
    let identity = public.thumbprint().into_bytes();
    let mut candidate = ctx.candidate(public.kind(), identity, secret, preview, "jwk");
    candidate.key = Some(public.key_info(false));
    Some(candidate)
}

fn symmetric_key(ctx: &MatchContext<'_>, members: &BTreeMap<String, String>) -> Option<Candidate> {
    let k = members.get("k")?;
    let k_bytes = base64_url(k.as_bytes())?;
    if k_bytes.len() < 8 || k_bytes.iter().all(|&b| b == k_bytes[0]) {
        return None;
    }
    let preview = format!("{{\"kty\":\"oct\",\"k\":\"{}\"}}", redact(k));
    Some(ctx.candidate(kind::HMAC_SECRET, k_bytes, k.clone(), preview, "jwk-oct"))
}

/// The `{ ... }` that directly encloses `at`, found by brace depth (strings are ignored:
/// JWK members hold base64url, which has no braces).
fn enclosing_object(blob: &[u8], at: usize) -> Option<(usize, usize)> {
    let floor = at.saturating_sub(MAX_OBJECT_BYTES);
    let mut depth = 0usize;
    let mut open = None;
    for i in (floor..at).rev() {
        match blob[i] {
            b'}' => depth += 1,
            b'{' if depth == 0 => {
                open = Some(i);
                break;
            }
            b'{' => depth -= 1,
            _ => {}
        }
    }
    let open = open?;
    let ceiling = (at + MAX_OBJECT_BYTES).min(blob.len());
    let mut depth = 0usize;
    for (offset, &byte) in blob[at..ceiling].iter().enumerate() {
        match byte {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some((open, at + offset)),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// String-valued members at any depth of the object, first occurrence wins. Nested objects in a
/// JWK are rare (`oth` is an array of objects whose names differ from the top-level ones).
fn string_members(object: &[u8]) -> BTreeMap<String, String> {
    let mut members = BTreeMap::new();
    for caps in MEMBER.captures_iter(object) {
        let name = String::from_utf8_lossy(&caps[1]).into_owned();
        let value = caps.get(2).or_else(|| caps.get(3)).or_else(|| caps.get(4));
        if let Some(value) = value {
            members
                .entry(name)
                .or_insert_with(|| String::from_utf8_lossy(value.as_bytes()).into_owned());
        }
    }
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_object_around_a_member() {
        let text = br#"x = { "keys": [ {"kty":"EC","crv":{"a":1}}, {"kty":"oct"} ] }"#;
        let at = memchr::memmem::find(text, b"\"kty\"").unwrap();
        let (open, close) = enclosing_object(text, at).unwrap();
        assert_eq!(&text[open..=close], br#"{"kty":"EC","crv":{"a":1}}"#);
    }

    #[test]
    fn reads_object_literal_members() {
        let members = string_members(b"{ kty: 'EC', crv: \"P-256\", `x`: `abc`, d: 'zz', }");
        assert_eq!(members["kty"], "EC");
        assert_eq!(members["crv"], "P-256");
        assert_eq!(members["x"], "abc");
        assert_eq!(members["d"], "zz");
    }
}
