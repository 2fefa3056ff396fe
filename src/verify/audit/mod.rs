//! `keysweep jwks audit`: hygiene of a published key set. Flags private members, symmetric keys,
//! RSA keys under 2048 bits, keys without `kid`, duplicate `kid`s, `alg`/`kty` mismatches,
//! malformed keys and (with `--pin`) keys that are not pinned.

mod render;

pub use render::render;

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use serde::Serialize;
use serde_json::Value;

use super::Options;
use super::http::Fetcher;
use super::jwks::{self, KeySet, PublishedKey};
use crate::finding::Severity;
use crate::report::{Output, OutputSpec};

/// JWK members that only private (or symmetric) keys carry (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// One hygiene problem.
#[derive(Clone, Debug, Serialize)]
pub struct Defect {
    /// Stable id: `private-members`, `symmetric-key`, `weak-rsa`, `missing-kid`, `duplicate-kid`,
    /// `alg-mismatch`, `unpinned-key`, `malformed-key`.
    pub code: &'static str,
    pub severity: Severity,
    /// Position of the key in the set's `keys` array.
    pub key_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    pub message: String,
}

/// A summary of one key (public facts only).
#[derive(Clone, Debug, Serialize)]
pub struct KeySummary {
    pub index: usize,
    pub kid: Option<String>,
    pub kty: Option<String>,
    pub alg: Option<String>,
    #[serde(rename = "use")]
    pub use_: Option<String>,
    pub crv: Option<String>,
    pub bits: Option<u32>,
    pub thumbprint: Option<String>,
}

/// The audit of one key set.
#[derive(Clone, Debug, Serialize)]
pub struct Audit {
    /// What was asked for.
    pub source: String,
    /// The JWKS URL or file actually read.
    pub jwks: String,
    pub keys: Vec<KeySummary>,
    pub defects: Vec<Defect>,
}

struct DefectKind {
    code: &'static str,
    title: &'static str,
    description: &'static str,
    help: &'static str,
    severity: Severity,
}

const KINDS: &[DefectKind] = &[
    DefectKind {
        code: "private-members",
        title: "JWKS publishes private key material",
        description: "A key in the published set carries private members (d, p, q, dp, dq, qi, oth or k). Anyone who fetches the set can sign tokens with it.",
        help: "Remove the private members from the published set at once, then treat the key as compromised: generate a new key pair, publish only its public half and revoke the old key.",
        severity: Severity::Critical,
    },
    DefectKind {
        code: "symmetric-key",
        title: "JWKS publishes a symmetric (oct) key",
        description: "A symmetric key (kty oct) is in the published set. Its k member is the secret itself: anyone can forge HS256/HS384/HS512 tokens with it.",
        help: "Remove the key from the set and rotate the secret; publish only asymmetric public keys.",
        severity: Severity::Critical,
    },
    DefectKind {
        code: "weak-rsa",
        title: "RSA key shorter than 2048 bits",
        description: "An RSA key in the set has a modulus under 2048 bits, below current minimums (NIST SP 800-131A).",
        help: "Replace the key with an RSA key of at least 2048 bits (3072 preferred) or an EC/Ed25519 key, and remove the short key from the set.",
        severity: Severity::High,
    },
    DefectKind {
        code: "missing-kid",
        title: "Key without kid",
        description: "A key in the set has no kid, so verifiers cannot select it by the kid of a token header, and rotation is ambiguous.",
        help: "Give every published key a unique kid (the RFC 7638 thumbprint is a good choice).",
        severity: Severity::Medium,
    },
    DefectKind {
        code: "duplicate-kid",
        title: "Duplicate kid",
        description: "Two or more keys in the set share a kid, so a verifier may pick the wrong key, and key confusion becomes possible.",
        help: "Give every published key a unique kid.",
        severity: Severity::Medium,
    },
    DefectKind {
        code: "alg-mismatch",
        title: "alg does not fit the key type",
        description: "A key's alg member names an algorithm that its kty (or curve) cannot perform, or alg none.",
        help: "Set alg to an algorithm of the key's type and curve, or leave it out.",
        severity: Severity::Medium,
    },
    DefectKind {
        code: "unpinned-key",
        title: "Key not pinned",
        description: "The set publishes a key whose RFC 7638 thumbprint is not among the pinned thumbprints (--pin). An unexpected key in a JWKS may have been injected.",
        help: "Check where the key came from. If it is legitimate, add its thumbprint to the pins; otherwise remove it and investigate.",
        severity: Severity::High,
    },
    DefectKind {
        code: "malformed-key",
        title: "Malformed key",
        description: "A member of the keys array is not a usable JWK: it is not an object, has no kty, or its required members are missing or not base64url.",
        help: "Fix or remove the key.",
        severity: Severity::Medium,
    },
];

fn kind(code: &str) -> &'static DefectKind {
    KINDS
        .iter()
        .find(|k| k.code == code)
        .unwrap_or(&KINDS[KINDS.len() - 1])
}

/// Run `keysweep jwks audit`; returns whether any defect was found. The report goes to the
/// primary output (`--format`, `-o`).
pub fn run(
    source: &str,
    pins: &[String],
    outputs: &[OutputSpec],
    options: &Options,
) -> anyhow::Result<bool> {
    let mut fetcher = Fetcher::new(options);
    let (set, text) = load(source, &mut fetcher)?;
    let audit = audit(source, &set, pins);
    let text = text.as_deref();
    if let Some(spec) = outputs.first() {
        let format = spec.render.format;
        Output::open(spec)?
            .write_with(|out| render(&audit, text, format, out))
            .context("cannot write the report")?;
    }
    Ok(!audit.defects.is_empty())
}

/// Read the set: a file, a JWKS URL, a discovery document URL, or an issuer URL. Returns the set
/// and, for files, the text (to place results on lines).
fn load(source: &str, fetcher: &mut Fetcher) -> anyhow::Result<(KeySet, Option<String>)> {
    if !jwks::is_url(source) {
        let bytes = std::fs::read(source).with_context(|| format!("cannot read {source}"))?;
        let keys = jwks::parse_set(&bytes).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        let set = KeySet {
            location: source.to_string(),
            configured: source.to_string(),
            keys,
        };
        return Ok((set, Some(String::from_utf8_lossy(&bytes).into_owned())));
    }
    let direct = fetcher.get(source);
    if let Ok(bytes) = &direct
        && let Ok(value) = serde_json::from_slice::<Value>(bytes)
    {
        if value.get("keys").is_some() || value.get("kty").is_some() {
            let keys = jwks::parse_set(bytes).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
            let set = KeySet {
                location: source.to_string(),
                configured: source.to_string(),
                keys,
            };
            return Ok((set, None));
        }
        if let Some(jwks_uri) = value.get("jwks_uri").and_then(Value::as_str) {
            // A discovery document: follow its jwks_uri.
            let bytes = fetcher
                .get(jwks_uri)
                .map_err(|e| anyhow::anyhow!("{source}: JWKS {jwks_uri}: {e}"))?;
            let keys = jwks::parse_set(&bytes)
                .map_err(|e| anyhow::anyhow!("{source}: JWKS {jwks_uri}: {e}"))?;
            let set = KeySet {
                location: jwks_uri.to_string(),
                configured: source.to_string(),
                keys,
            };
            return Ok((set, None));
        }
    }
    // Not a key set: try the URL as an issuer (OIDC discovery).
    match jwks::load_issuer(source, fetcher) {
        Ok(set) => Ok((set, None)),
        Err(issuer_error) => match direct {
            Err(error) => bail!("{source}: {error}"),
            Ok(_) => bail!("{source}: not a JWK Set, and discovery failed: {issuer_error}"),
        },
    }
}

/// Audit a key set.
pub fn audit(source: &str, set: &KeySet, pins: &[String]) -> Audit {
    let mut defects = Vec::new();
    let mut by_kid: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for key in &set.keys {
        if let Some(kid) = key.kid.as_deref() {
            by_kid.entry(kid).or_default().push(key.index);
        }
    }
    for key in &set.keys {
        let mut add = |code: &'static str, message: String| {
            defects.push(Defect {
                code,
                severity: kind(code).severity,
                key_index: key.index,
                kid: key.kid.clone(),
                thumbprint: key.thumbprint.clone(),
                message,
            });
        };
        let kty = key.kty.as_deref();
        if key.raw.is_empty() || kty.is_none() {
            add(
                "malformed-key",
                "not a JWK object with a kty member".to_string(),
            );
            continue;
        }
        let private: Vec<&str> = PRIVATE_MEMBERS
            .iter()
            .copied()
            .filter(|m| *m != "k" && key.raw.contains_key(*m))
            .collect();
        if !private.is_empty() {
            add(
                "private-members",
                format!(
                    "publishes private member(s) {} (values not shown)",
                    private.join(", ")
                ),
            );
        }
        if kty == Some("oct") {
            add(
                "symmetric-key",
                "publishes a symmetric (oct) key: its k member is the secret".to_string(),
            );
        }
        if key.thumbprint.is_none() && kty != Some("oct") {
            add(
                "malformed-key",
                format!(
                    "kty {} without well-formed required members",
                    kty.unwrap_or("?")
                ),
            );
        }
        if let Some(bits) = rsa_bits(key)
            && bits < 2048
        {
            add(
                "weak-rsa",
                format!("RSA modulus of {bits} bits (at least 2048 required)"),
            );
        }
        match key.kid.as_deref() {
            None => add("missing-kid", "has no kid".to_string()),
            Some(kid) => {
                // One defect per duplicated kid, on its first key: linear in the keys.
                let same = &by_kid[kid];
                if same.len() > 1 && same[0] == key.index {
                    add("duplicate-kid", duplicate_message(kid, same));
                }
            }
        }
        if let Some(alg) = key.alg.as_deref()
            && let Some(problem) = alg_problem(alg, key)
        {
            add("alg-mismatch", problem);
        }
        if !pins.is_empty() {
            let pinned = key
                .thumbprint
                .as_deref()
                .is_some_and(|t| pins.iter().any(|p| p.trim() == t));
            if !pinned {
                add(
                    "unpinned-key",
                    format!(
                        "thumbprint {} is not pinned",
                        key.thumbprint.as_deref().unwrap_or("(none)")
                    ),
                );
            }
        }
    }
    Audit {
        source: source.to_string(),
        jwks: set.location.clone(),
        keys: set.keys.iter().map(summary).collect(),
        defects,
    }
}

/// Most key indexes a duplicate-kid message lists.
const MAX_LISTED_DUPLICATES: usize = 10;

fn duplicate_message(kid: &str, keys: &[usize]) -> String {
    let listed: Vec<String> = keys
        .iter()
        .skip(1)
        .take(MAX_LISTED_DUPLICATES)
        .map(|i| format!("#{i}"))
        .collect();
    let more = keys.len() - 1 - listed.len();
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "kid {kid:?} is used by {} keys: also key(s) {}{tail}",
        keys.len(),
        listed.join(", ")
    )
}

fn text<'k>(key: &'k PublishedKey, name: &str) -> Option<&'k str> {
    key.raw.get(name).and_then(Value::as_str)
}

fn rsa_bits(key: &PublishedKey) -> Option<u32> {
    if key.kty.as_deref() != Some("RSA") {
        return None;
    }
    let n = crate::encoding::base64_url(text(key, "n")?.as_bytes())?;
    let first = n.iter().position(|&b| b != 0)?;
    let n = &n[first..];
    Some((n.len() as u32 - 1) * 8 + (8 - n[0].leading_zeros()))
}

fn summary(key: &PublishedKey) -> KeySummary {
    let public = jwks::public_key(&key.raw);
    KeySummary {
        index: key.index,
        kid: key.kid.clone(),
        kty: key.kty.clone(),
        alg: key.alg.clone(),
        use_: text(key, "use").map(str::to_string),
        crv: text(key, "crv").map(str::to_string),
        bits: public.map(|p| p.bits()).or_else(|| rsa_bits(key)),
        thumbprint: key.thumbprint.clone(),
    }
}

/// Why `alg` does not fit the key, if it does not. Unknown algorithms are not judged.
fn alg_problem(alg: &str, key: &PublishedKey) -> Option<String> {
    let kty = key.kty.as_deref().unwrap_or("");
    let crv = text(key, "crv");
    let (want_kty, want_crv): (&[&str], Option<&[&str]>) = match alg {
        "none" => return Some("alg none on a published key".to_string()),
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "RSA1_5" | "RSA-OAEP"
        | "RSA-OAEP-256" | "RSA-OAEP-384" | "RSA-OAEP-512" => (&["RSA"], None),
        "ES256" => (&["EC"], Some(&["P-256"])),
        "ES384" => (&["EC"], Some(&["P-384"])),
        "ES512" => (&["EC"], Some(&["P-521"])),
        "ES256K" => (&["EC"], Some(&["secp256k1"])),
        "EdDSA" => (&["OKP"], Some(&["Ed25519", "Ed448"])),
        "Ed25519" => (&["OKP"], Some(&["Ed25519"])),
        "Ed448" => (&["OKP"], Some(&["Ed448"])),
        "HS256" | "HS384" | "HS512" | "A128KW" | "A192KW" | "A256KW" | "A128GCMKW"
        | "A192GCMKW" | "A256GCMKW" | "dir" | "A128GCM" | "A192GCM" | "A256GCM"
        | "A128CBC-HS256" | "A192CBC-HS384" | "A256CBC-HS512" => (&["oct"], None),
        "ECDH-ES" | "ECDH-ES+A128KW" | "ECDH-ES+A192KW" | "ECDH-ES+A256KW" => (
            &["EC", "OKP"],
            Some(&["P-256", "P-384", "P-521", "X25519", "X448"]),
        ),
        _ => return None,
    };
    if !want_kty.contains(&kty) {
        return Some(format!(
            "alg {alg} needs kty {}, but kty is {kty}",
            want_kty.join(" or ")
        ));
    }
    if let (Some(curves), Some(crv)) = (want_crv, crv)
        && !curves.contains(&crv)
    {
        return Some(format!(
            "alg {alg} needs crv {}, but crv is {crv}",
            curves.join(" or ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(json: &str) -> KeySet {
        KeySet {
            location: "jwks.json".to_string(),
            configured: "jwks.json".to_string(),
            keys: jwks::parse_set(json.as_bytes()).unwrap(),
        }
    }

    fn codes(audit: &Audit) -> Vec<&'static str> {
        audit.defects.iter().map(|d| d.code).collect()
    }

    #[test]
    fn rfc_public_set_is_clean() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/jose/rfc7517-A.1-jwks.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let audit = audit("x", &set(&text), &[]);
        assert!(audit.defects.is_empty(), "{:?}", audit.defects);
    }

    #[test]
    fn alg_checks() {
        let audit = audit(
            "x",
            &set(r#"{"keys":[{"kty":"oct","k":"AAAA","kid":"a","alg":"RS256"}]}"#),
            &[],
        );
        assert_eq!(codes(&audit), ["symmetric-key", "alg-mismatch"]);
    }
}
