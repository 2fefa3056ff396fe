//! JWTs, HMAC, JWK thumbprints and JWKS documents, computed here independently of keysweep.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use super::der::PublicKey;
use super::text::b64url;
use super::tools::openssl;

pub fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// HMAC over SHA-256/384/512 (RFC 2104), written out so the tests do not share keysweep's code.
pub fn hmac_sha2(alg: &str, key: &[u8], message: &[u8]) -> Vec<u8> {
    fn mac<D: Digest>(key: &[u8], message: &[u8], block: usize) -> Vec<u8> {
        let mut k = vec![0u8; block];
        if key.len() > block {
            let d = D::digest(key);
            k[..d.len()].copy_from_slice(&d);
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let mut inner = D::new();
        inner.update(&ipad);
        inner.update(message);
        let inner = inner.finalize();
        let mut outer = D::new();
        outer.update(&opad);
        outer.update(inner);
        outer.finalize().to_vec()
    }
    match alg {
        "HS256" => mac::<sha2::Sha256>(key, message, 64),
        "HS384" => mac::<sha2::Sha384>(key, message, 128),
        "HS512" => mac::<sha2::Sha512>(key, message, 128),
        other => panic!("unsupported alg {other}"),
    }
}

/// A JWT with the given header and claims; `sign` gets the signing input and returns signature bytes.
pub fn make_jwt(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let h = b64url(serde_json::to_string(header).expect("json").as_bytes());
    let c = b64url(serde_json::to_string(claims).expect("json").as_bytes());
    let input = format!("{h}.{c}");
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64url(&sig))
}

/// An HS* JWT (`{"alg": alg, "typ": "JWT"}`) signed with `key`.
pub fn hs_jwt(alg: &str, key: &[u8], claims: &Value) -> String {
    make_jwt(&json!({"alg": alg, "typ": "JWT"}), claims, |input| {
        hmac_sha2(alg, key, input)
    })
}

/// RS256 signature with openssl over `input` using the private PEM.
pub fn rs256_sign(private_pem: &str, input: &[u8]) -> Vec<u8> {
    let tmp = TempDir::new().expect("tmp");
    std::fs::write(tmp.path().join("k.pem"), private_pem).expect("write");
    std::fs::write(tmp.path().join("in"), input).expect("write");
    openssl(
        &["dgst", "-sha256", "-sign", "k.pem", "-out", "sig", "in"],
        tmp.path(),
    );
    std::fs::read(tmp.path().join("sig")).expect("sig")
}

/// RFC 7638 thumbprint of a JWK given as JSON (computed from its members, independently).
pub fn jwk_thumbprint(jwk: &Value) -> String {
    let s = |m: &str| {
        jwk[m]
            .as_str()
            .unwrap_or_else(|| panic!("jwk.{m}"))
            .to_string()
    };
    let canon = match jwk["kty"].as_str().expect("kty") {
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s("e"), s("n")),
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            s("crv"),
            s("x"),
            s("y")
        ),
        "OKP" => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, s("crv"), s("x")),
        "oct" => format!(r#"{{"k":"{}","kty":"oct"}}"#, s("k")),
        k => panic!("kty {k}"),
    };
    b64url(&sha256(canon.as_bytes()))
}

/// A copy of `jwk` with the members of the object `extra` set.
pub fn with(jwk: &Value, extra: Value) -> Value {
    let mut jwk = jwk.clone();
    for (k, v) in extra.as_object().expect("object") {
        jwk[k] = v.clone();
    }
    jwk
}

/// A public JWK with a kid (and `use`, as real sets have).
pub fn public_jwk(key: &PublicKey, kid: &str) -> Value {
    with(&key.jwk_public(), json!({"kid": kid, "use": "sig"}))
}

/// A JWKS document of the given keys.
pub fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}
