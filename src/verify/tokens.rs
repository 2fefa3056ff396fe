//! Found RS*/PS*/ES*/EdDSA tokens against the configured key sets: a token whose signature
//! verifies against a published key and that has not expired is a live credential (`live`),
//! the way a key match proves a key leak. Signatures are checked with the `jsonwebtoken`
//! crate (ES512, which it lacks, with `p521`); the token was found by keysweep's own lenient parser (`detect::jwt`), which also
//! reports what `jsonwebtoken` refuses (`alg: null`, unknown algorithms). Unsigned and HMAC
//! tokens are left to `secrets` and `sight`: an `alg: none` token is never live.

use std::str::FromStr;

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};

use super::Sources;
use super::jwks::{KeySet, PublishedKey};
use crate::detect::keys::PublicKey;
use crate::encoding::to_base64_url;
use crate::finding::{Finding, JwtInfo, Severity, Status, Verification, kind};

/// A key of a configured set whose signature check passed.
struct Signer<'a> {
    set: &'a KeySet,
    key: &'a PublishedKey,
}

/// Verify every found asymmetric token against the configured key sets, now.
pub fn apply(findings: &mut [Finding], sources: &Sources) {
    apply_at(findings, sources, now());
}

/// [`apply`] with the current time given (seconds since the epoch).
pub fn apply_at(findings: &mut [Finding], sources: &Sources, now: i64) {
    if !sources.configured() {
        return;
    }
    for finding in findings.iter_mut() {
        if finding.rule != kind::JWT || finding.verification.status.is_proven() {
            continue;
        }
        let Some(info) = &finding.jwt else { continue };
        if let Some(verification) = verify_token(finding.raw_secret.trim(), info, sources, now) {
            if verification.status == Status::Live {
                finding.severity = Severity::Critical;
            }
            finding.verification = verification;
        }
    }
}

/// The verification of one token, or `None` when it is not an asymmetric JWS (HMAC, `none`,
/// `null`: other verifiers judge those).
fn verify_token(token: &str, info: &JwtInfo, sources: &Sources, now: i64) -> Option<Verification> {
    let algorithm = match (Algorithm::from_str(&info.alg), info.alg.as_str()) {
        (Ok(algorithm), _) if algorithm.family() == AlgorithmFamily::Hmac => return None,
        (Ok(algorithm), _) => Check::Jwt(algorithm),
        // `jsonwebtoken` has no P-521: ES512 is checked with the `p521` crate.
        (Err(_), "ES512") => Check::Es512,
        (Err(_), alg) if is_asymmetric_name(alg) => {
            return Some(Verification {
                kid: info.kid.clone(),
                detail: Some(format!(
                    "not checked: keysweep cannot verify {alg} signatures"
                )),
                ..Verification::default()
            });
        }
        (Err(_), _) => return None,
    };
    let (message, signature) = token.rsplit_once('.')?;
    if signature.is_empty() {
        return None;
    }
    if let Some(signer) = find_signer(message, signature, algorithm, info, sources) {
        return Some(signed(signer, info, now));
    }
    let unchecked = if !sources.errors.is_empty() {
        Some((
            Status::Error,
            format!(
                "could not check every configured key set: {}",
                sources.errors.join("; ")
            ),
        ))
    } else if !sources.skipped_offline.is_empty() {
        Some((
            Status::Unverified,
            format!(
                "not checked: network use is off (--offline), so {} was not fetched",
                sources.skipped_offline.join(", ")
            ),
        ))
    } else {
        None
    };
    let (status, detail) = unchecked.unwrap_or_else(|| {
        let checked: Vec<&str> = sources.sets.iter().map(|s| s.configured.as_str()).collect();
        let keys: usize = sources.sets.iter().map(|s| s.keys.len()).sum();
        (
            Status::NotLive,
            format!(
                "the {} signature does not verify against any of the {keys} key(s) of {}",
                info.alg,
                checked.join(", ")
            ),
        )
    });
    Some(Verification {
        kid: info.kid.clone(),
        detail: Some(detail),
        ..Verification::with_status(status)
    })
}

/// JOSE signature algorithms keysweep does not verify (ES256K, Ed448 …).
fn is_asymmetric_name(alg: &str) -> bool {
    ["RS", "PS", "ES", "Ed"]
        .iter()
        .any(|prefix| alg.starts_with(prefix))
}

/// How a token's signature is checked.
#[derive(Clone, Copy)]
enum Check {
    /// With `jsonwebtoken` (RS*, PS*, ES256, ES384, EdDSA).
    Jwt(Algorithm),
    /// ES512, with the `p521` crate.
    Es512,
}

impl Check {
    /// Whether `key` verifies `signature` over `message`.
    fn verifies(self, key: &PublishedKey, message: &str, signature: &str) -> bool {
        match self {
            Check::Jwt(algorithm) => decoding_key(key, algorithm).is_some_and(|decoding| {
                jsonwebtoken::crypto::verify(signature, message.as_bytes(), &decoding, algorithm)
                    .unwrap_or(false)
            }),
            Check::Es512 => es512_verifies(key, message, signature),
        }
    }
}

/// The first key, in set order, whose signature check passes: keys with the token's `kid`
/// first, then (when the token names none, or no key has it) every key of a fitting type.
fn find_signer<'a>(
    message: &str,
    signature: &str,
    check: Check,
    info: &JwtInfo,
    sources: &'a Sources,
) -> Option<Signer<'a>> {
    let keys = || {
        sources
            .sets
            .iter()
            .flat_map(|set| set.keys.iter().map(move |key| Signer { set, key }))
    };
    let verifies = |signer: &Signer<'_>| check.verifies(signer.key, message, signature);
    if let Some(kid) = &info.kid {
        let with_kid = keys()
            .filter(|s| s.key.kid.as_deref() == Some(kid.as_str()))
            .find(|s| verifies(s));
        if with_kid.is_some() {
            return with_kid;
        }
    }
    keys().find(|s| verifies(s))
}

/// An ES512 signature (JOSE's 132-byte r||s) by a published P-521 key.
fn es512_verifies(key: &PublishedKey, message: &str, signature: &str) -> bool {
    use p521::ecdsa::signature::Verifier;
    let Some(PublicKey::Ec { crv: "P-521", x, y }) = super::jwks::public_key(&key.raw) else {
        return false;
    };
    let mut point = vec![0x04];
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let (Ok(verifying), Some(signature)) = (
        p521::ecdsa::VerifyingKey::from_sec1_bytes(&point),
        crate::encoding::base64_url(signature.as_bytes()),
    ) else {
        return false;
    };
    p521::ecdsa::Signature::from_slice(&signature)
        .is_ok_and(|signature| verifying.verify(message.as_bytes(), &signature).is_ok())
}

/// A `jsonwebtoken` key for a published key, when its type fits the algorithm (RSA for RS*/PS*,
/// the curve of ES256/ES384, Ed25519 for EdDSA). Built from keysweep's own JWK reading, so a
/// key that matches a found private key by thumbprint is the key checked here.
fn decoding_key(key: &PublishedKey, algorithm: Algorithm) -> Option<DecodingKey> {
    let public = super::jwks::public_key(&key.raw)?;
    match (algorithm.family(), &public) {
        (AlgorithmFamily::Rsa, PublicKey::Rsa { n, e }) => {
            Some(DecodingKey::from_rsa_raw_components(n, e))
        }
        (AlgorithmFamily::Ec, PublicKey::Ec { crv, x, y }) => {
            let fits = matches!(
                (algorithm, *crv),
                (Algorithm::ES256, "P-256") | (Algorithm::ES384, "P-384")
            );
            fits.then(|| DecodingKey::from_ec_components(&to_base64_url(x), &to_base64_url(y)))?
                .ok()
        }
        (AlgorithmFamily::Ed, PublicKey::Ed25519 { x }) => {
            DecodingKey::from_ed_components(&to_base64_url(x)).ok()
        }
        _ => None,
    }
}

/// A token whose signature verified: live unless it has expired.
fn signed(signer: Signer<'_>, info: &JwtInfo, now: i64) -> Verification {
    let kid = signer.key.kid.clone();
    let key_name = match &kid {
        Some(kid) => format!("kid {kid}"),
        None => format!("key #{} (no kid)", signer.key.index + 1),
    };
    let verified = format!(
        "signature verified against {}, {key_name}",
        signer.set.location
    );
    let (status, expiry) = match info.exp {
        None => (Status::Live, "no exp: it never expires".to_string()),
        Some(exp) if exp > now => (Status::Live, format!("expires {}", utc_date(exp))),
        Some(exp) => (Status::NotLive, format!("but it expired {}", utc_date(exp))),
    };
    let mut detail = format!("{verified}, {expiry}");
    if signer.set.location != signer.set.configured {
        detail.push_str(&format!(" (issuer {})", signer.set.configured));
    }
    Verification {
        kid,
        source: Some(signer.set.configured.clone()),
        detail: Some(detail),
        ..Verification::with_status(status)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `2026-12-01T09:44:18Z` for seconds since the epoch (Howard Hinnant's civil-from-days).
pub fn utc_date(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_with_the_parser() {
        for seconds in [0, 951_782_400, 1_709_213_400, 4_102_444_800, -86_400] {
            let text = utc_date(seconds);
            assert_eq!(super::super::epoch_seconds(&text), Some(seconds), "{text}");
        }
        assert_eq!(utc_date(1_300_819_380), "2011-03-22T18:43:00Z");
    }

    #[test]
    fn rfc8037_eddsa_token_verifies_against_its_key() {
        // RFC 8037 A.4: {"alg":"EdDSA"} over "Example of Ed25519 signing", key A.2.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jose/");
        let token = std::fs::read_to_string(format!("{dir}rfc8037-A.4-jws-compact.txt")).unwrap();
        let key = std::fs::read(format!("{dir}rfc8037-A.2-ed25519-public.json")).unwrap();
        let set = KeySet {
            location: "file".to_string(),
            configured: "file".to_string(),
            keys: super::super::jwks::parse_set(&key).unwrap(),
        };
        let sources = Sources {
            sets: vec![set],
            ..Sources::default()
        };
        let info = JwtInfo {
            alg: "EdDSA".to_string(),
            ..JwtInfo::default()
        };
        let verification = verify_token(token.trim(), &info, &sources, 0).unwrap();
        assert_eq!(verification.status, Status::Live, "{verification:?}");
        assert!(verification.detail.unwrap().contains("no exp"));
        // One flipped signature byte: not live.
        let mut forged = token.trim().to_string();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        let verification = verify_token(&forged, &info, &sources, 0).unwrap();
        assert_eq!(verification.status, Status::NotLive);
        // An unsigned token is never checked, so never live.
        let none = JwtInfo {
            alg: "none".to_string(),
            ..JwtInfo::default()
        };
        assert!(verify_token(token.trim(), &none, &sources, 0).is_none());
    }
}
