//! Binary key material recognised by file name or magic bytes: DER private keys, PKCS#12/PFX,
//! Java KeyStore (JKS) and JCEKS files. Binary files are otherwise not scanned.
//!
//! PKCS#12 files are opened (`detect::pkcs12`): each private key inside is reported like any
//! other private key, with how the file was opened; a file that stays locked is reported as a
//! key store.

use sha2::{Digest, Sha256};

use super::keys;
use super::pkcs12::{self, Access, Lock};
use crate::finding::{Candidate, KeyInfo, kind};

const JKS_MAGIC: [u8; 4] = [0xfe, 0xed, 0xfe, 0xed];
const JCEKS_MAGIC: [u8; 4] = [0xce, 0xce, 0xce, 0xce];

/// File extensions that hold binary keys.
const KEY_EXTENSIONS: &[&str] = &[
    "der", "key", "p8", "pk8", "pkcs8", "p12", "pfx", "jks", "keystore", "jceks", "bks", "ks",
];

/// Whether a binary file should still be examined, judged by name or first bytes.
pub fn is_key_container(path: &str, head: &[u8]) -> bool {
    let lower = path.to_ascii_lowercase();
    let by_name = lower
        .rsplit_once('.')
        .is_some_and(|(_, extension)| KEY_EXTENSIONS.contains(&extension));
    by_name
        || head.starts_with(&JKS_MAGIC)
        || head.starts_with(&JCEKS_MAGIC)
        || looks_like_pkcs12(head)
}

/// DER `SEQUENCE { INTEGER 3, ... }`: the PFX outer structure.
fn looks_like_pkcs12(der: &[u8]) -> bool {
    let Some(rest) = der.strip_prefix(&[0x30]) else {
        return false;
    };
    let skip = match rest.first() {
        Some(0x80..=0x84) => 1 + usize::from(rest[0] & 0x7f),
        Some(_) => 1,
        None => return false,
    };
    rest.get(skip..skip + 3) == Some(&[0x02, 0x01, 0x03])
}

/// Examine a binary key file: one candidate spanning the whole file, or for a PKCS#12 file one
/// per private key it holds (none for a certificate-only store).
pub fn detect(bytes: &[u8], rule_id: &str) -> Vec<Candidate> {
    let (kind, format, key, detail) = if let Some((public, structure)) = der_private_key(bytes) {
        (
            public.kind(),
            format!("der-{structure}"),
            public.key_info(false),
            None,
        )
    } else if bytes.starts_with(&JKS_MAGIC) && jks_has_private_key(bytes) {
        (kind::KEYSTORE, "jks".to_string(), opaque("JKS"), None)
    } else if bytes.starts_with(&JCEKS_MAGIC) {
        (kind::KEYSTORE, "jceks".to_string(), opaque("JCEKS"), None)
    } else if looks_like_pkcs12(bytes) {
        return pkcs12_candidates(bytes, rule_id);
    } else {
        return Vec::new();
    };
    vec![whole_file(bytes, rule_id, kind, format, key, detail)]
}

/// A candidate spanning the whole file (located at line 1).
fn whole_file(
    bytes: &[u8],
    rule_id: &str,
    kind: &str,
    format: String,
    key: KeyInfo,
    detail: Option<String>,
) -> Candidate {
    let identity = match &key.thumbprint {
        Some(thumbprint) => thumbprint.clone().into_bytes(),
        None => Sha256::digest(bytes).to_vec(),
    };
    let preview = match detail {
        Some(detail) => format!("({detail}, redacted)"),
        None => format!("({format}, {} bytes, redacted)", bytes.len()),
    };
    Candidate {
        kind: kind.to_string(),
        identity,
        secret: String::new(),
        preview,
        key: Some(key),
        jwt: None,
        format,
        rule_id: rule_id.to_string(),
        start: 0,
        end: 0,
        related: None,
    }
}

/// Open a PKCS#12 file and report its private keys, or the store itself when it stays locked.
fn pkcs12_candidates(bytes: &[u8], rule_id: &str) -> Vec<Candidate> {
    let Some(contents) = pkcs12::open(bytes) else {
        return vec![pkcs12_store(bytes, rule_id, "unreadable structure")];
    };
    let mut out: Vec<Candidate> = contents
        .keys
        .iter()
        .map(|opened| pkcs12_key(bytes, rule_id, &opened.pkcs8, opened.access))
        .collect();
    if let Some(reason) = lock_reason(&contents.locked) {
        out.push(pkcs12_store(bytes, rule_id, &reason));
    }
    out
}

/// The store itself as a key-store finding, saying why its keys are not listed.
fn pkcs12_store(bytes: &[u8], rule_id: &str, reason: &str) -> Candidate {
    let detail = format!("PKCS#12, {} bytes, {reason}", bytes.len());
    whole_file(
        bytes,
        rule_id,
        kind::KEYSTORE,
        "pkcs12".to_string(),
        opaque("PKCS#12"),
        Some(detail),
    )
}

/// One private key read from a PKCS#12 file.
fn pkcs12_key(bytes: &[u8], rule_id: &str, pkcs8: &[u8], access: Access) -> Candidate {
    let how = match access {
        Access::Unencrypted => "unencrypted".to_string(),
        Access::Password(p) if p.text.is_empty() => "empty password".to_string(),
        // A password from the shipped list is a well-known default, not a secret: name it.
        Access::Password(p) => format!("common password '{}'", p.text),
    };
    let format = format!("pkcs12, {how}");
    let detail = match access {
        Access::Unencrypted => "PKCS#12 holding an unencrypted key".to_string(),
        Access::Password(_) => format!("PKCS#12 opened with {how}"),
    };
    match keys::from_pkcs8_der(pkcs8) {
        Ok(public) => {
            let key = public.key_info(false);
            whole_file(bytes, rule_id, public.kind(), format, key, Some(detail))
        }
        Err(_) => {
            let (kind, key_type) = if pkcs8_algorithm(pkcs8).as_deref() == Some(OID_DSA) {
                (kind::DSA, "DSA")
            } else {
                (kind::OTHER, "unknown")
            };
            let mut key = opaque(key_type);
            key.encrypted = false;
            // No thumbprint: the identity is a hash of the key itself, not of the file.
            whole_file(pkcs8, rule_id, kind, format, key, Some(detail))
        }
    }
}

/// `id-dsa`.
const OID_DSA: &str = "1.2.840.10040.4.1";

/// The algorithm OID of a PKCS#8 `PrivateKeyInfo` (kept here so this module does not depend on
/// helpers `keys` may reorganise).
fn pkcs8_algorithm(der: &[u8]) -> Option<String> {
    use pkcs8::der::Decode;
    let info = pkcs8::PrivateKeyInfo::from_der(der).ok()?;
    Some(info.algorithm.oid.to_string())
}

/// Why a PKCS#12 file (or part of it) stayed locked, for the report; `None` when nothing did.
fn lock_reason(locked: &[Lock]) -> Option<String> {
    let tried = || {
        let common = pkcs12::common_passwords().count();
        format!("locked: tried empty and {common} common passwords")
    };
    let reason = locked.iter().find(|l| !matches!(l, Lock::NoPassword));
    match (locked.first()?, reason) {
        (_, Some(Lock::Unsupported(what))) => Some(format!("locked: uses {what}")),
        (_, Some(Lock::TooManyIterations(n))) => Some(format!(
            "locked: asks for {n} key-derivation iterations (keysweep stops at {})",
            pkcs12::MAX_ITERATIONS
        )),
        _ => Some(tried()),
    }
}

fn opaque(key_type: &str) -> KeyInfo {
    KeyInfo {
        key_type: key_type.to_string(),
        bits: None,
        curve: None,
        encrypted: true,
        thumbprint: None,
        public_jwk: None,
    }
}

/// A whole file that is one DER private key (trailing newline tolerated).
fn der_private_key(bytes: &[u8]) -> Option<(keys::PublicKey, &'static str)> {
    if bytes.first() != Some(&0x30) {
        return None;
    }
    keys::from_any_der(bytes).ok()
}

/// JKS: magic, version, entry count, then entries tagged 1 (private key) or 2 (certificate).
fn jks_has_private_key(bytes: &[u8]) -> bool {
    let read_u32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let read_u16 = |at: usize| -> Option<usize> {
        Some(usize::from(u16::from_be_bytes(
            bytes.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let walk = || -> Option<bool> {
        let count = read_u32(8)?;
        let mut at = 12usize;
        for _ in 0..count.min(10_000) {
            let tag = read_u32(at)?;
            if tag == 1 {
                return Some(true);
            }
            at += 4;
            at += 2 + read_u16(at)?; // alias
            at += 8; // timestamp
            if tag != 2 {
                return Some(false);
            }
            at += 2 + read_u16(at)?; // certificate type
            at += 4 + read_u32(at)? as usize; // certificate
        }
        Some(false)
    };
    walk().unwrap_or(true) // unreadable structure: report it, a human should look
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_pkcs12_is_still_reported() {
        let found = detect(&[0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03], "t");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, kind::KEYSTORE);
        assert!(
            found[0].preview.contains("unreadable"),
            "{}",
            found[0].preview
        );
    }

    #[test]
    fn lock_reasons_name_what_was_tried() {
        assert_eq!(lock_reason(&[]), None);
        let tried = lock_reason(&[Lock::NoPassword]).unwrap();
        assert!(tried.starts_with("locked: tried empty and "), "{tried}");
        let unsupported = lock_reason(&[Lock::NoPassword, Lock::Unsupported("RC4".into())]);
        assert_eq!(unsupported.as_deref(), Some("locked: uses RC4"));
    }

    #[test]
    fn recognises_containers_by_name_and_magic() {
        assert!(is_key_container("keys/server.p12", b""));
        assert!(is_key_container(
            "a/b",
            &[0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]
        ));
        assert!(is_key_container(
            "a/b",
            &[0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03]
        ));
        assert!(!is_key_container("image.png", b"\x89PNG"));
    }

    #[test]
    fn jks_truststore_is_not_a_key_store() {
        let mut jks = vec![0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        jks.extend_from_slice(&[0, 1, b'a']);
        jks.extend_from_slice(&[0; 8]);
        jks.extend_from_slice(&[0, 5]);
        jks.extend_from_slice(b"X.509");
        jks.extend_from_slice(&[0, 0, 0, 1, 0x30]);
        assert!(!jks_has_private_key(&jks));
        jks[15] = 1;
        assert!(jks_has_private_key(&jks));
    }
}
