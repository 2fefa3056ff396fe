//! Local HS256/HS384/HS512 signature checks (RFC 2104 HMAC over SHA-2). Nothing leaves the
//! machine: a secret is proven by recomputing a token's signature.

use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::encoding::{base64_standard, base64_url};

/// The HMAC algorithms JWS defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HsAlg {
    Hs256,
    Hs384,
    Hs512,
}

impl HsAlg {
    pub fn from_name(alg: &str) -> Option<HsAlg> {
        match alg {
            "HS256" => Some(HsAlg::Hs256),
            "HS384" => Some(HsAlg::Hs384),
            "HS512" => Some(HsAlg::Hs512),
            _ => None,
        }
    }
}

/// An HS* JWS in compact form, split for verification.
#[derive(Clone, Debug)]
pub struct HsToken {
    pub alg: HsAlg,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

impl HsToken {
    /// Split a compact JWS whose header `alg` is HS256/384/512.
    pub fn parse(token: &str, alg: &str) -> Option<HsToken> {
        let alg = HsAlg::from_name(alg)?;
        let token = token.trim();
        let last_dot = token.rfind('.')?;
        let signing_input = &token[..last_dot];
        if signing_input.matches('.').count() != 1 {
            return None;
        }
        let signature = base64_url(&token.as_bytes()[last_dot + 1..])?;
        let expected_len = match alg {
            HsAlg::Hs256 => 32,
            HsAlg::Hs384 => 48,
            HsAlg::Hs512 => 64,
        };
        (signature.len() == expected_len).then(|| HsToken {
            alg,
            signing_input: signing_input.as_bytes().to_vec(),
            signature,
        })
    }

    /// Whether `key` produced this token's signature.
    pub fn verifies(&self, key: &[u8]) -> bool {
        match self.alg {
            HsAlg::Hs256 => finish(&prepare::<Sha256>(key, 64), &self.signing_input),
            HsAlg::Hs384 => finish(&prepare::<Sha384>(key, 128), &self.signing_input),
            HsAlg::Hs512 => finish(&prepare::<Sha512>(key, 128), &self.signing_input),
        }
        .as_slice()
            == self.signature.as_slice()
    }

    /// Whether a prepared key produced this token's signature (two hash blocks fewer per try).
    pub fn verifies_prepared(&self, key: &PreparedKey) -> bool {
        match self.alg {
            HsAlg::Hs256 => finish(&key.sha256, &self.signing_input),
            HsAlg::Hs384 => finish(&key.sha384, &self.signing_input),
            HsAlg::Hs512 => finish(&key.sha512, &self.signing_input),
        }
        .as_slice()
            == self.signature.as_slice()
    }
}

/// A key with its HMAC inner and outer hash states computed, for trying one key against many
/// tokens (the weak-secret list).
#[derive(Clone)]
pub struct PreparedKey {
    sha256: (Sha256, Sha256),
    sha384: (Sha384, Sha384),
    sha512: (Sha512, Sha512),
}

impl PreparedKey {
    pub fn new(key: &[u8]) -> PreparedKey {
        PreparedKey {
            sha256: prepare(key, 64),
            sha384: prepare(key, 128),
            sha512: prepare(key, 128),
        }
    }
}

/// The inner and outer hash states after absorbing the padded key (RFC 2104).
fn prepare<D: Digest + Clone>(key: &[u8], block: usize) -> (D, D) {
    let mut padded = [0u8; 128];
    if key.len() > block {
        let digest = D::digest(key);
        padded[..digest.len()].copy_from_slice(&digest);
    } else {
        padded[..key.len()].copy_from_slice(key);
    }
    let mut pad = [0u8; 128];
    for (out, byte) in pad.iter_mut().zip(padded) {
        *out = byte ^ 0x36;
    }
    let mut inner = D::new();
    inner.update(&pad[..block]);
    for (out, byte) in pad.iter_mut().zip(padded) {
        *out = byte ^ 0x5c;
    }
    let mut outer = D::new();
    outer.update(&pad[..block]);
    (inner, outer)
}

fn finish<D: Digest + Clone>(states: &(D, D), message: &[u8]) -> Vec<u8> {
    let mut inner = states.0.clone();
    inner.update(message);
    let mut outer = states.1.clone();
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// RFC 2104 HMAC with a SHA-2 hash of the given block size (64 or 128 bytes).
pub fn hmac<D: Digest + Clone>(key: &[u8], message: &[u8], block: usize) -> Vec<u8> {
    finish(&prepare::<D>(key, block), message)
}

/// The byte strings a written secret may stand for: the text itself and, where it is valid
/// base64 or base64url, its decoded bytes (Spring's `Decoders.BASE64`, JWK `k`).
pub fn key_variants(secret: &str) -> Vec<Vec<u8>> {
    let mut variants = vec![secret.as_bytes().to_vec()];
    let trimmed = secret.trim();
    if trimmed.len() >= 8 {
        for decoded in [
            base64_standard(trimmed.as_bytes()),
            base64_url(trimmed.as_bytes()),
        ]
        .into_iter()
        .flatten()
        {
            if !decoded.is_empty() && !variants.contains(&decoded) {
                variants.push(decoded);
            }
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7515 Appendix A.1.
    const TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const K: &str =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

    #[test]
    fn rfc7515_a1_verifies_with_its_key() {
        let token = HsToken::parse(TOKEN, "HS256").unwrap();
        let variants = key_variants(K);
        assert!(variants.iter().any(|key| token.verifies(key)));
        assert!(!token.verifies(K.as_bytes()));
        assert!(!token.verifies(b"secret"));
    }

    #[test]
    fn rfc4231_case_2() {
        let mac = hmac::<Sha256>(b"Jefe", b"what do ya want for nothing?", 64);
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let mac = hmac::<Sha512>(b"Jefe", b"what do ya want for nothing?", 128);
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert!(
            hex.starts_with("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554")
        );
    }

    #[test]
    fn long_keys_are_hashed_first() {
        let key = [0xaau8; 131];
        let mac = hmac::<Sha256>(
            &key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
            64,
        );
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
