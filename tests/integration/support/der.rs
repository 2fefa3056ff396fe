//! DER and SSH wire readers and the public-key model the tests compute from tool output
//! (independent of keysweep).

use serde_json::{Value, json};

use super::jose::jwk_thumbprint;
use super::text::{b64_decode, b64url};

/// Reads one DER TLV: (tag, content, rest).
pub fn der(b: &[u8]) -> (u8, &[u8], &[u8]) {
    assert!(b.len() >= 2, "DER too short");
    let tag = b[0];
    let (len, hdr) = if b[1] < 0x80 {
        (b[1] as usize, 2)
    } else {
        let n = (b[1] & 0x7f) as usize;
        assert!((1..=4).contains(&n), "DER length form");
        let mut l = 0usize;
        for i in 0..n {
            l = (l << 8) | b[2 + i] as usize;
        }
        (l, 2 + n)
    };
    (tag, &b[hdr..hdr + len], &b[hdr + len..])
}

/// Reads a SEQUENCE's elements.
pub fn der_seq(content: &[u8]) -> Vec<(u8, &[u8])> {
    let mut v = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (t, c, r) = der(rest);
        v.push((t, c));
        rest = r;
    }
    v
}

/// Unsigned big-endian integer bytes without leading zeros.
pub fn strip_zeros(b: &[u8]) -> &[u8] {
    let mut i = 0;
    while i + 1 < b.len() && b[i] == 0 {
        i += 1;
    }
    &b[i..]
}

fn pad_left(b: &[u8], n: usize) -> Vec<u8> {
    let b = strip_zeros(b);
    assert!(b.len() <= n, "value longer than field");
    let mut v = vec![0u8; n - b.len()];
    v.extend_from_slice(b);
    v
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }
    pub fn bits(self) -> u64 {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }
    pub fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
    pub fn openssl_name(self) -> &'static str {
        match self {
            Curve::P256 => "prime256v1",
            Curve::P384 => "secp384r1",
            Curve::P521 => "secp521r1",
        }
    }
    fn from_oid(oid: &[u8]) -> Curve {
        match oid {
            OID_P256 => Curve::P256,
            OID_P384 => Curve::P384,
            OID_P521 => Curve::P521,
            _ => panic!("unknown curve OID {oid:02x?}"),
        }
    }
    fn from_ssh(name: &str) -> Curve {
        match name {
            "nistp256" => Curve::P256,
            "nistp384" => Curve::P384,
            "nistp521" => Curve::P521,
            _ => panic!("unknown ssh curve {name}"),
        }
    }
}

/// A public key, computed by the tests from tool output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519 {
        x: Vec<u8>,
    },
}

impl PublicKey {
    /// From a DER SubjectPublicKeyInfo.
    pub fn from_spki(spki_der: &[u8]) -> PublicKey {
        let (t, spki, _) = der(spki_der);
        assert_eq!(t, 0x30);
        let items = der_seq(spki);
        let alg = der_seq(items[0].1);
        assert_eq!(alg[0].0, 0x06);
        let bits = items[1].1;
        assert_eq!(items[1].0, 0x03);
        assert_eq!(bits[0], 0, "unused bits");
        let key = &bits[1..];
        match alg[0].1 {
            OID_RSA => {
                let (_, seq, _) = der(key);
                let ints = der_seq(seq);
                PublicKey::Rsa {
                    n: strip_zeros(ints[0].1).to_vec(),
                    e: strip_zeros(ints[1].1).to_vec(),
                }
            }
            OID_EC => {
                let curve = Curve::from_oid(alg[1].1);
                Self::ec_point(curve, key)
            }
            OID_ED25519 => {
                assert_eq!(key.len(), 32);
                PublicKey::Ed25519 { x: key.to_vec() }
            }
            other => panic!("unsupported SPKI algorithm {other:02x?}"),
        }
    }

    fn ec_point(curve: Curve, q: &[u8]) -> PublicKey {
        let n = curve.size();
        assert_eq!(q.len(), 1 + 2 * n, "uncompressed point");
        assert_eq!(q[0], 4);
        PublicKey::Ec {
            curve,
            x: q[1..1 + n].to_vec(),
            y: q[1 + n..].to_vec(),
        }
    }

    /// From an OpenSSH public key line (`ssh-ed25519 AAAA... comment`).
    pub fn from_ssh_line(line: &str) -> PublicKey {
        let b64 = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_else(|| panic!("bad ssh public key line {line:?}"));
        let blob = b64_decode(b64);
        let mut r = SshReader::new(&blob);
        let name = String::from_utf8(r.string().to_vec()).expect("utf8");
        match name.as_str() {
            "ssh-rsa" => {
                let e = strip_zeros(r.string()).to_vec();
                let n = strip_zeros(r.string()).to_vec();
                PublicKey::Rsa { n, e }
            }
            "ssh-ed25519" => PublicKey::Ed25519 {
                x: r.string().to_vec(),
            },
            s if s.starts_with("ecdsa-sha2-") => {
                let curve = Curve::from_ssh(std::str::from_utf8(r.string()).expect("utf8"));
                Self::ec_point(curve, r.string())
            }
            other => panic!("unsupported ssh key type {other}"),
        }
    }

    pub fn rule(&self) -> &'static str {
        match self {
            PublicKey::Rsa { .. } => "private-key/rsa",
            PublicKey::Ec { .. } => "private-key/ec",
            PublicKey::Ed25519 { .. } => "private-key/ed25519",
        }
    }
    pub fn type_str(&self) -> &'static str {
        match self {
            PublicKey::Rsa { .. } => "RSA",
            PublicKey::Ec { .. } => "EC",
            PublicKey::Ed25519 { .. } => "Ed25519",
        }
    }
    pub fn bits(&self) -> u64 {
        match self {
            PublicKey::Rsa { n, .. } => {
                let n = strip_zeros(n);
                (n.len() as u64 - 1) * 8 + (8 - n[0].leading_zeros() as u64)
            }
            PublicKey::Ec { curve, .. } => curve.bits(),
            PublicKey::Ed25519 { .. } => 256,
        }
    }
    pub fn curve(&self) -> Option<&'static str> {
        match self {
            PublicKey::Ec { curve, .. } => Some(curve.name()),
            _ => None,
        }
    }
    /// Public JWK members (only the RFC 7638 required ones).
    pub fn jwk_public(&self) -> Value {
        match self {
            PublicKey::Rsa { n, e } => json!({"kty":"RSA","n":b64url(n),"e":b64url(e)}),
            PublicKey::Ec { curve, x, y } => {
                json!({"kty":"EC","crv":curve.name(),"x":b64url(x),"y":b64url(y)})
            }
            PublicKey::Ed25519 { x } => json!({"kty":"OKP","crv":"Ed25519","x":b64url(x)}),
        }
    }
    /// RFC 7638 thumbprint of the public JWK.
    pub fn thumbprint(&self) -> String {
        jwk_thumbprint(&self.jwk_public())
    }
    /// Base64url strings of the public members (their text may legitimately appear in output).
    pub fn public_strings(&self) -> Vec<String> {
        match self {
            PublicKey::Rsa { n, e } => vec![b64url(n), b64url(e)],
            PublicKey::Ec { x, y, .. } => vec![b64url(x), b64url(y)],
            PublicKey::Ed25519 { x } => vec![b64url(x)],
        }
    }
}

/// Reads SSH wire-format fields (RFC 4251 `string`s).
pub struct SshReader<'a> {
    b: &'a [u8],
}

impl<'a> SshReader<'a> {
    pub fn new(b: &'a [u8]) -> SshReader<'a> {
        SshReader { b }
    }
    /// The next length-prefixed string.
    pub fn string(&mut self) -> &'a [u8] {
        let n = u32::from_be_bytes(self.b[..4].try_into().expect("len")) as usize;
        let s = &self.b[4..4 + n];
        self.b = &self.b[4 + n..];
        s
    }
    /// Skips `n` bytes (fixed-size fields).
    pub fn skip(&mut self, n: usize) {
        self.b = &self.b[n..];
    }
}

/// Private JWK members from an unencrypted PKCS#8 DER private key.
pub fn private_members_from_pkcs8(pkcs8_der: &[u8]) -> Value {
    let (t, seq, _) = der(pkcs8_der);
    assert_eq!(t, 0x30);
    let items = der_seq(seq);
    let alg = der_seq(items[1].1);
    let inner = items[2].1;
    match alg[0].1 {
        OID_RSA => {
            let (_, s, _) = der(inner);
            let ints = der_seq(s);
            let f = |i: usize| b64url(strip_zeros(ints[i].1));
            json!({"d": f(3), "p": f(4), "q": f(5), "dp": f(6), "dq": f(7), "qi": f(8)})
        }
        OID_EC => {
            let curve = Curve::from_oid(alg[1].1);
            let (_, s, _) = der(inner);
            let parts = der_seq(s);
            assert_eq!(parts[1].0, 0x04);
            json!({"d": b64url(&pad_left(parts[1].1, curve.size()))})
        }
        OID_ED25519 => {
            let (t, seed, _) = der(inner);
            assert_eq!(t, 0x04);
            json!({"d": b64url(seed)})
        }
        other => panic!("unsupported PKCS#8 algorithm {other:02x?}"),
    }
}
