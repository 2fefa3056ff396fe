//! The password-based cryptography of PKCS#12: the RFC 7292 appendix B key derivation, the
//! integrity MAC, the legacy `pbeWithSHAAnd…` ciphers (3DES, RC2) and PBES2 (via `pkcs5`).

use cbc::cipher::{BlockDecryptMut, KeyInit, KeyIvInit, block_padding::Pkcs7};
use hmac::{Mac, SimpleHmac};
use pkcs8::der::{Decode, asn1::ObjectIdentifier};
use sha1::Sha1;
use sha2::digest::core_api::BlockSizeUser;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use super::ber::{self, Element};

/// The most iterations keysweep spends on one key derivation. OpenSSL writes 2048, keytool and
/// Windows 10000 or fewer; a hostile file asking for billions must not stall the scan.
pub const MAX_ITERATIONS: u64 = 100_000;

const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const OID_SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
const OID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const OID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const OID_PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
const OID_PBE_SHA_3DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
const OID_PBE_SHA_2DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.4");
const OID_PBE_SHA_RC2_128: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.5");
const OID_PBE_SHA_RC2_40: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.6");

/// RFC 7292 B.3 purposes of derived material.
const ID_KEY: u8 = 1;
const ID_IV: u8 = 2;
const ID_MAC: u8 = 3;

/// A password to try. The empty password has two encodings in the PKCS#12 derivation
/// (RFC 7292 B.1): a BMPString of just the two terminating zero bytes, as OpenSSL and keytool
/// write it, or zero bytes; some tools accept only one, so both are separate candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Password {
    pub text: &'static str,
    /// For the empty password: use the zero-length encoding instead of `00 00`.
    pub zero_length: bool,
}

impl Password {
    /// RFC 7292 B.1: UTF-16BE with a terminating zero character.
    fn bmp(&self) -> Vec<u8> {
        if self.text.is_empty() && self.zero_length {
            return Vec::new();
        }
        let mut bytes: Vec<u8> = self
            .text
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        bytes.extend_from_slice(&[0, 0]);
        bytes
    }
}

/// Why an encrypted part could not be read with a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Wrong password (or damaged data): padding or structure did not check out.
    WrongPassword,
    /// An algorithm keysweep does not implement; no password will help.
    Unsupported(String),
    /// The file asks for more iterations than `MAX_ITERATIONS`.
    TooManyIterations(u64),
}

/// The digests a PKCS#12 MAC may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: &[u8]) -> Option<Hash> {
        [
            (OID_SHA1, Hash::Sha1),
            (OID_SHA224, Hash::Sha224),
            (OID_SHA256, Hash::Sha256),
            (OID_SHA384, Hash::Sha384),
            (OID_SHA512, Hash::Sha512),
        ]
        .into_iter()
        .find_map(|(known, hash)| (known.as_bytes() == oid).then_some(hash))
    }
}

/// The `MacData` of a PFX: `SEQUENCE { DigestInfo, macSalt, iterations DEFAULT 1 }`.
#[derive(Clone, Debug)]
pub struct MacData {
    hash: Hash,
    digest: Vec<u8>,
    salt: Vec<u8>,
    iterations: u64,
}

impl MacData {
    /// Parse a `MacData` element. `Err` carries why it cannot be checked (PBMAC1, an unknown
    /// digest): the caller then opens the file as if it had no MAC.
    pub fn parse(element: Element<'_>) -> Result<MacData, Failure> {
        let malformed = || Failure::Unsupported("malformed MacData".to_string());
        let mut fields = element.children();
        let digest_info = fields.expect(ber::TAG_SEQUENCE).ok_or_else(malformed)?;
        let mut digest_fields = digest_info.children();
        let algorithm = digest_fields
            .expect(ber::TAG_SEQUENCE)
            .ok_or_else(malformed)?;
        let oid = algorithm
            .children()
            .expect(ber::TAG_OID)
            .ok_or_else(malformed)?
            .body;
        let hash = Hash::from_oid(oid).ok_or_else(|| Failure::Unsupported(oid_name(oid)))?;
        let digest = digest_fields
            .expect(ber::TAG_OCTET_STRING)
            .ok_or_else(malformed)?
            .body
            .to_vec();
        let salt = fields
            .expect(ber::TAG_OCTET_STRING)
            .ok_or_else(malformed)?
            .body
            .to_vec();
        let iterations = match fields.next() {
            Some(Some(count)) => count.small_uint().ok_or_else(malformed)?,
            Some(None) => return Err(malformed()),
            None => 1,
        };
        Ok(MacData {
            hash,
            digest,
            salt,
            iterations,
        })
    }

    /// Whether `password` produces this MAC over `content` (the AuthenticatedSafe octets).
    pub fn verifies(&self, password: Password, content: &[u8]) -> Result<bool, Failure> {
        let iterations = checked_iterations(self.iterations)?;
        let pass = password.bmp();
        let verify = |key: Vec<u8>| -> bool {
            match self.hash {
                Hash::Sha1 => hmac_verify::<Sha1>(&key, content, &self.digest),
                Hash::Sha224 => hmac_verify::<Sha224>(&key, content, &self.digest),
                Hash::Sha256 => hmac_verify::<Sha256>(&key, content, &self.digest),
                Hash::Sha384 => hmac_verify::<Sha384>(&key, content, &self.digest),
                Hash::Sha512 => hmac_verify::<Sha512>(&key, content, &self.digest),
            }
        };
        let key = match self.hash {
            Hash::Sha1 => derive::<Sha1>(&pass, &self.salt, ID_MAC, iterations, 20),
            Hash::Sha224 => derive::<Sha224>(&pass, &self.salt, ID_MAC, iterations, 28),
            Hash::Sha256 => derive::<Sha256>(&pass, &self.salt, ID_MAC, iterations, 32),
            Hash::Sha384 => derive::<Sha384>(&pass, &self.salt, ID_MAC, iterations, 48),
            Hash::Sha512 => derive::<Sha512>(&pass, &self.salt, ID_MAC, iterations, 64),
        };
        Ok(verify(key))
    }
}

fn hmac_verify<D: Digest + BlockSizeUser>(key: &[u8], content: &[u8], expected: &[u8]) -> bool {
    let Ok(mut mac) = <SimpleHmac<D> as KeyInit>::new_from_slice(key) else {
        return false;
    };
    mac.update(content);
    mac.verify_slice(expected).is_ok()
}

fn checked_iterations(iterations: u64) -> Result<u32, Failure> {
    if iterations > MAX_ITERATIONS {
        return Err(Failure::TooManyIterations(iterations));
    }
    Ok(iterations.max(1) as u32)
}

/// RFC 7292 appendix B.2: derive `len` bytes of purpose `id` from a BMP password and a salt.
fn derive<D: Digest + BlockSizeUser>(
    password: &[u8],
    salt: &[u8],
    id: u8,
    iterations: u32,
    len: usize,
) -> Vec<u8> {
    let v = D::block_size();
    let stretch = |source: &[u8]| -> Vec<u8> {
        let full = source.len().div_ceil(v) * v;
        source.iter().copied().cycle().take(full).collect()
    };
    let mut input = stretch(salt);
    input.extend(stretch(password));
    let diversifier = vec![id; v];
    let mut out = Vec::with_capacity(len + v);
    loop {
        let mut block = D::new_with_prefix(&diversifier)
            .chain_update(&input)
            .finalize();
        for _ in 1..iterations {
            block = D::digest(&block);
        }
        out.extend_from_slice(&block);
        if out.len() >= len {
            out.truncate(len);
            return out;
        }
        let filler = stretch(&block);
        let filler = &filler[..v];
        for chunk in input.chunks_mut(v) {
            // chunk = (chunk + filler + 1) mod 2^(8v), big-endian
            let mut carry = 1u16;
            for (byte, add) in chunk.iter_mut().zip(filler).rev() {
                let sum = u16::from(*byte) + u16::from(*add) + carry;
                *byte = sum as u8;
                carry = sum >> 8;
            }
        }
    }
}

/// Decrypt `ciphertext` encrypted under the `AlgorithmIdentifier` `algorithm` with `password`.
/// `Ok` means the padding checked out; callers still check that the plaintext parses.
pub fn decrypt(
    algorithm: Element<'_>,
    password: Password,
    ciphertext: &[u8],
) -> Result<Vec<u8>, Failure> {
    let malformed = || Failure::Unsupported("malformed encryption parameters".to_string());
    let mut fields = algorithm.children();
    let oid = fields.expect(ber::TAG_OID).ok_or_else(malformed)?.body;
    let params = fields.next().flatten().ok_or_else(malformed)?;
    if oid == OID_PBES2.as_bytes() {
        return pbes2(params, password, ciphertext);
    }
    let legacy = [
        OID_PBE_SHA_3DES,
        OID_PBE_SHA_2DES,
        OID_PBE_SHA_RC2_128,
        OID_PBE_SHA_RC2_40,
    ];
    if !legacy.iter().any(|known| known.as_bytes() == oid) {
        return Err(Failure::Unsupported(oid_name(oid)));
    }
    let mut pbe_fields = params.children();
    let salt = pbe_fields
        .expect(ber::TAG_OCTET_STRING)
        .ok_or_else(malformed)?
        .body;
    let iterations = pbe_fields
        .expect(ber::TAG_INTEGER)
        .and_then(|count| count.small_uint())
        .ok_or_else(malformed)?;
    let iterations = checked_iterations(iterations)?;
    let pass = password.bmp();
    let key_len = match oid {
        o if o == OID_PBE_SHA_3DES.as_bytes() => 24,
        o if o == OID_PBE_SHA_RC2_40.as_bytes() => 5,
        _ => 16,
    };
    let key = derive::<Sha1>(&pass, salt, ID_KEY, iterations, key_len);
    let iv = derive::<Sha1>(&pass, salt, ID_IV, iterations, 8);
    let wrong = |_| Failure::WrongPassword;
    let result = match oid {
        o if o == OID_PBE_SHA_3DES.as_bytes() => {
            cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                .map_err(|_| malformed())?
                .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        }
        o if o == OID_PBE_SHA_2DES.as_bytes() => {
            cbc::Decryptor::<des::TdesEde2>::new_from_slices(&key, &iv)
                .map_err(|_| malformed())?
                .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        }
        _ => {
            use cbc::cipher::InnerIvInit;
            let rc2 = rc2::Rc2::new_with_eff_key_len(&key, key_len * 8);
            cbc::Decryptor::<rc2::Rc2>::inner_iv_slice_init(rc2, &iv)
                .map_err(|_| malformed())?
                .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
        }
    };
    result.map_err(wrong)
}

/// PBES2 (RFC 8018): PBKDF2 over the password's UTF-8 bytes, then AES or 3DES in CBC mode.
fn pbes2(params: Element<'_>, password: Password, ciphertext: &[u8]) -> Result<Vec<u8>, Failure> {
    let params = pkcs5::pbes2::Parameters::from_der(params.raw)
        .map_err(|_| Failure::Unsupported("PBES2 parameters".to_string()))?;
    let Some(pbkdf2) = params.kdf.pbkdf2() else {
        // scrypt: its cost parameters can demand gigabytes; not offered by PKCS#12 writers.
        return Err(Failure::Unsupported(format!(
            "PBES2 with {}",
            params.kdf.oid()
        )));
    };
    checked_iterations(u64::from(pbkdf2.iteration_count))?;
    match params.decrypt(password.text.as_bytes(), ciphertext) {
        Ok(plain) => Ok(plain),
        // pkcs5 0.7 reports a bad padding as `EncryptFailed` (sic) when decrypting.
        Err(pkcs5::Error::DecryptFailed | pkcs5::Error::EncryptFailed) => {
            Err(Failure::WrongPassword)
        }
        Err(other) => Err(Failure::Unsupported(format!("PBES2: {other}"))),
    }
}

/// A readable name for an OID given as DER content bytes.
pub fn oid_name(oid: &[u8]) -> String {
    let Ok(oid) = ObjectIdentifier::from_bytes(oid) else {
        return "an unknown algorithm".to_string();
    };
    match oid.to_string().as_str() {
        "1.2.840.113549.1.12.1.1" => "pbeWithSHAAnd128BitRC4".to_string(),
        "1.2.840.113549.1.12.1.2" => "pbeWithSHAAnd40BitRC4".to_string(),
        "1.2.840.113549.1.5.14" => "PBMAC1".to_string(),
        "1.2.840.113549.1.7.3" => "envelopedData".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_password_has_two_encodings() {
        let terminated = Password {
            text: "",
            zero_length: false,
        };
        let zero = Password {
            text: "",
            zero_length: true,
        };
        assert_eq!(terminated.bmp(), vec![0, 0]);
        assert!(zero.bmp().is_empty());
        let common = Password {
            text: "ab",
            zero_length: false,
        };
        assert_eq!(common.bmp(), vec![0, b'a', 0, b'b', 0, 0]);
    }

    #[test]
    fn derivation_matches_rfc7292_construction() {
        // One block, one iteration: SHA-1(D || S || P) with D, S, P stretched to 64 bytes.
        let pass = [0, b'a', 0, 0];
        let salt = [1, 2, 3, 4, 5, 6, 7, 8];
        let derived = derive::<Sha1>(&pass, &salt, ID_KEY, 1, 20);
        let mut input = vec![ID_KEY; 64];
        input.extend(salt.iter().cycle().take(64));
        input.extend(pass.iter().cycle().take(64));
        assert_eq!(derived, Sha1::digest(&input).to_vec());
        // Longer output continues with the next block, derived from the adjusted input.
        let long = derive::<Sha1>(&pass, &salt, ID_KEY, 1, 24);
        assert_eq!(&long[..20], &derived[..]);
    }

    #[test]
    fn too_many_iterations_is_refused() {
        assert_eq!(
            checked_iterations(MAX_ITERATIONS + 1),
            Err(Failure::TooManyIterations(MAX_ITERATIONS + 1))
        );
        assert_eq!(checked_iterations(0), Ok(1));
    }
}
