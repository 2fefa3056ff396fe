//! Names for what keysweep cannot turn into a public half: the algorithm of a PKCS#8 key, the
//! curve of an EC key, the scheme of an encrypted PKCS#8 key. Every private key is reported; a
//! key keysweep cannot parse is reported with the name (or OID) of what it saw.

use pkcs8::der::Decode;
use pkcs8::der::asn1::ObjectIdentifier;

use crate::finding::kind;

/// What an unparsed private key is, as far as its structure tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Described {
    /// The finding kind (`private-key/dsa`, `private-key/ec`, `private-key/other`, ...).
    pub kind: &'static str,
    /// The algorithm's name (`ML-DSA-44`, `GOST R 34.10-2012 (256-bit)`), or `OID 1.2.3` when
    /// keysweep has no name for it.
    pub key_type: String,
    /// The curve of an EC key on a curve keysweep does not compute with (`brainpoolP256r1`).
    pub curve: Option<String>,
    /// `pkcs8` or `sec1`: which structure held it.
    pub structure: &'static str,
}

/// The name of a public-key algorithm OID (PKCS#8 `privateKeyAlgorithm`), with the kind a key
/// of that algorithm is reported as.
pub fn algorithm_name(oid: &str) -> Option<(&'static str, &'static str)> {
    let named = match oid {
        "1.2.840.113549.1.1.1" => ("RSA", kind::RSA),
        "1.2.840.113549.1.1.10" => ("RSA-PSS", kind::RSA),
        "1.2.840.10040.4.1" => ("DSA", kind::DSA),
        "1.2.840.10045.2.1" => ("EC", kind::EC),
        "1.3.101.110" => ("X25519", kind::OKP),
        "1.3.101.111" => ("X448", kind::OKP),
        "1.3.101.112" => ("Ed25519", kind::ED25519),
        "1.3.101.113" => ("Ed448", kind::OKP),
        "1.2.840.113549.1.3.1" => ("DH", kind::OTHER),
        "1.2.840.10046.2.1" => ("X9.42 DH", kind::OTHER),
        "1.2.156.10197.1.301" => ("SM2", kind::EC),
        "1.2.643.2.2.19" => ("GOST R 34.10-2001", kind::OTHER),
        "1.2.643.7.1.1.1.1" => ("GOST R 34.10-2012 (256-bit)", kind::OTHER),
        "1.2.643.7.1.1.1.2" => ("GOST R 34.10-2012 (512-bit)", kind::OTHER),
        "2.16.840.1.101.3.4.3.17" => ("ML-DSA-44", kind::OTHER),
        "2.16.840.1.101.3.4.3.18" => ("ML-DSA-65", kind::OTHER),
        "2.16.840.1.101.3.4.3.19" => ("ML-DSA-87", kind::OTHER),
        "2.16.840.1.101.3.4.4.1" => ("ML-KEM-512", kind::OTHER),
        "2.16.840.1.101.3.4.4.2" => ("ML-KEM-768", kind::OTHER),
        "2.16.840.1.101.3.4.4.3" => ("ML-KEM-1024", kind::OTHER),
        _ => {
            // SLH-DSA: 2.16.840.1.101.3.4.3.20 to .31 (FIPS 205).
            let arc = oid.strip_prefix("2.16.840.1.101.3.4.3.")?;
            let n: u32 = arc.parse().ok()?;
            return (20..=31).contains(&n).then_some(("SLH-DSA", kind::OTHER));
        }
    };
    Some(named)
}

/// The name of a named-curve OID keysweep knows but may not compute with.
pub fn curve_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        "1.3.132.0.33" => "P-224",
        "1.2.840.10045.3.1.1" => "P-192",
        "1.3.36.3.3.2.8.1.1.1" => "brainpoolP160r1",
        "1.3.36.3.3.2.8.1.1.3" => "brainpoolP192r1",
        "1.3.36.3.3.2.8.1.1.5" => "brainpoolP224r1",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.9" => "brainpoolP320r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        "1.2.156.10197.1.301" => "SM2",
        "1.2.643.7.1.2.1.1.1" => "GOST 256-bit paramset A",
        _ => return None,
    })
}

/// Describe a DER private key keysweep could not parse: PKCS#8 by its algorithm (and curve),
/// SEC1 by its curve. `None` when it is neither structure.
pub fn describe_der(der: &[u8]) -> Option<Described> {
    if let Ok(info) = pkcs8::PrivateKeyInfo::from_der(der) {
        let oid = info.algorithm.oid.to_string();
        let parameter = info
            .algorithm
            .parameters_oid()
            .ok()
            .map(|oid| oid.to_string());
        let (kind, key_type, curve) = match algorithm_name(&oid) {
            Some(("EC", kind)) => {
                // The curve may also sit in the inner SEC1 key.
                let curve = parameter
                    .or_else(|| sec1_curve_oid(info.private_key))
                    .map(|oid| curve_label(&oid));
                (kind, "EC".to_string(), curve)
            }
            Some((name, kind)) => (kind, name.to_string(), None),
            None => (kind::OTHER, format!("OID {oid}"), None),
        };
        return Some(Described {
            kind,
            key_type,
            curve,
            structure: "pkcs8",
        });
    }
    let curve = sec1_curve_oid(der)?;
    Some(Described {
        kind: kind::EC,
        key_type: "EC".to_string(),
        curve: Some(curve_label(&curve)),
        structure: "sec1",
    })
}

fn curve_label(oid: &str) -> String {
    curve_name(oid).map_or_else(|| format!("OID {oid}"), str::to_string)
}

/// The named curve of a SEC1 `ECPrivateKey`, when it has one.
fn sec1_curve_oid(der: &[u8]) -> Option<String> {
    let key = sec1::EcPrivateKey::from_der(der).ok()?;
    Some(key.parameters?.named_curve()?.to_string())
}

/// One DER TLV: (tag, content, rest). Definite lengths up to 4 bytes.
fn tlv(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// DER elements: (tag, content).
type Elements<'a> = Vec<(u8, &'a [u8])>;

/// The elements of a DER SEQUENCE's content.
fn elements(mut content: &[u8]) -> Elements<'_> {
    let mut out = Vec::new();
    while let Some((tag, value, rest)) = tlv(content) {
        out.push((tag, value));
        content = rest;
        if out.len() > 16 {
            break;
        }
    }
    out
}

fn oid_text(content: &[u8]) -> Option<String> {
    ObjectIdentifier::from_bytes(content)
        .ok()
        .map(|oid| oid.to_string())
}

/// An `AlgorithmIdentifier`'s OID and parameter elements.
fn algorithm_identifier(content: &[u8]) -> Option<(String, Elements<'_>)> {
    let items = elements(content);
    let (tag, oid) = items.first()?;
    if *tag != 0x06 {
        return None;
    }
    let parameters = match items.get(1) {
        Some((0x30, inner)) => elements(inner),
        _ => Vec::new(),
    };
    Some((oid_text(oid)?, parameters))
}

fn small_integer(content: &[u8]) -> Option<u64> {
    (content.len() <= 8).then(|| content.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
}

/// How an encrypted PKCS#8 key (`EncryptedPrivateKeyInfo`) is protected, in words:
/// `PBES2 (PBKDF2-HMAC-SHA256, 2048 iterations; AES-256-CBC)`. `None` when the DER is not an
/// `EncryptedPrivateKeyInfo`.
pub fn encrypted_pkcs8_scheme(der: &[u8]) -> Option<String> {
    let (tag, outer, _) = tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let items = elements(outer);
    let [(0x30, algorithm), (0x04, _data)] = items.as_slice() else {
        return None;
    };
    let (scheme, parameters) = algorithm_identifier(algorithm)?;
    if scheme != "1.2.840.113549.1.5.13" {
        return Some(pbe_name(&scheme).map_or_else(|| format!("OID {scheme}"), str::to_string));
    }
    let mut kdf_text = "unknown key derivation".to_string();
    let mut cipher_text = "unknown cipher".to_string();
    if let Some((0x30, kdf)) = parameters.first()
        && let Some((kdf_oid, kdf_parameters)) = algorithm_identifier(kdf)
    {
        kdf_text = describe_kdf(&kdf_oid, &kdf_parameters);
    }
    if let Some((0x30, cipher)) = parameters.get(1)
        && let Some((cipher_oid, _)) = algorithm_identifier(cipher)
    {
        cipher_text = cipher_name(&cipher_oid)
            .map_or_else(|| format!("cipher OID {cipher_oid}"), str::to_string);
    }
    Some(format!("PBES2 ({kdf_text}; {cipher_text})"))
}

fn describe_kdf(oid: &str, parameters: &[(u8, &[u8])]) -> String {
    match oid {
        "1.2.840.113549.1.5.12" => {
            // PBKDF2-params: salt, iterationCount, keyLength OPTIONAL, prf DEFAULT hmacWithSHA1.
            let iterations = parameters
                .get(1)
                .filter(|(tag, _)| *tag == 0x02)
                .and_then(|(_, value)| small_integer(value));
            let prf = parameters
                .iter()
                .skip(2)
                .find(|(tag, _)| *tag == 0x30)
                .and_then(|(_, value)| algorithm_identifier(value))
                .map(|(oid, _)| oid);
            let prf = match prf.as_deref() {
                None | Some("1.2.840.113549.2.7") => "HMAC-SHA1".to_string(),
                Some("1.2.840.113549.2.9") => "HMAC-SHA256".to_string(),
                Some("1.2.840.113549.2.10") => "HMAC-SHA384".to_string(),
                Some("1.2.840.113549.2.11") => "HMAC-SHA512".to_string(),
                Some(other) => format!("PRF OID {other}"),
            };
            match iterations {
                Some(n) => format!("PBKDF2-{prf}, {n} iterations"),
                None => format!("PBKDF2-{prf}"),
            }
        }
        "1.3.6.1.4.1.11591.4.11" => {
            // scrypt-params: salt, costParameter, blockSize, parallelizationParameter.
            let number = |i: usize| {
                parameters
                    .get(i)
                    .filter(|(tag, _)| *tag == 0x02)
                    .and_then(|(_, value)| small_integer(value))
            };
            match (number(1), number(2), number(3)) {
                (Some(n), Some(r), Some(p)) => format!("scrypt N={n} r={r} p={p}"),
                _ => "scrypt".to_string(),
            }
        }
        other => format!("key derivation OID {other}"),
    }
}

fn cipher_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.16.840.1.101.3.4.1.2" => "AES-128-CBC",
        "2.16.840.1.101.3.4.1.22" => "AES-192-CBC",
        "2.16.840.1.101.3.4.1.42" => "AES-256-CBC",
        "2.16.840.1.101.3.4.1.6" => "AES-128-GCM",
        "2.16.840.1.101.3.4.1.46" => "AES-256-GCM",
        "1.2.840.113549.3.7" => "3DES-CBC",
        "1.3.14.3.2.7" => "DES-CBC",
        "1.2.156.10197.1.104.2" => "SM4-CBC",
        _ => return None,
    })
}

/// PKCS#5 v1 and PKCS#12 password-based encryption schemes.
fn pbe_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.5.3" => "PBES1 (MD5, DES-CBC)",
        "1.2.840.113549.1.5.6" => "PBES1 (MD5, RC2-CBC)",
        "1.2.840.113549.1.5.10" => "PBES1 (SHA-1, DES-CBC)",
        "1.2.840.113549.1.5.11" => "PBES1 (SHA-1, RC2-CBC)",
        "1.2.840.113549.1.12.1.1" => "PKCS#12 PBE (SHA-1, RC4-128)",
        "1.2.840.113549.1.12.1.3" => "PKCS#12 PBE (SHA-1, 3DES-CBC)",
        "1.2.840.113549.1.12.1.6" => "PKCS#12 PBE (SHA-1, RC2-40)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER of one TLV (minimal length encoding).
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(content);
        out
    }

    /// A PKCS#8 v1 key: version 0, AlgorithmIdentifier { oid }, OCTET STRING of `key_len` bytes.
    fn pkcs8_with_oid(oid: &str, key_len: usize) -> Vec<u8> {
        let oid = ObjectIdentifier::new(oid).unwrap();
        let mut body = tlv(0x02, &[0]);
        body.extend(tlv(0x30, &tlv(0x06, oid.as_bytes())));
        let key: Vec<u8> = (0..key_len).map(|i| (i * 7 + 3) as u8).collect();
        body.extend(tlv(0x04, &key));
        tlv(0x30, &body)
    }

    #[test]
    fn names_post_quantum_and_gost_keys() {
        let ml_dsa = describe_der(&pkcs8_with_oid("2.16.840.1.101.3.4.3.17", 2560)).unwrap();
        assert_eq!(ml_dsa.kind, kind::OTHER);
        assert_eq!(ml_dsa.key_type, "ML-DSA-44");
        let gost = describe_der(&pkcs8_with_oid("1.2.643.7.1.1.1.1", 34)).unwrap();
        assert_eq!(gost.key_type, "GOST R 34.10-2012 (256-bit)");
        let unknown = describe_der(&pkcs8_with_oid("1.3.6.1.4.1.99999.1", 64)).unwrap();
        assert_eq!(unknown.key_type, "OID 1.3.6.1.4.1.99999.1");
        assert_eq!(unknown.kind, kind::OTHER);
        assert!(describe_der(b"\x30\x03\x02\x01\x00").is_none());
    }

    #[test]
    fn truncated_der_is_not_described() {
        let der = pkcs8_with_oid("2.16.840.1.101.3.4.3.18", 4032);
        for cut in [1, 5, 20, der.len() - 1] {
            assert!(describe_der(&der[..cut]).is_none(), "{cut}");
            assert!(encrypted_pkcs8_scheme(&der[..cut]).is_none(), "{cut}");
        }
    }
}
