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

use serde::Serialize;

use crate::config::VerifyConfig;
use crate::finding::{Finding, JwtInfo, Location, Severity};

use self::hmac::{HsToken, key_variants};
use self::http::Fetcher;
use self::jwks::KeySet;

/// Outcome of verification. Detection alone leaves `unverified`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verification {
    /// `live`, `not-live`, `signs-token`, `weak-secret`, `known-example`, `unverified`, `error`.
    pub status: String,
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

/// A JWT that a secret was proven against (never the token itself).
#[derive(Clone, Debug, PartialEq, Serialize)]
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

impl Default for Verification {
    fn default() -> Self {
        Verification {
            status: "unverified".to_string(),
            kid: None,
            source: None,
            detail: None,
            token: None,
            exposed_since: None,
            introduced_in: None,
        }
    }
}

impl Verification {
    fn with_status(status: &str) -> Verification {
        Verification {
            status: status.to_string(),
            ..Verification::default()
        }
    }
}

/// Verify findings in place. Problems (a JWKS that cannot be fetched) become `error` statuses
/// with a readable detail; they never stop the run. Tokens given with `--token` /
/// `--tokens-file` whose secret is guessable (or that are unsigned) are added as findings.
pub fn verify(findings: &mut Vec<Finding>, config: &VerifyConfig) {
    let mut fetcher = Fetcher::new(config);
    let sources = load_sources(config, &mut fetcher);
    keymatch::apply(findings, &sources);
    let tokens = collect_tokens(findings, config);
    verify_secrets(findings, &tokens);
    exposure(findings);
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
pub fn load_sources(config: &VerifyConfig, fetcher: &mut Fetcher) -> Sources {
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

/// Where a JWT came from.
#[derive(Clone, Debug)]
enum TokenOrigin {
    /// A `jwt/token` finding (index into the findings).
    Finding(usize),
    /// Given by the user: its label (`--token 1`, `tokens.txt:3`).
    Given {
        label: String,
        path: String,
        line: usize,
    },
}

#[derive(Clone, Debug)]
struct Token {
    text: String,
    info: JwtInfo,
    hs: Option<HsToken>,
    origin: TokenOrigin,
}

impl Token {
    fn new(text: &str, info: JwtInfo, origin: TokenOrigin) -> Token {
        Token {
            hs: HsToken::parse(text, &info.alg),
            text: text.to_string(),
            info,
            origin,
        }
    }

    fn reference(&self, findings: &[Finding]) -> TokenRef {
        TokenRef {
            location: self.label(findings),
            alg: self.info.alg.clone(),
            iss: self.info.iss.clone(),
            sub: self.info.sub.clone(),
        }
    }

    fn label(&self, findings: &[Finding]) -> String {
        match &self.origin {
            TokenOrigin::Finding(index) => findings[*index]
                .locations
                .first()
                .map(location_label)
                .unwrap_or_else(|| "the scan".to_string()),
            TokenOrigin::Given { label, .. } => label.clone(),
        }
    }

    fn is_unsigned(&self) -> bool {
        self.info.alg.eq_ignore_ascii_case("none")
    }
}

fn location_label(location: &Location) -> String {
    match &location.commit {
        Some(commit) => format!(
            "{}:{} (commit {})",
            location.path,
            location.line,
            &commit[..commit.len().min(12)]
        ),
        None => format!("{}:{}", location.path, location.line),
    }
}

/// Every JWT the scan found plus every token the user gave.
fn collect_tokens(findings: &[Finding], config: &VerifyConfig) -> Vec<Token> {
    let mut tokens = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        if finding.rule != "jwt/token" {
            continue;
        }
        if let Some(info) = &finding.jwt {
            tokens.push(Token::new(
                finding.raw_secret.trim(),
                info.clone(),
                TokenOrigin::Finding(index),
            ));
        }
    }
    let mut given: Vec<(String, String, String, usize)> = Vec::new();
    for (i, token) in config.tokens.iter().enumerate() {
        given.push((
            token.trim().to_string(),
            format!("--token {}", i + 1),
            "--token".to_string(),
            i + 1,
        ));
    }
    if let Some(path) = &config.tokens_file {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                for (i, line) in text.lines().enumerate() {
                    let line_text = line.trim();
                    if line_text.is_empty() || line_text.starts_with('#') {
                        continue;
                    }
                    let shown = path.display().to_string();
                    given.push((
                        line_text.to_string(),
                        format!("{shown}:{}", i + 1),
                        shown,
                        i + 1,
                    ));
                }
            }
            Err(error) => eprintln!(
                "keysweep: warning: cannot read --tokens-file {}: {error}",
                path.display()
            ),
        }
    }
    for (text, label, path, line) in given {
        if tokens.iter().any(|t| t.text == text) {
            continue; // already found by the scan
        }
        match crate::detect::jwt::parse(&text) {
            Some(info) => tokens.push(Token::new(
                &text,
                info,
                TokenOrigin::Given { label, path, line },
            )),
            None => eprintln!("keysweep: warning: {label} is not a compact JWS JWT; ignored"),
        }
    }
    tokens
}

/// What was learned about one token.
#[derive(Default)]
struct TokenVerdict {
    /// Indexes of scanned secret findings that verify it.
    signed_by: Vec<usize>,
    /// Index into the weak list, when a listed secret verifies it.
    weak_entry: Option<usize>,
    /// A published example key verifies it.
    example: Option<&'static known::KnownKey>,
}

/// HMAC secrets against tokens, tokens against the weak list, `alg: none`.
fn verify_secrets(findings: &mut Vec<Finding>, tokens: &[Token]) {
    let secret_indexes: Vec<usize> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.rule == "secret/hmac")
        .map(|(i, _)| i)
        .collect();
    let variants: Vec<Vec<Vec<u8>>> = secret_indexes
        .iter()
        .map(|&i| key_variants(&findings[i].raw_secret))
        .collect();
    let example_keys: Vec<(&'static known::KnownKey, Vec<u8>)> = known::KNOWN_KEYS
        .iter()
        .filter_map(|key| {
            let k = key.k.as_deref()?;
            Some((key, crate::scan::decode::base64_url(k.as_bytes())?))
        })
        .collect();

    let mut verdicts: Vec<TokenVerdict> = Vec::with_capacity(tokens.len());
    // For each secret finding: the tokens it verifies.
    let mut signs: Vec<Vec<usize>> = vec![Vec::new(); secret_indexes.len()];
    for (t, token) in tokens.iter().enumerate() {
        let mut verdict = TokenVerdict::default();
        if let Some(hs) = &token.hs {
            for (s, keys) in variants.iter().enumerate() {
                if keys.iter().any(|key| hs.verifies(key)) {
                    verdict.signed_by.push(secret_indexes[s]);
                    signs[s].push(t);
                }
            }
            verdict.example = example_keys
                .iter()
                .find(|(_, key)| hs.verifies(key))
                .map(|(known, _)| *known);
            if verdict.signed_by.is_empty() && verdict.example.is_none() {
                verdict.weak_entry = weak::PREPARED
                    .iter()
                    .position(|key| hs.verifies_prepared(key));
            }
        }
        verdicts.push(verdict);
    }

    // Secrets.
    for (s, &index) in secret_indexes.iter().enumerate() {
        if findings[index].verification.status == "live" {
            continue; // published in a configured key set: that outranks everything
        }
        let verification = secret_verification(&findings[index], &signs[s], tokens, findings);
        if let Some((verification, severity)) = verification {
            let finding = &mut findings[index];
            finding.verification = verification;
            if let Some(severity) = severity {
                finding.severity = severity;
            }
        }
    }

    // Tokens.
    let mut added = Vec::new();
    for (token, verdict) in tokens.iter().zip(&verdicts) {
        let Some(verification) = token_verification(token, verdict, findings) else {
            continue;
        };
        match &token.origin {
            TokenOrigin::Finding(index) => {
                let finding = &mut findings[*index];
                finding.verification = verification;
                finding.severity = finding.severity.max(Severity::High);
            }
            TokenOrigin::Given { path, line, .. } => {
                added.push(given_token_finding(token, path, *line, verification));
            }
        }
    }
    findings.extend(added);
}

/// The verification of one `secret/hmac` finding, with a new severity where it changes.
fn secret_verification(
    finding: &Finding,
    signed: &[usize],
    tokens: &[Token],
    findings: &[Finding],
) -> Option<(Verification, Option<Severity>)> {
    let example = example_secret(&finding.raw_secret);
    let given_token = signed
        .iter()
        .any(|&t| matches!(tokens[t].origin, TokenOrigin::Given { .. }));
    if !signed.is_empty() && (example.is_none() || given_token) {
        // Prefer a token the user gave (production evidence), then the first found.
        let first = signed
            .iter()
            .copied()
            .find(|&t| matches!(tokens[t].origin, TokenOrigin::Given { .. }))
            .unwrap_or(signed[0]);
        let token = &tokens[first];
        let reference = token.reference(findings);
        let mut detail = format!(
            "verifies the {} JWT at {}{}",
            reference.alg,
            reference.location,
            claims_text(&token.info)
        );
        if signed.len() > 1 {
            detail.push_str(&format!(" and {} more token(s)", signed.len() - 1));
        }
        if let Some(example) = example {
            detail.push_str(&format!(
                "; it is a published example key ({})",
                example.name
            ));
        }
        let verification = Verification {
            kid: token.info.kid.clone(),
            source: Some(reference.location.clone()),
            detail: Some(detail),
            token: Some(reference),
            ..Verification::with_status("signs-token")
        };
        return Some((verification, Some(Severity::Critical)));
    }
    if let Some(example) = example {
        let mut detail = format!("published example key: {}", example.name);
        if !signed.is_empty() {
            detail.push_str(&format!(
                "; it verifies the JWT at {}",
                tokens[signed[0]].label(findings)
            ));
        }
        let verification = Verification {
            detail: Some(detail),
            ..Verification::with_status("known-example")
        };
        return Some((verification, Some(Severity::Low)));
    }
    if weak::is_listed(finding.raw_secret.trim()) {
        let verification = Verification {
            detail: Some(
                "a well-known or default secret (keysweep's weak-secret list): anyone can guess it"
                    .to_string(),
            ),
            ..Verification::with_status("weak-secret")
        };
        return Some((verification, None));
    }
    None
}

/// The published example key a secret is, if any (compared by RFC 7638 oct thumbprint of each
/// reading of the secret).
fn example_secret(secret: &str) -> Option<&'static known::KnownKey> {
    let secret = secret.trim();
    let mut candidates = vec![secret.to_string()];
    candidates.extend(
        key_variants(secret)
            .iter()
            .map(|bytes| crate::scan::decode::to_base64_url(bytes)),
    );
    candidates
        .iter()
        .find_map(|k| known::by_thumbprint(&jwks::oct_thumbprint(k)))
        .filter(|known| known.kty == "oct")
}

fn claims_text(info: &JwtInfo) -> String {
    match (&info.iss, &info.sub) {
        (Some(iss), Some(sub)) => format!(" (iss {iss}, sub {sub})"),
        (Some(iss), None) => format!(" (iss {iss})"),
        (None, Some(sub)) => format!(" (sub {sub})"),
        (None, None) => String::new(),
    }
}

/// The verification of one token: `weak-secret` when it is unsigned or its secret is known.
fn token_verification(
    token: &Token,
    verdict: &TokenVerdict,
    findings: &[Finding],
) -> Option<Verification> {
    let detail = if token.is_unsigned() {
        "unsigned token (alg: none): anyone can forge it, and a verifier that accepts it accepts any claims".to_string()
    } else if let Some(&secret) = verdict.signed_by.first() {
        let location = findings[secret]
            .locations
            .first()
            .map(location_label)
            .unwrap_or_default();
        format!("signed with the secret found at {location}")
    } else if let Some(example) = verdict.example {
        format!("signed with a published example key: {}", example.name)
    } else if let Some(entry) = verdict.weak_entry {
        format!(
            "signed with a well-known or default secret (entry {} of keysweep's weak-secret list)",
            entry + 1
        )
    } else {
        return None;
    };
    Some(Verification {
        kid: token.info.kid.clone(),
        detail: Some(detail),
        ..Verification::with_status("weak-secret")
    })
}

/// A finding for a token the user gave, so its weakness is reported like a found one.
fn given_token_finding(
    token: &Token,
    path: &str,
    line: usize,
    verification: Verification,
) -> Finding {
    let source = if path == "--token" {
        "token"
    } else {
        "tokens-file"
    };
    let header = token.text.split('.').next().unwrap_or("");
    Finding {
        rule: "jwt/token".to_string(),
        title: "JSON Web Token".to_string(),
        severity: Severity::High,
        fingerprint: crate::finding::fingerprint("jwt/token", token.text.as_bytes()),
        secret: format!("{}…(redacted)", &header[..header.len().min(12)]),
        raw_secret: token.text.clone(),
        key: None,
        jwt: Some(token.info.clone()),
        verification,
        locations: vec![Location {
            source: source.to_string(),
            path: path.to_string(),
            line,
            column: 1,
            end_line: line,
            end_column: token.text.chars().count() + 1,
            format: "jwt".to_string(),
            commit: None,
            author: None,
            date: None,
            blob: None,
            commits: None,
            rule_id: "jwt/compact".to_string(),
            allowed: false,
        }],
    }
}

/// For `live` keys and `signs-token` secrets seen in git history: the first commit that
/// introduced them.
fn exposure(findings: &mut [Finding]) {
    for finding in findings.iter_mut() {
        if !matches!(finding.verification.status.as_str(), "live" | "signs-token") {
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
        findings[0].verification.status = "signs-token".to_string();
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
        let config = VerifyConfig::default();
        verify(&mut findings, &config);
        // The RFC key signs the RFC token, but both are published examples.
        assert_eq!(findings[0].verification.status, "known-example");
        assert_eq!(findings[0].severity, Severity::Low);
        assert_eq!(findings[1].verification.status, "unverified");
        assert_eq!(findings[2].verification.status, "weak-secret");
        assert_eq!(findings[3].verification.status, "weak-secret");
        assert!(
            findings[3]
                .verification
                .detail
                .as_deref()
                .unwrap()
                .contains("weak-secret list")
        );
        assert_eq!(findings[4].verification.status, "weak-secret");
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
        let config = VerifyConfig {
            tokens: vec![weak_token.to_string()],
            ..VerifyConfig::default()
        };
        let mut findings = Vec::new();
        verify(&mut findings, &config);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].verification.status, "weak-secret");
        assert_eq!(findings[0].locations[0].path, "--token");
    }
}
