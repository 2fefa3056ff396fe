//! JSON Web Keys (RFC 7517) with private members, in JSON and in code object literals.
//!
//! The matcher finds a `kty` member; this detector finds the object around it, reads its string
//! members leniently (JSON, or JS/TS literals with unquoted keys, single quotes and trailing
//! commas, values line-wrapped as the RFCs print them), and reports it only when it carries
//! private members: `d`, `priv` (ML-DSA drafts) or an `oct` key's `k`. Every private JWK is
//! reported, with a thumbprint where keysweep computes the public half (RSA, EC P-256/384/521
//! and secp256k1, Ed25519, X25519, X448, Ed448) and under its `kty`/`crv`/`alg` otherwise.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::MatchContext;
use sha2::{Digest, Sha256};

use super::keys::{self, PublicKey};
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

/// A JWK with a private member: `d` (RSA, EC, OKP) or `priv` (the ML-DSA drafts' `AKP` keys).
/// Keys keysweep can compute with get their thumbprint; the rest are reported under the
/// `kty`/`crv`/`alg` they name.
fn asymmetric_key(
    ctx: &MatchContext<'_>,
    kty: &str,
    members: &BTreeMap<String, String>,
) -> Option<Candidate> {
    let (member_name, private) = ["d", "priv"]
        .iter()
        .find_map(|name| members.get(*name).map(|value| (*name, value)))?;
    let private_bytes = base64_url(private.as_bytes())?;
    if private_bytes.len() < 16 || private_bytes.iter().all(|&b| b == private_bytes[0]) {
        return None;
    }
    let member = |name: &str| members.get(name).map(String::as_str);
    let public = PublicKey::from_jwk(member).or_else(|| derive_public(member, &private_bytes));
    let secret = private.clone();
    let preview = format!(
        "{{\"kty\":\"{kty}\",\"{member_name}\":\"{}\"}}",
        redact(&secret)
    );
    let Some(public) = public else {
        let (kind, key_type, curve) = unparsed_type(kty, member);
        let identity = Sha256::digest(&private_bytes).to_vec();
        let mut candidate = ctx.candidate(kind, identity, secret, preview, "jwk");
        candidate.key = Some(keys::opaque_key_info(&key_type, curve, false));
        return Some(candidate);
    };
    let identity = public.thumbprint().into_bytes();
    let mut candidate = ctx.candidate(public.kind(), identity, secret, preview, "jwk");
    candidate.key = Some(public.key_info(false));
    Some(candidate)
}

/// The public half of a private JWK that lacks its public members, where keysweep can derive
/// it (Ed25519, X25519, EC curves it computes with).
fn derive_public<'a>(
    member: impl Fn(&str) -> Option<&'a str>,
    private: &[u8],
) -> Option<PublicKey> {
    match (member("kty")?, member("crv")?) {
        ("OKP", "Ed25519") => keys::ed25519_from_seed(private).ok(),
        ("OKP", "X25519") => keys::x25519_from_scalar(private).ok(),
        ("EC", crv) => keys::ec_from_scalar(crv, private).ok(),
        _ => None,
    }
}

/// Kind, key type and curve of a private JWK keysweep cannot compute with.
fn unparsed_type<'a>(
    kty: &str,
    member: impl Fn(&str) -> Option<&'a str>,
) -> (&'static str, String, Option<String>) {
    let crv = member("crv").map(str::to_string);
    match kty {
        "RSA" => (kind::RSA, "RSA".to_string(), None),
        "EC" => (kind::EC, "EC".to_string(), crv),
        "OKP" => match crv.as_deref() {
            Some("Ed25519") => (kind::ED25519, "Ed25519".to_string(), None),
            Some(name @ ("Ed448" | "X25519" | "X448")) => (kind::OKP, name.to_string(), None),
            _ => (kind::OTHER, "OKP".to_string(), crv),
        },
        other => {
            // ML-DSA drafts: {"kty":"AKP","alg":"ML-DSA-44","pub":…,"priv":…}.
            let key_type = match member("alg") {
                Some(alg) => format!("{other} {alg}"),
                None => other.to_string(),
            };
            (kind::OTHER, key_type, crv)
        }
    }
}

/// The kind of an `oct` JWK that encrypts (content or key encryption) instead of signing.
pub const JWK_ENC: &str = "secret/jwk-enc";

/// JWE algorithms (RFC 7518 sections 4 and 5) that take a symmetric key: key wrapping, direct
/// use, and content encryption.
const ENCRYPTION_ALGORITHMS: &[&str] = &[
    "dir",
    "A128KW",
    "A192KW",
    "A256KW",
    "A128GCMKW",
    "A192GCMKW",
    "A256GCMKW",
    "A128GCM",
    "A192GCM",
    "A256GCM",
    "A128CBC-HS256",
    "A192CBC-HS384",
    "A256CBC-HS512",
];

/// An `oct` JWK: an HMAC signing secret, or (`"use":"enc"`, or a JWE `alg`) an encryption key.
fn symmetric_key(ctx: &MatchContext<'_>, members: &BTreeMap<String, String>) -> Option<Candidate> {
    let k = members.get("k")?;
    let k_bytes = base64_url(k.as_bytes())?;
    if k_bytes.len() < 8 || k_bytes.iter().all(|&b| b == k_bytes[0]) {
        return None;
    }
    let preview = format!("{{\"kty\":\"oct\",\"k\":\"{}\"}}", redact(k));
    let alg = members.get("alg").map(String::as_str);
    let encrypts = members.get("use").is_some_and(|u| u == "enc")
        || alg.is_some_and(|a| ENCRYPTION_ALGORITHMS.contains(&a));
    if !encrypts {
        return Some(ctx.candidate(kind::HMAC_SECRET, k_bytes, k.clone(), preview, "jwk-oct"));
    }
    let format = match alg {
        Some(alg) => format!("jwk-oct, enc ({alg})"),
        None => "jwk-oct, enc".to_string(),
    };
    Some(ctx.candidate(JWK_ENC, k_bytes, k.clone(), preview, &format))
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
/// A value broken across lines (the RFC 7517 appendix layout, or a multi-line string in code)
/// is joined again: base64url has no whitespace.
fn string_members(object: &[u8]) -> BTreeMap<String, String> {
    let mut members = BTreeMap::new();
    for caps in MEMBER.captures_iter(object) {
        let name = String::from_utf8_lossy(&caps[1]).into_owned();
        let value = caps.get(2).or_else(|| caps.get(3)).or_else(|| caps.get(4));
        if let Some(value) = value {
            members.entry(name).or_insert_with(|| {
                let value = String::from_utf8_lossy(value.as_bytes());
                if value.contains(['\n', '\r']) {
                    value.split_ascii_whitespace().collect()
                } else {
                    value.into_owned()
                }
            });
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
    fn joins_line_wrapped_values() {
        let members = string_members(
            b"{\"kty\":\"RSA\",\n \"n\": \"0vx7ago\n      ebGcQ\r\n  SuuP\",\"kid\":\"a b\"}",
        );
        assert_eq!(members["n"], "0vx7agoebGcQSuuP");
        assert_eq!(members["kid"], "a b");
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
