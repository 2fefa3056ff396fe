//! PKCS#12 / PFX files (RFC 7292): open them with the empty password (both encodings) and a short
//! list of common passwords, and hand back the private keys inside.
//!
//! The MAC, when the file has one and its algorithm is known, picks the password cheaply; files
//! without a MAC (`openssl pkcs12 -nomac`) or with one keysweep cannot check are opened by
//! decrypting their parts directly, a password counting only when the plaintext parses.
//! Supported encryption: PBES2 (PBKDF2 with HMAC-SHA1/SHA-2, AES-CBC or 3DES) as OpenSSL 3 and
//! keytool write by default, and the legacy `pbeWithSHAAnd3-KeyTripleDES-CBC`,
//! `…2-KeyTripleDES-CBC`, `…128BitRC2-CBC` and `…40BitRC2-CBC` (`openssl -legacy`, older Java).

mod ber;
mod crypto;

use std::borrow::Cow;

use pkcs8::der::asn1::ObjectIdentifier;

use ber::Element;
pub use crypto::{Failure, MAX_ITERATIONS, Password};

/// The shipped list of common store passwords (`rules/pkcs12-passwords.txt`).
const PASSWORD_LIST: &str = include_str!("../../rules/pkcs12-passwords.txt");

const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const OID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const OID_KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
const OID_SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const OID_SAFE_CONTENTS_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.6");

/// Most encrypted parts and nested bag levels one file may make keysweep work through.
const MAX_PARTS: usize = 64;
const MAX_BAG_DEPTH: u8 = 4;

/// The common passwords, in the order they are tried (after the empty password).
pub fn common_passwords() -> impl Iterator<Item = &'static str> {
    PASSWORD_LIST
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// Every password tried: the empty one in both encodings, then the common ones.
fn candidates() -> impl Iterator<Item = Password> {
    let empty = [false, true].map(|zero_length| Password {
        text: "",
        zero_length,
    });
    empty
        .into_iter()
        .chain(common_passwords().map(|text| Password {
            text,
            zero_length: false,
        }))
}

/// How a private key in the file could be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// It was stored without encryption (a `keyBag` in an unencrypted part).
    Unencrypted,
    /// It was encrypted under this password.
    Password(Password),
}

/// A private key read out of a PKCS#12 file.
#[derive(Clone, Debug)]
pub struct OpenedKey {
    /// The PKCS#8 `PrivateKeyInfo` DER.
    pub pkcs8: Vec<u8>,
    pub access: Access,
}

/// Why an encrypted part stayed closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lock {
    /// None of the tried passwords opened it.
    NoPassword,
    /// It uses an algorithm keysweep does not implement.
    Unsupported(String),
    /// It asks for more key-derivation iterations than `MAX_ITERATIONS`.
    TooManyIterations(u64),
}

/// What opening a PKCS#12 file found.
#[derive(Clone, Debug, Default)]
pub struct Contents {
    /// The private keys that could be read.
    pub keys: Vec<OpenedKey>,
    /// Encrypted parts that stayed closed (they may hold more keys).
    pub locked: Vec<Lock>,
}

/// What an encrypted part decrypts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// An `encryptedData` content: `SafeContents`.
    Safe,
    /// A `pkcs8ShroudedKeyBag`: a `PrivateKeyInfo`.
    Key,
}

/// An encrypted part waiting for a password (owned, so decrypted parts can add more).
struct Sealed {
    target: Target,
    /// The whole `AlgorithmIdentifier` encoding.
    algorithm: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// Open a PKCS#12 file. `None` when `bytes` is not a readable PFX structure.
pub fn open(bytes: &[u8]) -> Option<Contents> {
    let pfx = ber::read(bytes, 0)?.0;
    if pfx.tag != ber::TAG_SEQUENCE {
        return None;
    }
    let mut fields = pfx.children();
    fields.expect(ber::TAG_INTEGER)?.small_uint()?;
    let auth_safe = fields.expect(ber::TAG_SEQUENCE)?;
    let mac = match fields.next() {
        Some(Some(mac)) if mac.tag == ber::TAG_SEQUENCE => crypto::MacData::parse(mac).ok(),
        Some(_) => return None,
        None => None,
    };
    let mut opener = Opener::default();
    let Some(content) = data_content(auth_safe)? else {
        // Public-key integrity mode (signedData): not password based.
        opener.contents.locked.push(Lock::Unsupported(
            "signedData (public-key integrity)".to_string(),
        ));
        return Some(opener.contents);
    };
    opener.read_authenticated_safe(&content)?;
    if let Some(mac) = mac {
        opener.preferred = mac_password(&mac, &content);
    }
    opener.open_sealed();
    Some(opener.contents)
}

/// The first password whose MAC matches, if any (`None` also when the MAC cannot be checked).
fn mac_password(mac: &crypto::MacData, content: &[u8]) -> Option<Password> {
    for password in candidates() {
        match mac.verifies(password, content) {
            Ok(true) => return Some(password),
            Ok(false) => {}
            Err(_) => return None,
        }
    }
    None
}

/// The octets of an `id-data` ContentInfo; `Some(None)` for another content type.
fn data_content(info: Element<'_>) -> Option<Option<Cow<'_, [u8]>>> {
    let mut fields = info.children();
    let oid = fields.expect(ber::TAG_OID)?.body;
    if oid != OID_DATA.as_bytes() {
        return Some(None);
    }
    let explicit = fields.expect(ber::TAG_CONTEXT_0)?;
    let octets = explicit.children().next()??;
    octets.octets().map(Some)
}

#[derive(Default)]
struct Opener {
    contents: Contents,
    queue: std::collections::VecDeque<Sealed>,
    /// Encrypted parts seen so far (bounded by `MAX_PARTS`).
    parts: usize,
    /// The password that verified the MAC or opened the last part: tried first.
    preferred: Option<Password>,
}

impl Opener {
    /// `AuthenticatedSafe ::= SEQUENCE OF ContentInfo`, each `data` or `encryptedData`.
    fn read_authenticated_safe(&mut self, content: &[u8]) -> Option<()> {
        let list = ber::read_whole(content).filter(|e| e.tag == ber::TAG_SEQUENCE)?;
        for info in list.children() {
            let info = info?;
            let mut fields = info.children();
            let oid = fields.expect(ber::TAG_OID)?.body;
            if oid == OID_DATA.as_bytes() {
                let safe = data_content(info)??;
                self.read_safe_contents(&safe, Access::Unencrypted, 0)?;
            } else if oid == OID_ENCRYPTED_DATA.as_bytes() {
                let encrypted = fields.expect(ber::TAG_CONTEXT_0)?.children().next()??;
                self.read_encrypted_data(encrypted)?;
            } else {
                let what = format!("a {} content", crypto::oid_name(oid));
                self.contents.locked.push(Lock::Unsupported(what));
            }
        }
        Some(())
    }

    /// `EncryptedData ::= SEQUENCE { version, EncryptedContentInfo }`, where
    /// `EncryptedContentInfo ::= SEQUENCE { type, algorithm, [0] IMPLICIT OCTET STRING OPTIONAL }`.
    fn read_encrypted_data(&mut self, encrypted: Element<'_>) -> Option<()> {
        let mut fields = encrypted.children();
        fields.expect(ber::TAG_INTEGER)?;
        let info = fields.expect(ber::TAG_SEQUENCE)?;
        let mut info_fields = info.children();
        info_fields.expect(ber::TAG_OID)?;
        let algorithm = info_fields.expect(ber::TAG_SEQUENCE)?;
        match info_fields.next() {
            None => Some(()), // no content
            Some(Some(content)) if content.tag & 0xdf == ber::TAG_CONTEXT_0_PRIMITIVE => {
                let ciphertext = content.octets()?.into_owned();
                self.seal(Target::Safe, algorithm, ciphertext);
                Some(())
            }
            Some(_) => None,
        }
    }

    /// `SafeContents ::= SEQUENCE OF SafeBag`; `SafeBag ::= SEQUENCE { id, [0] value, attrs }`.
    fn read_safe_contents(&mut self, bytes: &[u8], access: Access, depth: u8) -> Option<()> {
        if depth > MAX_BAG_DEPTH {
            return None;
        }
        let list = ber::read_whole(bytes).filter(|e| e.tag == ber::TAG_SEQUENCE)?;
        for bag in list.children() {
            let mut fields = bag?.children();
            let oid = fields.expect(ber::TAG_OID)?.body;
            let value = fields.expect(ber::TAG_CONTEXT_0)?.children().next()??;
            if oid == OID_KEY_BAG.as_bytes() {
                self.contents.keys.push(OpenedKey {
                    pkcs8: value.raw.to_vec(),
                    access,
                });
            } else if oid == OID_SHROUDED_KEY_BAG.as_bytes() {
                // EncryptedPrivateKeyInfo ::= SEQUENCE { algorithm, encryptedData OCTET STRING }
                let mut key_fields = value.children();
                let algorithm = key_fields.expect(ber::TAG_SEQUENCE)?;
                let data = key_fields.next()??;
                if data.tag & 0xdf != ber::TAG_OCTET_STRING {
                    return None;
                }
                self.seal(Target::Key, algorithm, data.octets()?.into_owned());
            } else if oid == OID_SAFE_CONTENTS_BAG.as_bytes() {
                self.read_safe_contents(value.raw, access, depth + 1)?;
            }
        }
        Some(())
    }

    fn seal(&mut self, target: Target, algorithm: Element<'_>, ciphertext: Vec<u8>) {
        self.parts += 1;
        if self.parts > MAX_PARTS {
            if self.parts == MAX_PARTS + 1 {
                let what = format!("more than {MAX_PARTS} encrypted parts");
                self.contents.locked.push(Lock::Unsupported(what));
            }
            return;
        }
        self.queue.push_back(Sealed {
            target,
            algorithm: algorithm.raw.to_vec(),
            ciphertext,
        });
    }

    /// Decrypt every queued part (decrypted safes may queue more).
    fn open_sealed(&mut self) {
        while let Some(sealed) = self.queue.pop_front() {
            let (password, plain) = match self.try_passwords(&sealed) {
                Ok(opened) => opened,
                Err(lock) => {
                    self.contents.locked.push(lock);
                    continue;
                }
            };
            self.preferred = Some(password);
            let access = Access::Password(password);
            match sealed.target {
                Target::Key => self.contents.keys.push(OpenedKey {
                    pkcs8: plain,
                    access,
                }),
                Target::Safe => {
                    if self.read_safe_contents(&plain, access, 0).is_none() {
                        let what = "a malformed encrypted part".to_string();
                        self.contents.locked.push(Lock::Unsupported(what));
                    }
                }
            }
        }
    }

    /// The first password (the preferred one first) that decrypts `sealed` to a DER SEQUENCE.
    fn try_passwords(&self, sealed: &Sealed) -> Result<(Password, Vec<u8>), Lock> {
        let algorithm = ber::read_whole(&sealed.algorithm)
            .ok_or_else(|| Lock::Unsupported("malformed parameters".to_string()))?;
        let preferred = self.preferred;
        let order = preferred
            .into_iter()
            .chain(candidates().filter(|p| Some(*p) != preferred));
        for password in order {
            match crypto::decrypt(algorithm, password, &sealed.ciphertext) {
                Ok(plain)
                    if ber::read_whole(&plain).is_some_and(|e| e.tag == ber::TAG_SEQUENCE) =>
                {
                    return Ok((password, plain));
                }
                Ok(_) | Err(Failure::WrongPassword) => {}
                Err(Failure::Unsupported(what)) => return Err(Lock::Unsupported(what)),
                Err(Failure::TooManyIterations(n)) => return Err(Lock::TooManyIterations(n)),
            }
        }
        Err(Lock::NoPassword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_password_is_tried_first_in_both_encodings() {
        let tried: Vec<Password> = candidates().collect();
        assert_eq!(tried[0].text, "");
        assert_eq!(tried[1].text, "");
        assert_ne!(tried[0].zero_length, tried[1].zero_length);
        assert_eq!(tried[2].text, "changeit");
        assert_eq!(tried.len(), 2 + common_passwords().count());
    }

    #[test]
    fn password_list_is_clean() {
        let list: Vec<&str> = common_passwords().collect();
        assert!(list.len() >= 10);
        for (i, password) in list.iter().enumerate() {
            assert_eq!(
                password.trim(),
                *password,
                "no stray whitespace: {password:?}"
            );
            assert!(!list[..i].contains(password), "duplicate {password:?}");
        }
    }

    #[test]
    fn not_a_pfx_is_none() {
        assert!(open(b"").is_none());
        assert!(open(&[0x30, 0x03, 0x02, 0x01, 0x03]).is_none());
        // version, then an authSafe whose content type is not data: unsupported, not unreadable.
        let signed = [
            0x30, 0x12, 0x02, 0x01, 0x03, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
            0x0d, 0x01, 0x07, 0x02, 0xa0, 0x00,
        ];
        let contents = open(&signed).expect("readable");
        assert!(contents.keys.is_empty());
        assert!(matches!(contents.locked[..], [Lock::Unsupported(_)]));
    }
}
