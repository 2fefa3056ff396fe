//! Verification: matching found private keys against configured JWKS, proving HMAC secrets
//! against JWTs, flagging guessable secrets. The only module that talks to the network, and only
//! to fetch public JWKS documents from URLs the user configured. Secrets never leave the machine.

pub mod audit;
pub mod hmac;
pub mod http;
pub mod jwks;
pub mod keymatch;
pub mod known;
pub mod weak;

pub mod secrets;
mod sight;
pub mod tokens;

use std::path::PathBuf;
use std::time::Duration;

use crate::finding::Finding;

use self::http::Fetcher;
use self::jwks::KeySet;
use self::secrets::GivenToken;

/// Where verification may look, and its limits.
#[derive(Clone, Debug)]
pub struct Options {
    /// JWKS URLs or files.
    pub jwks: Vec<String>,
    /// OIDC issuers (discovery of `jwks_uri`).
    pub issuers: Vec<String>,
    /// JWTs given by the user.
    pub tokens: Vec<String>,
    pub tokens_file: Option<PathBuf>,
    pub offline: bool,
    pub ca_cert: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    /// Largest JWKS or discovery document accepted, in bytes.
    pub max_body_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            jwks: Vec::new(),
            issuers: Vec::new(),
            tokens: Vec::new(),
            tokens_file: None,
            offline: false,
            ca_cert: None,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            max_body_bytes: 1 << 20,
        }
    }
}

/// Verification for one run: the configured key sets are fetched and the given tokens read
/// once, before any scanning, so a key can be matched the moment it is found.
pub struct Verifier {
    sources: Sources,
    given: Vec<GivenToken>,
    sight: sight::Sight,
    /// Given inputs that were ignored (a line of the tokens file that is not a JWT).
    pub warnings: Vec<String>,
}

impl Verifier {
    /// Fetch or read every configured key set and read the given tokens. A JWKS URL that cannot
    /// be fetched becomes an `error` status later; a `--jwks` file or `--tokens-file` that cannot
    /// be read is an error now (the run exits 2, whatever it would have found).
    pub fn new(options: &Options) -> anyhow::Result<Verifier> {
        for source in options.jwks.iter().filter(|s| !jwks::is_url(s)) {
            // A key set file the user named must be there: a typo must not pass silently.
            std::fs::File::open(source)
                .map_err(|error| anyhow::anyhow!("cannot read --jwks file {source}: {error}"))?;
        }
        let (given, warnings) = secrets::given_tokens(options)?;
        let mut fetcher = Fetcher::new(options);
        let sources = load_sources(options, &mut fetcher);
        let sight = sight::Sight::default();
        for token in &given {
            sight.given_token(token.text(), &token.info().alg, token.label());
        }
        Ok(Verifier {
            sources,
            given,
            sight,
            warnings,
        })
    }

    /// What can be said about a finding the moment it is first seen: a private key's match
    /// against the key sets (or a published example key); an RS/PS/ES/EdDSA token's signature
    /// against the key sets; a secret against the tokens seen so far; a token against the
    /// secrets seen so far and the weak-secret list.
    pub fn at_sight(&self, finding: &mut Finding) {
        keymatch::apply(std::slice::from_mut(finding), &self.sources);
        tokens::apply(std::slice::from_mut(finding), &self.sources);
        if !finding.verification.status.is_proven() {
            self.sight.check(finding);
        }
    }

    /// Whether any key set was configured (its verdicts then replace earlier unproven ones).
    pub fn has_key_sets(&self) -> bool {
        self.sources.configured()
    }

    /// The whole pass once every finding is known: keys against the key sets, secrets against
    /// every token, tokens against the weak list, the exposure window. Tokens given with
    /// `--token`/`--tokens-file` whose secret is guessable (or that are unsigned) are added as
    /// findings.
    pub fn finish(&self, findings: &mut Vec<Finding>) {
        keymatch::apply(findings, &self.sources);
        tokens::apply(findings, &self.sources);
        secrets::verify(findings, &self.given);
        exposure(findings);
    }
}

/// Verify findings in place (a one-shot [`Verifier`]).
pub fn verify(findings: &mut Vec<Finding>, options: &Options) -> anyhow::Result<()> {
    let verifier = Verifier::new(options)?;
    verifier.finish(findings);
    Ok(())
}

/// The configured key sets, fetched or read, and what could not be loaded.
#[derive(Debug, Default)]
pub struct Sources {
    pub sets: Vec<KeySet>,
    /// One readable sentence per source that failed.
    pub errors: Vec<String>,
    /// URL sources not fetched because network use is off.
    pub skipped_offline: Vec<String>,
}

impl Sources {
    /// Whether any key set was configured at all.
    pub fn configured(&self) -> bool {
        !self.sets.is_empty() || !self.errors.is_empty() || !self.skipped_offline.is_empty()
    }
}

/// Load every configured `--jwks` and `--issuer` source (each URL fetched once).
pub fn load_sources(config: &Options, fetcher: &mut Fetcher) -> Sources {
    let mut sources = Sources::default();
    let mut seen = std::collections::HashSet::new();
    for source in &config.jwks {
        if !seen.insert(("jwks", source.clone())) {
            continue;
        }
        if fetcher.offline() && jwks::is_url(source) {
            sources.skipped_offline.push(source.clone());
            continue;
        }
        match jwks::load(source, fetcher) {
            Ok(set) => sources.sets.push(set),
            Err(error) => sources.errors.push(error),
        }
    }
    for issuer in &config.issuers {
        if !seen.insert(("issuer", issuer.clone())) {
            continue;
        }
        if fetcher.offline() {
            sources.skipped_offline.push(issuer.clone());
            continue;
        }
        match jwks::load_issuer(issuer, fetcher) {
            Ok(set) => sources.sets.push(set),
            Err(error) => sources.errors.push(error),
        }
    }
    sources
}

/// For `live` keys and `signs-token` secrets seen in git history: the first commit that
/// introduced them.
fn exposure(findings: &mut [Finding]) {
    for finding in findings.iter_mut() {
        if !finding.verification.status.is_proven() {
            continue;
        }
        let earliest = finding
            .locations
            .iter()
            .filter(|l| l.commit.is_some() && l.date.is_some())
            .min_by(|a, b| {
                let (da, db) = (a.date.as_deref(), b.date.as_deref());
                let key = |d: Option<&str>| d.and_then(epoch_seconds);
                match (key(da), key(db)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => da.cmp(&db),
                }
            });
        if let Some(location) = earliest {
            let date = location.date.clone().unwrap_or_default();
            let commit = location.commit.clone().unwrap_or_default();
            let note = format!(
                "exposed since {date} (commit {})",
                &commit[..commit.len().min(12)]
            );
            let verification = &mut finding.verification;
            verification.detail = Some(match verification.detail.take() {
                Some(detail) => format!("{detail}; {note}"),
                None => note,
            });
            verification.exposed_since = Some(date);
            verification.introduced_in = Some(commit);
        }
    }
}

/// Seconds since the epoch of an ISO 8601 date-time with offset (`2024-05-01T10:00:00+02:00`,
/// `...Z`, or git's `2024-05-01 10:00:00 +0200`).
pub fn epoch_seconds(text: &str) -> Option<i64> {
    let text = text.trim();
    let number = |s: &str| s.parse::<i64>().ok();
    let (year, month, day) = (
        number(text.get(0..4)?)?,
        number(text.get(5..7)?)?,
        number(text.get(8..10)?)?,
    );
    let (hour, minute, second) = (
        number(text.get(11..13)?)?,
        number(text.get(14..16)?)?,
        number(text.get(17..19)?)?,
    );
    let rest = text.get(19..)?.trim_start();
    // Skip fractional seconds.
    let rest = rest
        .strip_prefix('.')
        .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()))
        .unwrap_or(rest);
    let offset = if rest.is_empty() || rest.eq_ignore_ascii_case("z") {
        0
    } else {
        let sign = match rest.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let digits: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
        if digits.len() != 4 {
            return None;
        }
        sign * (number(&digits[..2])? * 3600 + number(&digits[2..])? * 60)
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Location, Severity, Status, Verification};

    #[test]
    fn dates_with_offsets() {
        assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_seconds("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            epoch_seconds("2024-02-29 12:00:00 -0130"),
            Some(1_709_213_400)
        );
        assert_eq!(
            epoch_seconds("2001-09-09T01:46:40.123Z"),
            Some(1_000_000_000)
        );
        assert_eq!(epoch_seconds("yesterday"), None);
    }

    fn location(path: &str, commit: Option<&str>, date: Option<&str>) -> Location {
        Location {
            source: if commit.is_some() { "git" } else { "file" }.to_string(),
            path: path.to_string(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            format: "pem".to_string(),
            commit: commit.map(str::to_string),
            author: None,
            date: date.map(str::to_string),
            blob: None,
            commits: None,
            related: None,
            rule_id: String::new(),
            allowed: false,
        }
    }

    fn finding(rule: &str, raw: &str, locations: Vec<Location>) -> Finding {
        Finding {
            rule: rule.to_string(),
            title: rule.to_string(),
            severity: Severity::High,
            fingerprint: crate::finding::fingerprint(rule, raw.as_bytes()),
            secret: String::new(),
            raw_secret: raw.to_string(),
            key: None,
            jwt: crate::detect::jwt::parse(raw),
            verification: Verification::default(),
            locations,
        }
    }

    #[test]
    fn exposure_takes_the_earliest_commit() {
        let mut findings = vec![finding(
            "secret/hmac",
            "x",
            vec![
                location("b", Some("bbbb"), Some("2024-03-01T00:00:00+00:00")),
                location("a", Some("aaaa"), Some("2024-03-01T01:00:00+05:00")),
                location("c", None, None),
            ],
        )];
        findings[0].verification.status = Status::SignsToken;
        exposure(&mut findings);
        assert_eq!(
            findings[0].verification.introduced_in.as_deref(),
            Some("aaaa")
        );
        assert_eq!(
            findings[0].verification.exposed_since.as_deref(),
            Some("2024-03-01T01:00:00+05:00")
        );
        // Other statuses carry no exposure window.
        let mut other = vec![finding(
            "secret/hmac",
            "x",
            vec![location("b", Some("bbbb"), Some("2024-03-01T00:00:00Z"))],
        )];
        exposure(&mut other);
        assert!(other[0].verification.exposed_since.is_none());
    }

    #[test]
    fn secrets_against_tokens() {
        // RFC 7515 A.1 token with its key written as a JWK `k`, plus a token signed with a
        // listed weak secret, an unsigned token and an unrelated secret.
        let rfc_token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        // HS256 over {"alg":"HS256","typ":"JWT"}.{"sub":"1234567890","name":"John Doe","iat":1516239022}
        // with "your-256-bit-secret" (the jwt.io default token).
        let weak_token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        let none_token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.";
        let mut findings = vec![
            finding(
                "secret/hmac",
                "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
                vec![location("keys.json", None, None)],
            ),
            finding(
                "secret/hmac",
                "q8Zt3VxR1mLw9PaK2sJd",
                vec![location(".env", None, None)],
            ),
            finding("jwt/token", rfc_token, vec![location("a.txt", None, None)]),
            finding("jwt/token", weak_token, vec![location("b.txt", None, None)]),
            finding("jwt/token", none_token, vec![location("c.txt", None, None)]),
        ];
        let config = Options::default();
        verify(&mut findings, &config).unwrap();
        // The RFC key signs the RFC token, but both are published examples.
        assert_eq!(findings[0].verification.status, Status::KnownExample);
        assert_eq!(findings[0].severity, Severity::Low);
        assert_eq!(findings[1].verification.status, Status::Unverified);
        assert_eq!(findings[2].verification.status, Status::WeakSecret);
        assert_eq!(findings[3].verification.status, Status::WeakSecret);
        assert!(
            findings[3]
                .verification
                .detail
                .as_deref()
                .unwrap()
                .contains("weak-secret list")
        );
        assert_eq!(findings[4].verification.status, Status::WeakSecret);
        assert!(
            findings[4]
                .verification
                .detail
                .as_deref()
                .unwrap()
                .contains("alg: none")
        );
    }

    #[test]
    fn given_tokens_that_are_weak_become_findings() {
        let weak_token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        let config = Options {
            tokens: vec![weak_token.to_string()],
            ..Options::default()
        };
        let mut findings = Vec::new();
        verify(&mut findings, &config).unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].verification.status, Status::WeakSecret);
        assert_eq!(findings[0].locations[0].path, "--token");
    }
}
