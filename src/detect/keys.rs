//! Private key parsing to a public half, and RFC 7638 JWK thumbprints.
//!
//! DER structures are read with the RustCrypto `pkcs1`/`pkcs8`/`sec1` crates (no size limits, no
//! signature checks); only EC keys without an embedded public point and Ed25519/X25519 seeds need
//! curve arithmetic to derive the public half. Keys of algorithms keysweep cannot turn into a
//! public half are still described (`oids::describe_der`), so they are reported, not dropped.

pub mod oids;

use pkcs8::der::Decode;
use sha2::{Digest, Sha256};

use crate::encoding::{base64_url, to_base64_url};
use crate::finding::{KeyInfo, kind};

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";
const OID_X25519: &str = "1.3.101.110";
const OID_X448: &str = "1.3.101.111";
const OID_ED448: &str = "1.3.101.113";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";
const OID_SECP256K1: &str = "1.3.132.0.10";

/// A public key in the members RFC 7638 hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// Big-endian modulus and exponent, without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Curve name (`P-256`, ...) and fixed-length coordinates.
    Ec {
        crv: &'static str,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// Ed25519 public key bytes.
    Ed25519 { x: Vec<u8> },
    /// Another RFC 8037 octet key pair: `X25519`, `X448` or `Ed448`, with its public bytes.
    Okp { crv: &'static str, x: Vec<u8> },
}

impl PublicKey {
    /// The finding kind for a private key with this public half.
    pub fn kind(&self) -> &'static str {
        match self {
            PublicKey::Rsa { .. } => kind::RSA,
            PublicKey::Ec { .. } => kind::EC,
            PublicKey::Ed25519 { .. } => kind::ED25519,
            PublicKey::Okp { .. } => kind::OKP,
        }
    }

    /// The public JWK with exactly the required members, as RFC 7638 orders them.
    pub fn canonical_jwk(&self) -> String {
        match self {
            PublicKey::Rsa { n, e } => {
                format!(
                    r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                    to_base64_url(e),
                    to_base64_url(n)
                )
            }
            PublicKey::Ec { crv, x, y } => format!(
                r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
                to_base64_url(x),
                to_base64_url(y)
            ),
            PublicKey::Ed25519 { x } => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                to_base64_url(x)
            ),
            PublicKey::Okp { crv, x } => format!(
                r#"{{"crv":"{crv}","kty":"OKP","x":"{}"}}"#,
                to_base64_url(x)
            ),
        }
    }

    /// RFC 7638 thumbprint: SHA-256 of the canonical JWK, base64url.
    pub fn thumbprint(&self) -> String {
        to_base64_url(&Sha256::digest(self.canonical_jwk().as_bytes()))
    }

    /// Key size in bits.
    pub fn bits(&self) -> u32 {
        match self {
            PublicKey::Rsa { n, .. } => bit_length(n),
            PublicKey::Ec { crv, .. } => match *crv {
                "P-256" | "secp256k1" => 256,
                "P-384" => 384,
                _ => 521,
            },
            PublicKey::Ed25519 { .. } => 256,
            PublicKey::Okp { crv, .. } => okp_bits(crv),
        }
    }

    /// The `KeyInfo` reported for a private key with this public half.
    pub fn key_info(&self, encrypted: bool) -> KeyInfo {
        let (key_type, curve) = match self {
            PublicKey::Rsa { .. } => ("RSA", None),
            PublicKey::Ec { crv, .. } => ("EC", Some(crv.to_string())),
            PublicKey::Ed25519 { .. } => ("Ed25519", None),
            PublicKey::Okp { crv, .. } => (*crv, None),
        };
        KeyInfo {
            key_type: key_type.to_string(),
            bits: Some(self.bits()),
            curve,
            encrypted,
            thumbprint: Some(self.thumbprint()),
            public_jwk: serde_json::from_str(&self.canonical_jwk()).ok(),
        }
    }

    /// The public key of a JWK, given a lookup of its string members (`kty`, `n`, `e`, `crv`,
    /// `x`, `y`). The one conversion both the JWK detector and the JWKS matcher use, so a found
    /// private JWK and a published public one get the same thumbprint. `None` for key types
    /// keysweep does not parse.
    pub fn from_jwk<'a>(member: impl Fn(&str) -> Option<&'a str>) -> Option<PublicKey> {
        let bytes = |name: &str| member(name).and_then(|v| base64_url(v.as_bytes()));
        match member("kty")? {
            "RSA" => PublicKey::rsa(&bytes("n")?, &bytes("e")?),
            "EC" => {
                let crv = match member("crv")? {
                    "P-256" => "P-256",
                    "P-384" => "P-384",
                    "P-521" => "P-521",
                    "secp256k1" => "secp256k1",
                    _ => return None,
                };
                let mut point = vec![0x04];
                point.extend(bytes("x")?);
                point.extend(bytes("y")?);
                PublicKey::ec_from_point(crv, &point)
            }
            "OKP" if member("crv")? == "Ed25519" => {
                let x = bytes("x")?;
                (x.len() == 32).then_some(PublicKey::Ed25519 { x })
            }
            "OKP" => PublicKey::okp(member("crv")?, bytes("x")?),
            _ => None,
        }
    }

    /// Build from an RSA modulus and exponent (leading zeros are stripped).
    pub fn rsa(n: &[u8], e: &[u8]) -> Option<PublicKey> {
        let (n, e) = (strip_leading_zeros(n), strip_leading_zeros(e));
        (n.len() >= 8 && !e.is_empty()).then(|| PublicKey::Rsa {
            n: n.to_vec(),
            e: e.to_vec(),
        })
    }

    /// Build an RFC 8037 octet key pair (`X25519`, `X448`, `Ed448`) from its public bytes, which
    /// must have the curve's length.
    pub fn okp(crv: &str, x: Vec<u8>) -> Option<PublicKey> {
        let crv = match crv {
            "X25519" => "X25519",
            "X448" => "X448",
            "Ed448" => "Ed448",
            "Ed25519" => return (x.len() == 32).then_some(PublicKey::Ed25519 { x }),
            _ => return None,
        };
        (x.len() == okp_len(crv)).then_some(PublicKey::Okp { crv, x })
    }

    /// Build from an uncompressed SEC1 point (`04 || x || y`) on a named curve.
    pub fn ec_from_point(crv: &'static str, point: &[u8]) -> Option<PublicKey> {
        let coordinate_len = curve_field_len(crv)?;
        if point.len() != 1 + 2 * coordinate_len || point[0] != 0x04 {
            return None;
        }
        Some(PublicKey::Ec {
            crv,
            x: point[1..1 + coordinate_len].to_vec(),
            y: point[1 + coordinate_len..].to_vec(),
        })
    }
}

/// Public key length of an RFC 8037 curve.
fn okp_len(crv: &str) -> usize {
    match crv {
        "X25519" => 32,
        "X448" => 56,
        _ => 57, // Ed448
    }
}

fn okp_bits(crv: &str) -> u32 {
    match crv {
        "X25519" => 256,
        _ => 448,
    }
}

fn curve_field_len(crv: &str) -> Option<usize> {
    match crv {
        "P-256" | "secp256k1" => Some(32),
        "P-384" => Some(48),
        "P-521" => Some(66),
        _ => None,
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

fn bit_length(bytes: &[u8]) -> u32 {
    let bytes = strip_leading_zeros(bytes);
    match bytes.first() {
        Some(&first) => (bytes.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
        None => 0,
    }
}

/// Curve name for a named-curve OID.
fn curve_for_oid(oid: &str) -> Option<&'static str> {
    match oid {
        OID_P256 => Some("P-256"),
        OID_P384 => Some("P-384"),
        OID_P521 => Some("P-521"),
        OID_SECP256K1 => Some("secp256k1"),
        _ => None,
    }
}

/// Why a key could not be turned into a public half.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a {0} structure")]
    Malformed(&'static str),
    #[error("unsupported algorithm {0}")]
    Unsupported(String),
}

/// PKCS#1 `RSAPrivateKey`.
pub fn from_pkcs1_der(der: &[u8]) -> Result<PublicKey, KeyError> {
    let key = pkcs1::RsaPrivateKey::from_der(der).map_err(|_| KeyError::Malformed("PKCS#1"))?;
    PublicKey::rsa(key.modulus.as_bytes(), key.public_exponent.as_bytes())
        .ok_or(KeyError::Malformed("PKCS#1"))
}

/// SEC1 `ECPrivateKey`; `curve_hint` comes from PKCS#8 parameters when the key has none.
pub fn from_sec1_der(der: &[u8], curve_hint: Option<&'static str>) -> Result<PublicKey, KeyError> {
    let key = sec1::EcPrivateKey::from_der(der).map_err(|_| KeyError::Malformed("SEC1"))?;
    let curve_oid = key
        .parameters
        .and_then(|p| p.named_curve())
        .map(|oid| oid.to_string());
    let crv = match (curve_oid, curve_hint) {
        (Some(oid), _) => {
            curve_for_oid(&oid).ok_or(KeyError::Unsupported(format!("EC curve {oid}")))?
        }
        (None, Some(hint)) => hint,
        (None, None) => return guess_curve(key.private_key, key.public_key),
    };
    if let Some(public) = key
        .public_key
        .and_then(|point| PublicKey::ec_from_point(crv, point))
    {
        return Ok(public);
    }
    derive_ec_public(crv, key.private_key)
}

/// A SEC1 key that names no curve: the curves its scalar length allows, tried in turn; with an
/// embedded public point the curve whose base-point multiple is that point wins (P-256 and
/// secp256k1 scalars have the same length), without one the first fitting curve is assumed.
fn guess_curve(scalar: &[u8], point: Option<&[u8]>) -> Result<PublicKey, KeyError> {
    let curves: &[&'static str] = match scalar.len() {
        32 => &["P-256", "secp256k1"],
        48 => &["P-384"],
        65 | 66 => &["P-521"],
        _ => return Err(KeyError::Malformed("SEC1")),
    };
    for crv in curves {
        let Ok(derived) = derive_ec_public(crv, scalar) else {
            continue;
        };
        match point {
            None => return Ok(derived),
            Some(point) if PublicKey::ec_from_point(crv, point).as_ref() == Some(&derived) => {
                return Ok(derived);
            }
            Some(_) => {}
        }
    }
    Err(KeyError::Unsupported(
        "EC key on an unnamed curve".to_string(),
    ))
}

/// The public key of an EC private scalar on a JOSE-named curve keysweep computes with
/// (`P-256`, `P-384`, `P-521`, `secp256k1`).
pub fn ec_from_scalar(crv: &str, scalar: &[u8]) -> Result<PublicKey, KeyError> {
    let crv = match crv {
        "P-256" => "P-256",
        "P-384" => "P-384",
        "P-521" => "P-521",
        "secp256k1" => "secp256k1",
        other => return Err(KeyError::Unsupported(format!("EC curve {other}"))),
    };
    derive_ec_public(crv, scalar)
}

/// The `KeyInfo` of a private key keysweep found but could not turn into a public half: its
/// type (an algorithm name, or `OID …`) and curve, without size or thumbprint.
pub fn opaque_key_info(key_type: &str, curve: Option<String>, encrypted: bool) -> KeyInfo {
    KeyInfo {
        key_type: key_type.to_string(),
        bits: None,
        curve,
        encrypted,
        thumbprint: None,
        public_jwk: None,
    }
}

/// Derive the public point from the private scalar.
fn derive_ec_public(crv: &'static str, scalar: &[u8]) -> Result<PublicKey, KeyError> {
    let bad = || KeyError::Malformed("EC private scalar");
    let point = match crv {
        "P-256" => {
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            let secret = p256::SecretKey::from_slice(scalar).map_err(|_| bad())?;
            secret
                .public_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec()
        }
        "secp256k1" => {
            use k256::elliptic_curve::sec1::ToEncodedPoint;
            let secret = k256::SecretKey::from_slice(scalar).map_err(|_| bad())?;
            secret
                .public_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec()
        }
        "P-384" => {
            use p384::elliptic_curve::sec1::ToEncodedPoint;
            let secret = p384::SecretKey::from_slice(scalar).map_err(|_| bad())?;
            secret
                .public_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec()
        }
        _ => {
            use p521::elliptic_curve::sec1::ToEncodedPoint;
            let secret = p521::SecretKey::from_slice(scalar).map_err(|_| bad())?;
            secret
                .public_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec()
        }
    };
    PublicKey::ec_from_point(crv, &point).ok_or_else(bad)
}

/// Ed25519 public key from its 32-byte seed.
pub fn ed25519_from_seed(seed: &[u8]) -> Result<PublicKey, KeyError> {
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| KeyError::Malformed("Ed25519 seed"))?;
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    Ok(PublicKey::Ed25519 {
        x: signing.verifying_key().as_bytes().to_vec(),
    })
}

/// X25519 public key from its 32-byte private scalar (RFC 7748: clamped, times the base point).
pub fn x25519_from_scalar(scalar: &[u8]) -> Result<PublicKey, KeyError> {
    let scalar: [u8; 32] = scalar
        .try_into()
        .map_err(|_| KeyError::Malformed("X25519 private key"))?;
    let public = curve25519_dalek::MontgomeryPoint::mul_base_clamped(scalar);
    Ok(PublicKey::Okp {
        crv: "X25519",
        x: public.to_bytes().to_vec(),
    })
}

/// The public half of an RFC 8410 key (`CurvePrivateKey ::= OCTET STRING` inside the PKCS#8
/// octet string): derived for Ed25519 and X25519; for X448 and Ed448 only read from a PKCS#8
/// v2 `publicKey` (keysweep carries no Curve448 arithmetic).
fn rfc8410_public(
    crv: &'static str,
    private_key: &[u8],
    public_key: Option<&[u8]>,
) -> Result<PublicKey, KeyError> {
    if let Some(public) = public_key.and_then(|x| PublicKey::okp(crv, x.to_vec())) {
        return Ok(public);
    }
    let inner = pkcs8::der::asn1::OctetStringRef::from_der(private_key)
        .map_err(|_| KeyError::Malformed("RFC 8410 private key"))?;
    match crv {
        "Ed25519" => ed25519_from_seed(inner.as_bytes()),
        "X25519" => x25519_from_scalar(inner.as_bytes()),
        other => Err(KeyError::Unsupported(format!(
            "{other} (public key not stored, and keysweep does not derive it)"
        ))),
    }
}

/// PKCS#8 `PrivateKeyInfo` (v1 or v2) holding RSA, EC (P-256/384/521, secp256k1), Ed25519,
/// X25519, or X448/Ed448 with a stored public key.
pub fn from_pkcs8_der(der: &[u8]) -> Result<PublicKey, KeyError> {
    let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|_| KeyError::Malformed("PKCS#8"))?;
    let algorithm = info.algorithm.oid.to_string();
    match algorithm.as_str() {
        OID_RSA | OID_RSA_PSS => from_pkcs1_der(info.private_key),
        OID_EC => {
            // A named curve keysweep does not compute with (brainpool, SM2) is unsupported: it
            // must not fall back to a guess by scalar length.
            let hint = match info.algorithm.parameters_oid() {
                Ok(oid) => Some(
                    curve_for_oid(&oid.to_string())
                        .ok_or_else(|| KeyError::Unsupported(format!("EC curve {oid}")))?,
                ),
                Err(_) => None,
            };
            from_sec1_der(info.private_key, hint)
        }
        OID_ED25519 => rfc8410_public("Ed25519", info.private_key, info.public_key),
        OID_X25519 => rfc8410_public("X25519", info.private_key, info.public_key),
        OID_X448 => rfc8410_public("X448", info.private_key, info.public_key),
        OID_ED448 => rfc8410_public("Ed448", info.private_key, info.public_key),
        other => Err(KeyError::Unsupported(other.to_string())),
    }
}

/// Try every DER private-key structure keysweep knows.
pub fn from_any_der(der: &[u8]) -> Result<(PublicKey, &'static str), KeyError> {
    if let Ok(key) = from_pkcs8_der(der) {
        return Ok((key, "pkcs8"));
    }
    if let Ok(key) = from_pkcs1_der(der) {
        return Ok((key, "pkcs1"));
    }
    if let Ok(key) = from_sec1_der(der, None) {
        return Ok((key, "sec1"));
    }
    Err(KeyError::Malformed("DER private key"))
}

/// The public half of an SSH public key blob (as in OpenSSH and PuTTY files).
pub fn from_ssh_key_data(data: &ssh_key::public::KeyData) -> Result<PublicKey, KeyError> {
    use ssh_key::public::{EcdsaPublicKey, KeyData};
    match data {
        KeyData::Rsa(rsa) => {
            PublicKey::rsa(rsa.n.as_bytes(), rsa.e.as_bytes()).ok_or(KeyError::Malformed("SSH RSA"))
        }
        KeyData::Ed25519(ed) => Ok(PublicKey::Ed25519 { x: ed.0.to_vec() }),
        KeyData::Ecdsa(ecdsa) => {
            let crv = match ecdsa {
                EcdsaPublicKey::NistP256(_) => "P-256",
                EcdsaPublicKey::NistP384(_) => "P-384",
                EcdsaPublicKey::NistP521(_) => "P-521",
            };
            PublicKey::ec_from_point(crv, ecdsa.as_sec1_bytes())
                .ok_or(KeyError::Malformed("SSH ECDSA"))
        }
        other => Err(KeyError::Unsupported(other.algorithm().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let key = PublicKey::rsa(
            &base64_url(n.as_bytes()).unwrap(),
            &base64_url(b"AQAB").unwrap(),
        )
        .unwrap();
        assert_eq!(
            key.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        assert_eq!(key.bits(), 2048);
    }

    #[test]
    fn bit_length_ignores_leading_zeros() {
        assert_eq!(bit_length(&[0, 0x01, 0]), 9);
        assert_eq!(bit_length(&[0x80]), 8);
    }
}
