//! The data model every stage after matching reads: candidates, locations and grouped findings.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::context::Context;

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

    /// This level lowered by `steps` levels, never below `Low`.
    pub fn lowered(self, steps: u8) -> Severity {
        let levels = [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ];
        let index = levels.iter().position(|&s| s == self).unwrap_or(0);
        levels[index.saturating_sub(usize::from(steps))]
    }

    /// Parse a level name (`low`, `medium`, `high`, `critical`; any case).
    pub fn parse(text: &str) -> Option<Severity> {
        let text = text.trim().to_ascii_lowercase();
        [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
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
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct JwtInfo {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<serde_json::Value>,
    pub exp: Option<i64>,
}

/// Finding kinds the code refers to by name (all kinds are listed in `rules/kinds.toml`).
pub mod kind {
    /// An HMAC / JWT signing secret.
    pub const HMAC_SECRET: &str = "secret/hmac";
    /// A JSON Web Token.
    pub const JWT: &str = "jwt/token";
    /// Prefix shared by every private-key kind.
    pub const PRIVATE_KEY_PREFIX: &str = "private-key/";
    pub const RSA: &str = "private-key/rsa";
    pub const EC: &str = "private-key/ec";
    pub const ED25519: &str = "private-key/ed25519";
    /// An RFC 8037 octet key pair other than Ed25519: Ed448, X25519, X448.
    pub const OKP: &str = "private-key/okp";
    pub const DSA: &str = "private-key/dsa";
    pub const PGP: &str = "private-key/pgp";
    pub const ENCRYPTED: &str = "private-key/encrypted";
    pub const OTHER: &str = "private-key/other";
    pub const KEYSTORE: &str = "private-key/keystore";

    /// Whether a kind is a private key.
    pub fn is_private_key(kind: &str) -> bool {
        kind.starts_with(PRIVATE_KEY_PREFIX)
    }
}

/// What verification proved, ordered by precedence: when verifiers disagree the greater status
/// wins (`Live` above everything, `Unverified` below everything).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Nothing to check against.
    #[default]
    Unverified,
    /// Key sets were checked and none holds the public half.
    NotLive,
    /// A configured source could not be checked (see `detail`).
    Error,
    /// A published example key, recognised by thumbprint.
    KnownExample,
    /// A JWT signed with a guessable secret, or unsigned.
    WeakSecret,
    /// An HMAC secret that verifies a JWT.
    SignsToken,
    /// The public half is published in a configured key set.
    Live,
}

impl Status {
    /// The name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unverified => "unverified",
            Status::NotLive => "not-live",
            Status::Error => "error",
            Status::KnownExample => "known-example",
            Status::WeakSecret => "weak-secret",
            Status::SignsToken => "signs-token",
            Status::Live => "live",
        }
    }

    /// Proven in use: the key is published or the secret signs a token.
    pub fn is_proven(self) -> bool {
        self >= Status::SignsToken
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Outcome of verification. Detection alone leaves `Unverified`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Verification {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For `signs-token`: the token the secret verifies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenRef>,
    /// For `live` and `signs-token` findings seen in git history: the author date of the first
    /// commit that introduced the key or secret (tokens could be forged since then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_since: Option<String>,
    /// The commit that `exposed_since` comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced_in: Option<String>,
}

impl Verification {
    /// A verification with only its status set.
    pub fn with_status(status: Status) -> Verification {
        Verification {
            status,
            ..Verification::default()
        }
    }
}

/// A JWT that a secret was proven against (never the token itself).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct TokenRef {
    /// Where the token is: `path:line` of a scan location, `--token N`, or `FILE:line` of
    /// `--tokens-file`.
    pub location: String,
    pub alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

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
    /// A second place that explains this one (where a traced secret is used).
    pub related: Option<Related>,
}

/// A second place in the same blob that explains a location: for a secret traced from a sign
/// call to its assignment, the call.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
pub struct Related {
    pub line: usize,
    pub column: usize,
    /// What happens there (`used as the key of jwt.sign`).
    pub message: String,
}

/// Where a finding was seen. Serialised with its [`Context`] (derived from the path).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
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
    pub blob: Option<String>,
    /// In history scans: how many commits carry this blob at this path.
    pub commits: Option<u64>,
    /// Where the secret found here is used (same file and commit), when that was traced.
    pub related: Option<Related>,
    /// The matcher rule that found it (not serialised).
    pub rule_id: String,
    /// An inline `keysweep:allow` comment covers this location (not serialised).
    pub allowed: bool,
}

impl Location {
    /// Where in the project this location is (code, config, test, docs, example, vendor).
    pub fn context(&self) -> Context {
        Context::of_path(&self.path)
    }
}

impl Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// The serialised members, in order; `context` is computed from the path.
        #[derive(Serialize)]
        struct View<'a> {
            source: &'a str,
            path: &'a str,
            context: Context,
            line: usize,
            column: usize,
            end_line: usize,
            end_column: usize,
            format: &'a str,
            commit: &'a Option<String>,
            author: &'a Option<String>,
            date: &'a Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            blob: &'a Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            commits: &'a Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            related: &'a Option<Related>,
        }
        View {
            source: &self.source,
            path: &self.path,
            context: self.context(),
            line: self.line,
            column: self.column,
            end_line: self.end_line,
            end_column: self.end_column,
            format: &self.format,
            commit: &self.commit,
            author: &self.author,
            date: &self.date,
            blob: &self.blob,
            commits: &self.commits,
            related: &self.related,
        }
        .serialize(serializer)
    }
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

impl Finding {
    /// The most exposed context among its locations (`None` without locations, e.g. a token
    /// given on the command line).
    pub fn context(&self) -> Option<Context> {
        self.locations
            .iter()
            .map(Location::context)
            .min_by_key(|c| (c.severity_steps(), *c))
    }

    /// The severity to report: see [`rate`].
    pub fn rated_severity(&self) -> Severity {
        rate(self)
    }

    /// Reporting order: proven in use first, then by severity (as rated by the caller).
    pub fn urgency(&self) -> (std::cmp::Reverse<bool>, std::cmp::Reverse<Severity>) {
        (
            std::cmp::Reverse(self.verification.status.is_proven()),
            std::cmp::Reverse(self.severity),
        )
    }
}

/// The severity a finding is reported with, from what it is, what verification proved and
/// where it was found. One table for every kind:
///
/// | what | severity |
/// |---|---|
/// | private key, live key, secret that signs a token | critical (a verdict of `live` or `signs-token` wins over context) |
/// | HMAC secret; JWT signed with a guessable or found secret (anyone can forge its tokens) | high |
/// | JWT signed with an unknown key (a bearer credential until it expires); encrypted or unparsed private key; key store | medium / high as in `rules/kinds.toml` |
/// | unsigned JWT (`alg: none`, proves nothing); published example key | low |
///
/// Then the context of the most exposed location lowers it: docs and examples by one level,
/// tests and vendored code by two (`Context::severity_steps`), never below low. A key in
/// `config/production.yml` stays critical; the same key in `tests/fixtures/` is medium.
///
/// `finding.severity` is taken as the kind's severity as verification left it, so this is
/// applied once, to what is reported (see `report::Reports`), not stored back.
pub fn rate(finding: &Finding) -> Severity {
    let status = finding.verification.status;
    if status.is_proven() {
        return finding.severity.max(Severity::Critical);
    }
    let unsigned = finding
        .jwt
        .as_ref()
        .is_some_and(|jwt| jwt.alg.eq_ignore_ascii_case("none"));
    let content = if status == Status::KnownExample || unsigned {
        Severity::Low
    } else {
        finding.severity
    };
    let steps = finding.context().map_or(0, Context::severity_steps);
    content.lowered(steps)
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
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Counters for the report.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Stats {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub files_binary: u64,
    pub files_skipped: u64,
    /// Blobs seen again under another origin (same git blob id): placed, not scanned again.
    #[serde(skip_serializing_if = "is_zero")]
    pub blobs_deduplicated: u64,
    /// Paths a walk did not visit because `.gitignore`, `.ignore` or `.git/info/exclude` hid
    /// them; an ignored directory counts once (`scan`, `baseline` and tracked-file hooks).
    pub ignored: u64,
    pub findings: u64,
    pub locations: u64,
    pub elapsed_ms: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
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

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, severity: Severity, paths: &[&str]) -> Finding {
        Finding {
            rule: rule.to_string(),
            title: String::new(),
            severity,
            fingerprint: String::new(),
            secret: String::new(),
            raw_secret: String::new(),
            key: None,
            jwt: None,
            verification: Verification::default(),
            locations: paths
                .iter()
                .map(|path| Location {
                    source: "file".to_string(),
                    path: path.to_string(),
                    line: 1,
                    column: 1,
                    end_line: 1,
                    end_column: 2,
                    format: "pem-pkcs8".to_string(),
                    commit: None,
                    author: None,
                    date: None,
                    blob: None,
                    commits: None,
                    related: None,
                    rule_id: String::new(),
                    allowed: false,
                })
                .collect(),
        }
    }

    #[test]
    fn lowered_stops_at_low() {
        assert_eq!(Severity::Critical.lowered(0), Severity::Critical);
        assert_eq!(Severity::Critical.lowered(2), Severity::Medium);
        assert_eq!(Severity::Medium.lowered(2), Severity::Low);
        assert_eq!(Severity::Low.lowered(9), Severity::Low);
        assert_eq!(Severity::parse(" High "), Some(Severity::High));
        assert_eq!(Severity::parse("urgent"), None);
    }

    #[test]
    fn context_lowers_unless_proven() {
        let key = |paths: &[&str]| rate(&finding(kind::RSA, Severity::Critical, paths));
        assert_eq!(key(&["config/production.yml"]), Severity::Critical);
        assert_eq!(key(&["README.md"]), Severity::High);
        assert_eq!(key(&["tests/fixtures/key.pem"]), Severity::Medium);
        // The most exposed location decides.
        assert_eq!(key(&["tests/a.pem", "src/b.pem"]), Severity::Critical);
        assert_eq!(key(&[]), Severity::Critical);
        let mut proven = finding(kind::HMAC_SECRET, Severity::High, &["tests/.env"]);
        assert_eq!(rate(&proven), Severity::Low);
        proven.verification.status = Status::SignsToken;
        assert_eq!(rate(&proven), Severity::Critical);
        proven.verification.status = Status::Live;
        assert_eq!(rate(&proven), Severity::Critical);
    }

    #[test]
    fn tokens_are_rated_by_what_they_prove() {
        let token = |alg: &str, severity: Severity, status: Status| {
            let mut f = finding(kind::JWT, severity, &["src/app.js"]);
            f.jwt = Some(JwtInfo {
                alg: alg.to_string(),
                ..JwtInfo::default()
            });
            f.verification.status = status;
            rate(&f)
        };
        // Verification raises a forgeable token to high; an unsigned one proves nothing.
        assert_eq!(
            token("none", Severity::High, Status::WeakSecret),
            Severity::Low
        );
        assert_eq!(
            token("HS256", Severity::High, Status::WeakSecret),
            Severity::High
        );
        assert_eq!(
            token("RS256", Severity::Medium, Status::Unverified),
            Severity::Medium
        );
        let example = |f: &mut Finding| f.verification.status = Status::KnownExample;
        let mut f = finding(kind::EC, Severity::Low, &["src/key.pem"]);
        example(&mut f);
        assert_eq!(rate(&f), Severity::Low);
    }

    #[test]
    fn locations_serialise_their_context() {
        let f = finding(kind::RSA, Severity::Critical, &["docs/setup.md"]);
        let value = serde_json::to_value(&f.locations[0]).expect("json");
        assert_eq!(value["context"], "docs");
        assert_eq!(value["path"], "docs/setup.md");
        assert!(value.get("rule_id").is_none() && value.get("allowed").is_none());
        assert!(value.get("blob").is_none() && value.get("commits").is_none());
        assert!(value.get("commit").is_some_and(serde_json::Value::is_null));
    }
}
