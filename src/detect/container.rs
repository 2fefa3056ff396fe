//! Binary key material recognised by file name or magic bytes: DER private keys, PKCS#12/PFX,
//! Java KeyStore (JKS) and JCEKS files. Binary files are otherwise not scanned.

use sha2::{Digest, Sha256};

use super::keys;
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

/// Examine a binary key file. Returns at most one candidate spanning the whole file.
pub fn detect(bytes: &[u8], rule_id: &str) -> Option<Candidate> {
    let (kind, format, key) = if let Some((public, structure)) = der_private_key(bytes) {
        (
            public.kind(),
            format!("der-{structure}"),
            public.key_info(false),
        )
    } else if bytes.starts_with(&JKS_MAGIC) && jks_has_private_key(bytes) {
        (kind::KEYSTORE, "jks".to_string(), opaque("JKS"))
    } else if bytes.starts_with(&JCEKS_MAGIC) {
        (kind::KEYSTORE, "jceks".to_string(), opaque("JCEKS"))
    } else if looks_like_pkcs12(bytes) {
        (kind::KEYSTORE, "pkcs12".to_string(), opaque("PKCS#12"))
    } else {
        return None;
    };
    let identity = match &key.thumbprint {
        Some(thumbprint) => thumbprint.clone().into_bytes(),
        None => Sha256::digest(bytes).to_vec(),
    };
    Some(Candidate {
        kind: kind.to_string(),
        identity,
        secret: String::new(),
        preview: format!("({format}, {} bytes, redacted)", bytes.len()),
        key: Some(key),
        jwt: None,
        format,
        rule_id: rule_id.to_string(),
        start: 0,
        end: 0,
        related: None,
    })
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
