//! Raw private keys: the bare scalar or seed of an elliptic-curve or octet-key-pair key, written
//! as hex or base64 and assigned to a name that says private key (`bobPrivKeyHex = '5dab…'`,
//! `PRIVATE_KEY=0x…`, WireGuard's `PrivateKey = …=`).
//!
//! A raw value carries no algorithm. Its size narrows the candidates (32 bytes: Ed25519,
//! X25519, secp256k1 or P-256; 48: P-384; 56: X448; 57: Ed448; 66: P-521). When a public key
//! written near it (hex or base64) is the public half of one candidate, the key is reported
//! under that algorithm with its RFC 7638 thumbprint; otherwise it is `private-key/other`, its
//! size and the candidate curves named, and no curve is invented.

use std::sync::LazyLock;

use regex::bytes::Regex;
use sha2::{Digest, Sha256};

use super::MatchContext;
use super::keys::{self, PublicKey};
use crate::encoding::{base64_standard, base64_url};
use crate::finding::{Candidate, kind, redact};

/// How far around the assignment a matching public key is looked for.
const PAIR_WINDOW: usize = 2048;

/// Name words that make the value something other than a private key: its public half, a
/// hash or fingerprint of it, its encrypted form, its identifier, or a test's expected output.
const NOT_THE_KEY: &[&str] = &[
    "pub",
    "public",
    "pubkey",
    "hash",
    "digest",
    "thumbprint",
    "fingerprint",
    "checksum",
    "expected",
    "encrypted",
    "wrapped",
    "cipher",
    "ciphertext",
    "id",
    "ids",
    "kid",
    "path",
    "file",
    "filename",
    "name",
    "url",
    "len",
    "length",
    "size",
    "password",
    "passphrase",
    "salt",
    "iv",
    "nonce",
    "sig",
    "signature",
    "address",
];

/// Hex, or base64 / base64url, as it may appear in text near the key.
static NEARBY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:0x)?([0-9A-Fa-f]{64,264}|[A-Za-z0-9_+/\-]{43,176}={0,2})")
        .expect("nearby value regex is valid")
});

/// Report a raw private key assigned to a private-key name.
pub fn detect(ctx: &MatchContext<'_>) -> Option<Candidate> {
    let name = ctx.group("name")?;
    if !names_private_key(name) {
        return None;
    }
    let value = std::str::from_utf8(ctx.secret()).ok()?.trim();
    let (private, encoding) = decode(value)?;
    let candidates = curves_of_size(private.len())?;
    if !varied(&private) {
        return None;
    }
    let low = ctx.match_start.saturating_sub(PAIR_WINDOW);
    let high = (ctx.match_end + PAIR_WINDOW).min(ctx.blob.len());
    let nearby = nearby_values(&ctx.blob[low..high], &private);
    let paired = candidates
        .iter()
        .filter_map(|crv| derive(crv, &private))
        .find(|public| public_forms(public).iter().any(|f| nearby.contains(f)));
    let preview = redact(value);
    let size = private.len();
    let mut candidate = match paired {
        Some(public) => {
            let format = format!("raw {encoding}, {size} bytes, public half next to it");
            let mut c = ctx.candidate(
                public.kind(),
                public.thumbprint().into_bytes(),
                value.to_string(),
                preview,
                &format,
            );
            c.key = Some(public.key_info(false));
            c
        }
        None => {
            let format = format!("raw {encoding}, {size} bytes");
            let key_type = format!("raw {size}-byte private key ({})", candidates.join(", "));
            let identity = Sha256::digest(&private).to_vec();
            let mut c = ctx.candidate(kind::OTHER, identity, value.to_string(), preview, &format);
            c.key = Some(keys::opaque_key_info(&key_type, None, false));
            c
        }
    };
    candidate.start = ctx.match_start;
    candidate.end = ctx.match_end;
    Some(candidate)
}

/// The words of an identifier (`bobPrivKeyHex` → bob, priv, key, hex; `PRIVATE_KEY` →
/// private, key), lowercased.
fn words(name: &[u8]) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for &byte in name {
        let c = byte as char;
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether the identifier names a private key: a word `priv`/`private` (or `privkey`,
/// `privatekey`) with a word `key`, and no word that makes it something else.
fn names_private_key(name: &[u8]) -> bool {
    let words = words(name);
    if words.iter().any(|w| NOT_THE_KEY.contains(&w.as_str())) {
        return false;
    }
    let joined = words.iter().any(|w| w == "privkey" || w == "privatekey");
    let private = words.iter().any(|w| w == "priv" || w == "private");
    let key = words.iter().any(|w| w == "key" || w == "keys");
    joined || (private && key)
}

/// The bytes of a hex (optionally `0x`) or base64/base64url value, and which encoding it was.
/// Base64 is accepted only for 32-byte values (43 characters, or 44 with padding): longer
/// base64 is more often a DER structure than a raw key.
fn decode(value: &str) -> Option<(Vec<u8>, &'static str)> {
    let hex_text = value.strip_prefix("0x").unwrap_or(value);
    if hex_text.len().is_multiple_of(2) && hex_text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some((decode_hex(hex_text.as_bytes())?, "hex"));
    }
    let unpadded = value.trim_end_matches('=');
    if unpadded.len() != 43 {
        return None;
    }
    let bytes = base64_url(value.as_bytes()).or_else(|| base64_standard(value.as_bytes()))?;
    (bytes.len() == 32).then_some((bytes, "base64"))
}

/// Hex digits to bytes (`None` for an odd length or a non-hex digit).
fn decode_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    text.chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// The algorithms whose private keys have this many bytes.
fn curves_of_size(size: usize) -> Option<&'static [&'static str]> {
    Some(match size {
        32 => &["Ed25519", "X25519", "secp256k1", "P-256"],
        48 => &["P-384"],
        56 => &["X448"],
        57 => &["Ed448"],
        65 | 66 => &["P-521"],
        _ => return None,
    })
}

/// Not a row of one byte or a short repeated pattern (`00…01`, `0101…`): a real key has many
/// distinct bytes.
fn varied(bytes: &[u8]) -> bool {
    let mut seen = [false; 256];
    for &b in bytes {
        seen[b as usize] = true;
    }
    seen.iter().filter(|&&s| s).count() >= bytes.len() / 4
}

/// The public key of `private` on `crv`, where keysweep computes it.
fn derive(crv: &str, private: &[u8]) -> Option<PublicKey> {
    match crv {
        "Ed25519" => keys::ed25519_from_seed(private).ok(),
        "X25519" => keys::x25519_from_scalar(private).ok(),
        "P-521" if private.len() == 65 => {
            let mut padded = vec![0u8];
            padded.extend_from_slice(private);
            keys::ec_from_scalar(crv, &padded).ok()
        }
        "secp256k1" | "P-256" | "P-384" | "P-521" => keys::ec_from_scalar(crv, private).ok(),
        _ => None,
    }
}

/// The ways a public key is written as bytes: an OKP key's bytes; an EC point uncompressed
/// (`04‖x‖y`), as `x‖y`, compressed, or its `x` coordinate alone (a JWK's `x`).
fn public_forms(public: &PublicKey) -> Vec<Vec<u8>> {
    match public {
        PublicKey::Ed25519 { x } | PublicKey::Okp { x, .. } => vec![x.clone()],
        PublicKey::Ec { x, y, .. } => {
            let mut uncompressed = vec![4u8];
            uncompressed.extend_from_slice(x);
            uncompressed.extend_from_slice(y);
            let raw = uncompressed[1..].to_vec();
            let mut compressed = vec![2 + (y.last().copied().unwrap_or(0) & 1)];
            compressed.extend_from_slice(x);
            vec![uncompressed, raw, compressed, x.clone()]
        }
        PublicKey::Rsa { .. } => Vec::new(),
    }
}

/// Decoded hex and base64 values in `text`, except the private key itself.
fn nearby_values(text: &[u8], private: &[u8]) -> Vec<Vec<u8>> {
    let mut values = Vec::new();
    for caps in NEARBY_VALUE.captures_iter(text) {
        let raw = &caps[1];
        let decoded = if raw.len() % 2 == 0 && raw.iter().all(u8::is_ascii_hexdigit) {
            decode_hex(raw)
        } else {
            base64_url(raw).or_else(|| base64_standard(raw))
        };
        if let Some(bytes) = decoded
            && bytes != private
        {
            values.push(bytes);
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_words() {
        assert_eq!(words(b"bobPrivKeyHex"), ["bob", "priv", "key", "hex"]);
        assert_eq!(words(b"PRIVATE_KEY"), ["private", "key"]);
        assert_eq!(words(b"privateKey2"), ["private", "key2"]);
        assert_eq!(words(b"ed25519_privkey"), ["ed25519", "privkey"]);
    }

    #[test]
    fn private_key_names() {
        for name in [
            "bobPrivKeyHex",
            "PRIVATE_KEY",
            "privateKey",
            "private_key_hex",
            "ed25519_privkey",
            "PrivateKey",
            "signingPrivateKeyBytes",
        ] {
            assert!(names_private_key(name.as_bytes()), "{name}");
        }
        for name in [
            "privateKeyHash",
            "expectedPrivateKey",
            "publicKey",
            "privateKeyId",
            "privKeyPubHex",
            "privacyPolicy",
            "private_key_path",
            "encryptedPrivateKey",
        ] {
            assert!(!names_private_key(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn decodes_hex_and_32_byte_base64_only() {
        let hex32 = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
        assert_eq!(decode(hex32).map(|(b, e)| (b.len(), e)), Some((32, "hex")));
        let prefixed = format!("0x{hex32}");
        assert_eq!(decode(&prefixed).map(|(b, _)| b.len()), Some(32));
        let b64 = "XasIfmJKikt54X+Lg4AO5m87sSkmGLb9HC+LJ/+I4Os=";
        assert_eq!(decode(b64).map(|(b, e)| (b.len(), e)), Some((32, "base64")));
        assert!(
            decode("MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF").is_none()
        );
    }

    #[test]
    fn sizes_name_their_curves() {
        assert_eq!(curves_of_size(56), Some(&["X448"][..]));
        assert!(curves_of_size(20).is_none());
        assert!(curves_of_size(64).is_none());
    }

    #[test]
    fn x25519_pairs_with_its_public_key() {
        // RFC 7748 section 6.1, Bob's key pair.
        let private =
            decode_hex(b"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
                .unwrap();
        let text = b"pub = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'";
        let nearby = nearby_values(text, &private);
        let paired = ["Ed25519", "X25519"]
            .iter()
            .filter_map(|crv| derive(crv, &private))
            .find(|p| public_forms(p).iter().any(|f| nearby.contains(f)));
        assert!(matches!(paired, Some(PublicKey::Okp { crv: "X25519", .. })));
    }

    #[test]
    fn repeated_bytes_are_not_keys() {
        assert!(!varied(&[0u8; 32]));
        let mut one = [0u8; 32];
        one[31] = 1;
        assert!(!varied(&one));
        assert!(varied(&(0u8..32).collect::<Vec<_>>()));
    }
}
