//! The data model every stage after matching reads: candidates, locations and grouped findings.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// How bad a finding is, from the point of view of someone who has to rotate it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// GitHub's `security-severity` score for this level.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Low => "3.0",
            Severity::Medium => "5.5",
            Severity::High => "8.0",
            Severity::Critical => "9.5",
        }
    }
}

/// What keysweep learned about a private key: its type, size and public half.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyInfo {
    /// `RSA`, `EC`, `Ed25519`, `DSA`, `PGP` or `unknown`.
    #[serde(rename = "type")]
    pub key_type: String,
    /// Modulus bits for RSA, curve bits for EC and EdDSA.
    pub bits: Option<u32>,
    /// `P-256`, `P-384`, `P-521` for EC keys.
    pub curve: Option<String>,
    /// True when the private part is password-protected.
    pub encrypted: bool,
    /// RFC 7638 SHA-256 thumbprint of the public half, base64url.
    pub thumbprint: Option<String>,
    /// The public half as a JWK (required members only).
    pub public_jwk: Option<serde_json::Value>,
}

/// The interesting parts of a JWT's header and claims.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct JwtInfo {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<serde_json::Value>,
    pub exp: Option<i64>,
}

pub use crate::verify::Verification;

/// One thing a detector recognised in one blob, before it is placed and grouped.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The finding kind (`private-key/rsa`, `secret/hmac`, ...), see `rules/kinds.toml`.
    pub kind: String,
    /// What makes two candidates the same finding: a key thumbprint or the secret's bytes.
    pub identity: Vec<u8>,
    /// The secret text as found (never printed unless the user asks).
    pub secret: String,
    /// A redacted rendering that is safe to print.
    pub preview: String,
    pub key: Option<KeyInfo>,
    pub jwt: Option<JwtInfo>,
    /// How the secret was encoded here (`pem-pkcs8`, `jwk`, `env`, ...).
    pub format: String,
    /// The matcher rule that found it.
    pub rule_id: String,
    /// Byte span of the secret in the blob.
    pub start: usize,
    pub end: usize,
}

/// Where a finding was seen.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// `file`, `git`, `staged`, `stdin`.
    pub source: String,
    /// Path relative to the scan root, with `/`.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub format: String,
    pub commit: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    /// Git blob id of the content, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// In history scans: how many commits carry this blob at this path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    /// The matcher rule that found it.
    #[serde(skip)]
    pub rule_id: String,
    /// An inline `keysweep:allow` comment covers this location.
    #[serde(skip)]
    pub allowed: bool,
}

/// One finding: one (kind, key or secret) with every place it was seen.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub fingerprint: String,
    /// The redacted rendering; reporters substitute `raw_secret` with `--show-secrets`.
    pub secret: String,
    #[serde(skip)]
    pub raw_secret: String,
    pub key: Option<KeyInfo>,
    pub jwt: Option<JwtInfo>,
    pub verification: Verification,
    pub locations: Vec<Location>,
}

/// A stable id for a (kind, identity) pair: no line numbers, no secret text.
pub fn fingerprint(kind: &str, identity: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"keysweep/v1\0");
    hasher.update(kind.as_bytes());
    hasher.update(b"\0");
    hasher.update(identity);
    let digest = hasher.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Something that could not be scanned, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Counters for the report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub files_binary: u64,
    pub files_skipped: u64,
    pub findings: u64,
    pub locations: u64,
    pub elapsed_ms: u64,
}

/// Redact a secret for display: keep a short prefix only when the secret is long enough that the
/// prefix does not help guess it.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() >= 24 {
        let prefix: String = chars[..4].iter().collect();
        format!("{prefix}…(redacted, {} chars)", chars.len())
    } else {
        format!("…(redacted, {} chars)", chars.len())
    }
}
