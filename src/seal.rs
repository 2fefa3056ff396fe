//! Sealing the raw secrets of shard reports, so `keysweep merge` can verify across shards
//! without shard files that give secrets away.
//!
//! Shards of an org-wide sweep are merged elsewhere (an artifact of a CI matrix, a volume of
//! a batch job), and the merge tries the HMAC secrets of one repository against the tokens of
//! another: it needs both in full. A shard file must not hold them in clear, so with a key
//! shared by the shards and the merge (`KEYSWEEP_SHARD_KEY`, a CI secret) each secret or token
//! a later check needs is sealed with AES-256-GCM. The AEAD key comes from the shared key by
//! HKDF-SHA-256 (RFC 5869); the nonce is random (96 bits); the finding's fingerprint is the
//! associated data, so a sealed value cannot be moved to another finding. Without the key,
//! shards carry no secret material at all.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::Sha256;

/// The environment variable holding the shared key.
pub const KEY_VARIABLE: &str = "KEYSWEEP_SHARD_KEY";

/// The shortest shared key accepted, in bytes (`openssl rand -hex 32` gives 64).
pub const MIN_KEY_BYTES: usize = 16;

/// What a sealed value starts with (the format's version).
const PREFIX: &str = "v1.";

/// A sealing key derived from the shared key.
#[derive(Clone)]
pub struct SealKey {
    key: [u8; 32],
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

/// Why a value could not be sealed or opened.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("{KEY_VARIABLE} is shorter than {MIN_KEY_BYTES} bytes (try `openssl rand -hex 32`)")]
    ShortKey,
    #[error("not a sealed value")]
    Format,
    #[error("cannot be opened with this {KEY_VARIABLE} (another key, or altered)")]
    Open,
    #[error("no random numbers from the system")]
    Random,
}

impl SealKey {
    /// Derive the sealing key from the shared key.
    pub fn derive(shared: &str) -> Result<SealKey, SealError> {
        let shared = shared.trim();
        if shared.len() < MIN_KEY_BYTES {
            return Err(SealError::ShortKey);
        }
        let prk = hmac_sha256(b"keysweep shard seal", shared.as_bytes());
        let key = hmac_sha256(&prk, b"aes-256-gcm v1\x01");
        Ok(SealKey { key })
    }

    fn aead(&self) -> LessSafeKey {
        // A 32-byte key is always valid for AES-256-GCM.
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.key).expect("AES-256 key length"))
    }

    /// Seal `plain` for the finding `fingerprint`.
    pub fn seal(&self, fingerprint: &str, plain: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut data = plain.as_bytes().to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(fingerprint.as_bytes()),
                &mut data,
            )
            .map_err(|_| SealError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Open a value sealed for the finding `fingerprint`.
    pub fn open(&self, fingerprint: &str, sealed: &str) -> Result<String, SealError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(SealError::Format)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Format)?;
        if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SealError::Format);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Format)?;
        let mut data = data.to_vec();
        let plain = self
            .aead()
            .open_in_place(nonce, Aad::from(fingerprint.as_bytes()), &mut data)
            .map_err(|_| SealError::Open)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Open)
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = SealKey::derive("0123456789abcdef0123456789abcdef").unwrap();
        let sealed = key.seal("fp-1", "s3cr3t-value").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(key.open("fp-1", &sealed).unwrap(), "s3cr3t-value");
        // Bound to its finding, its key and its bytes.
        assert_eq!(key.open("fp-2", &sealed), Err(SealError::Open));
        let other = SealKey::derive("another key, long enough!").unwrap();
        assert_eq!(other.open("fp-1", &sealed), Err(SealError::Open));
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            key.open("fp-1", &String::from_utf8(altered).unwrap())
                .is_err()
        );
        // Fresh nonces: the same secret seals differently.
        assert_ne!(sealed, key.seal("fp-1", "s3cr3t-value").unwrap());
    }

    #[test]
    fn bad_keys_and_values() {
        assert_eq!(SealKey::derive("short").unwrap_err(), SealError::ShortKey);
        let key = SealKey::derive("0123456789abcdef").unwrap();
        for bad in ["", "v1.", "v1.!!!", "v2.AAAA", "v1.AAAA"] {
            assert!(key.open("fp", bad).is_err(), "{bad}");
        }
    }
}
