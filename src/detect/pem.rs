//! PEM armour (PKCS#1, PKCS#8, SEC1, OpenSSH, DSA, PGP, encrypted forms), PuTTY PPK files and
//! base64-wrapped PEM.

use sha2::{Digest, Sha256};

use super::MatchContext;
use super::keys::{self, PublicKey};
use crate::encoding::{self, base64_standard};
use crate::finding::{Candidate, KeyInfo, kind};

/// Bodies shorter than this (decoded) are placeholders, not keys.
const MIN_KEY_BYTES: usize = 32;

/// A PEM private key block, possibly inside a string literal or escaped. The innermost block
/// counts: a dangling or commented `-----BEGIN … PRIVATE KEY-----` line before a real key is not
/// allowed to swallow it (the regex's match then starts at the dangling header).
pub fn detect_pem(ctx: &MatchContext<'_>) -> Option<Candidate> {
    let whole = ctx.matched();
    let footer_start = rfind(whole, b"-----END")?;
    let begin = rfind(whole.get(..footer_start)?, b"-----BEGIN ")?;
    let matched = whole.get(begin..)?;
    let footer_start = footer_start - begin;
    let header_end = find(matched, b"-----", 11)?;
    let label = std::str::from_utf8(matched.get(11..header_end)?)
        .ok()?
        .to_string();
    if !label.ends_with("PRIVATE KEY") && !label.ends_with("PRIVATE KEY BLOCK") {
        return None;
    }
    let header_end = header_end + 5;
    if header_end > footer_start || !contains(matched.get(footer_start..)?, label.as_bytes()) {
        return None; // BEGIN and END labels differ: two half blocks, not one key.
    }
    let body = matched.get(header_end..footer_start)?;
    let encrypted_legacy = contains(body, b"Proc-Type: 4,ENCRYPTED");
    let base64_text = encoding::pem_body_base64(body);
    let der = base64_standard(&base64_text)?;
    if der.len() < MIN_KEY_BYTES {
        return None;
    }
    let parsed = parse_labelled(&label, &der, encrypted_legacy)?;
    let preview = format!(
        "-----BEGIN {label}-----{}…(redacted)",
        String::from_utf8_lossy(&base64_text[..base64_text.len().min(4)])
    );
    let secret = String::from_utf8_lossy(matched).into_owned();
    let identity = parsed.identity(&der);
    let mut candidate = ctx.candidate(parsed.kind, identity, secret, preview, &parsed.format);
    candidate.start = ctx.match_start + begin;
    candidate.key = Some(parsed.key);
    Some(candidate)
}

/// What a key block turned out to be.
struct ParsedKey {
    kind: &'static str,
    key: KeyInfo,
    format: String,
    public: Option<PublicKey>,
}

impl ParsedKey {
    fn from_public(public: PublicKey, format: &str, encrypted: bool) -> ParsedKey {
        ParsedKey {
            kind: public.kind(),
            key: public.key_info(encrypted),
            format: format.to_string(),
            public: Some(public),
        }
    }

    fn opaque(kind: &'static str, key_type: &str, format: &str, encrypted: bool) -> ParsedKey {
        ParsedKey {
            kind,
            key: keys::opaque_key_info(key_type, None, encrypted),
            format: format.to_string(),
            public: None,
        }
    }

    /// A key keysweep could describe but not turn into a public half.
    fn described(described: keys::oids::Described, encrypted: bool) -> ParsedKey {
        let format = format!("pem-{}", described.structure);
        let mut parsed = ParsedKey::opaque(described.kind, &described.key_type, &format, encrypted);
        parsed.key.curve = described.curve;
        parsed
    }

    /// Grouping identity: the thumbprint, or a hash of the key material when there is none.
    fn identity(&self, der: &[u8]) -> Vec<u8> {
        match &self.public {
            Some(public) => public.thumbprint().into_bytes(),
            None => Sha256::digest(der).to_vec(),
        }
    }
}

fn parse_labelled(label: &str, der: &[u8], encrypted_legacy: bool) -> Option<ParsedKey> {
    let pem_format = |f: &str| format!("pem-{f}");
    match label {
        "RSA PRIVATE KEY" if encrypted_legacy => Some(ParsedKey::opaque(
            kind::RSA,
            "RSA",
            "pem-pkcs1-encrypted",
            true,
        )),
        "EC PRIVATE KEY" if encrypted_legacy => Some(ParsedKey::opaque(
            kind::EC,
            "EC",
            "pem-sec1-encrypted",
            true,
        )),
        "DSA PRIVATE KEY" => looks_like_der(der)
            .then(|| ParsedKey::opaque(kind::DSA, "DSA", "pem-dsa", encrypted_legacy)),
        "ENCRYPTED PRIVATE KEY" => looks_like_der(der).then(|| {
            // The algorithm inside is encrypted; what is in clear is how it is protected.
            let scheme = keys::oids::encrypted_pkcs8_scheme(der);
            let key_type =
                scheme.map_or_else(|| "unknown".to_string(), |s| format!("unknown, {s}"));
            ParsedKey::opaque(kind::ENCRYPTED, &key_type, "pem-pkcs8-encrypted", true)
        }),
        "PGP PRIVATE KEY BLOCK" => {
            is_pgp_secret_key(der).then(|| ParsedKey::opaque(kind::PGP, "PGP", "pgp-armor", false))
        }
        "OPENSSH PRIVATE KEY" => parse_openssh(der),
        _ => match keys::from_any_der(der) {
            Ok((public, structure)) => Some(ParsedKey::from_public(
                public,
                &pem_format(structure),
                false,
            )),
            Err(_) => match keys::oids::describe_der(der) {
                Some(described) => Some(ParsedKey::described(described, encrypted_legacy)),
                None => (der.len() >= 128 && looks_like_der(der))
                    .then(|| ParsedKey::opaque(kind::OTHER, "unknown", "pem", encrypted_legacy)),
            },
        },
    }
}

/// `openssh-key-v1`: the public key blob is stored in clear before the (possibly encrypted)
/// private section, so it is read directly; the private section is not parsed (OpenSSH stores
/// ECDSA scalars without leading zeros, which stricter parsers reject).
fn parse_openssh(data: &[u8]) -> Option<ParsedKey> {
    let mut reader = SshReader(data.strip_prefix(b"openssh-key-v1\0")?);
    let cipher = reader.string()?;
    let _kdf_name = reader.string()?;
    let _kdf_options = reader.string()?;
    let key_count = reader.u32()?;
    if key_count == 0 {
        return None;
    }
    let public_blob = reader.string()?;
    let encrypted = cipher != b"none";
    let public = ssh_key::PublicKey::from_bytes(public_blob)
        .ok()
        .and_then(|key| keys::from_ssh_key_data(key.key_data()).ok());
    match public {
        Some(public) => Some(ParsedKey::from_public(public, "openssh", encrypted)),
        None => {
            // A key type keysweep does not compute with (ssh-dss, security keys, a new
            // algorithm): reported under the name its public blob starts with.
            let algorithm = SshReader(public_blob).string()?;
            let algorithm = std::str::from_utf8(algorithm).ok()?;
            if algorithm.is_empty() || algorithm.len() > 64 || !algorithm.is_ascii() {
                return None;
            }
            let (kind, key_type) = if algorithm == "ssh-dss" {
                (kind::DSA, "DSA")
            } else {
                (kind::OTHER, algorithm)
            };
            Some(ParsedKey::opaque(kind, key_type, "openssh", encrypted))
        }
    }
}

/// Reads SSH wire-format fields (RFC 4251 §5).
struct SshReader<'a>(&'a [u8]);

impl<'a> SshReader<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*head))
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        let value = self.0.get(..len)?;
        self.0 = &self.0[len..];
        Some(value)
    }
}

/// A DER SEQUENCE with a plausible length.
fn looks_like_der(der: &[u8]) -> bool {
    der.len() >= MIN_KEY_BYTES && der[0] == 0x30 && matches!(der[1], 0x81..=0x84 | 0x20..=0x7f)
}

/// The first OpenPGP packet is a secret-key packet (tag 5).
fn is_pgp_secret_key(data: &[u8]) -> bool {
    let Some(&first) = data.first() else {
        return false;
    };
    if first & 0x80 == 0 || data.len() < 64 {
        return false;
    }
    let tag = if first & 0x40 != 0 {
        first & 0x3f
    } else {
        (first >> 2) & 0x0f
    };
    tag == 5
}

/// A PuTTY PPK v2/v3 file: the public half is in clear in `Public-Lines`.
pub fn detect_ppk(ctx: &MatchContext<'_>) -> Option<Candidate> {
    let text = std::str::from_utf8(ctx.matched()).ok()?;
    let version = if text.starts_with("PuTTY-User-Key-File-3") {
        "putty-ppk-v3"
    } else {
        "putty-ppk-v2"
    };
    let mut lines = text.lines();
    let mut encrypted = false;
    let mut public_base64 = String::new();
    while let Some(line) = lines.next() {
        if let Some(value) = line.strip_prefix("Encryption: ") {
            encrypted = value.trim() != "none";
        } else if let Some(count) = line.strip_prefix("Public-Lines: ") {
            let count: usize = count.trim().parse().ok()?;
            for _ in 0..count.min(64) {
                public_base64.push_str(lines.next()?.trim());
            }
        }
    }
    let blob = base64_standard(public_base64.as_bytes())?;
    let ssh_public = ssh_key::PublicKey::from_bytes(&blob).ok()?;
    let public = keys::from_ssh_key_data(ssh_public.key_data()).ok()?;
    let parsed = ParsedKey::from_public(public, version, encrypted);
    let preview = format!("{}…(redacted)", text.lines().next().unwrap_or(""));
    let identity = parsed.identity(&blob);
    let mut candidate = ctx.candidate(
        parsed.kind,
        identity,
        text.to_string(),
        preview,
        &parsed.format,
    );
    candidate.key = Some(parsed.key);
    Some(candidate)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(haystack.get(from..)?, needle).map(|i| i + from)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(haystack, needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}
