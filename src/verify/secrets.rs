//! HMAC secrets against JWTs, JWTs against the weak-secret list and published example keys,
//! and unsigned (`alg: none`) tokens. Everything here runs locally.

use super::hmac::{HsToken, key_variants};
use super::{Options, jwks, known, weak};
use crate::finding::{Finding, JwtInfo, Location, Severity, Status, TokenRef, Verification, kind};

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

/// A token the user gave with `--token` or `--tokens-file`, parsed.
#[derive(Clone, Debug)]
pub struct GivenToken {
    text: String,
    info: JwtInfo,
    /// `--token 2`, `tokens.txt:3`.
    label: String,
    /// `--token` or the tokens file's path.
    path: String,
    line: usize,
}

impl GivenToken {
    /// The token as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Its header and claims.
    pub fn info(&self) -> &JwtInfo {
        &self.info
    }

    /// `--token 2`, `tokens.txt:3`.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// Read the tokens the user gave. A `--tokens-file` that cannot be read is an error (the user
/// asked for it); a line that is not a JWT is a warning.
pub fn given_tokens(options: &Options) -> anyhow::Result<(Vec<GivenToken>, Vec<String>)> {
    let mut given: Vec<(String, String, String, usize)> = Vec::new();
    for (i, token) in options.tokens.iter().enumerate() {
        given.push((
            token.trim().to_string(),
            format!("--token {}", i + 1),
            "--token".to_string(),
            i + 1,
        ));
    }
    if let Some(path) = &options.tokens_file {
        let text = std::fs::read_to_string(path).map_err(|error| {
            anyhow::anyhow!("cannot read --tokens-file {}: {error}", path.display())
        })?;
        let shown = path.display().to_string();
        for (i, line) in text.lines().enumerate() {
            let line_text = line.trim();
            if line_text.is_empty() || line_text.starts_with('#') {
                continue;
            }
            given.push((
                line_text.to_string(),
                format!("{shown}:{}", i + 1),
                shown.clone(),
                i + 1,
            ));
        }
    }
    let mut tokens = Vec::new();
    let mut warnings = Vec::new();
    for (text, label, path, line) in given {
        match crate::detect::jwt::parse(&text) {
            Some(info) => tokens.push(GivenToken {
                text,
                info,
                label,
                path,
                line,
            }),
            None => warnings.push(format!("{label} is not a compact JWS JWT; ignored")),
        }
    }
    Ok((tokens, warnings))
}

/// Every JWT the scan found plus every token the user gave.
fn collect_tokens(findings: &[Finding], given: &[GivenToken]) -> Vec<Token> {
    let mut tokens = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        if finding.rule != kind::JWT {
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
    for token in given {
        if tokens.iter().any(|t| t.text == token.text) {
            continue; // already found by the scan
        }
        tokens.push(Token::new(
            &token.text,
            token.info.clone(),
            TokenOrigin::Given {
                label: token.label.clone(),
                path: token.path.clone(),
                line: token.line,
            },
        ));
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

/// HMAC secrets against the tokens found and given, tokens against the weak list and
/// published example keys, `alg: none`.
pub fn verify(findings: &mut Vec<Finding>, given: &[GivenToken]) {
    let tokens = collect_tokens(findings, given);
    verify_secrets(findings, &tokens);
}

fn verify_secrets(findings: &mut Vec<Finding>, tokens: &[Token]) {
    let secret_indexes: Vec<usize> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.rule == kind::HMAC_SECRET)
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
            Some((key, crate::encoding::base64_url(k.as_bytes())?))
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
                verdict.weak_entry = weak::entry_signing(hs);
            }
        }
        verdicts.push(verdict);
    }

    // Secrets.
    for (s, &index) in secret_indexes.iter().enumerate() {
        if findings[index].verification.status == Status::Live {
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
            ..Verification::with_status(Status::SignsToken)
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
            ..Verification::with_status(Status::KnownExample)
        };
        return Some((verification, Some(Severity::Low)));
    }
    if weak::is_listed(finding.raw_secret.trim()) {
        let verification = Verification {
            detail: Some(
                "a well-known or default secret (keysweep's weak-secret list): anyone can guess it"
                    .to_string(),
            ),
            ..Verification::with_status(Status::WeakSecret)
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
            .map(|bytes| crate::encoding::to_base64_url(bytes)),
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
        weak::UNSIGNED_DETAIL.to_string()
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
        weak::entry_detail(entry)
    } else {
        return None;
    };
    Some(Verification {
        kid: token.info.kid.clone(),
        detail: Some(detail),
        ..Verification::with_status(Status::WeakSecret)
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
        rule: kind::JWT.to_string(),
        title: "JSON Web Token".to_string(),
        severity: Severity::High,
        fingerprint: crate::finding::fingerprint(kind::JWT, token.text.as_bytes()),
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
            related: None,
            rule_id: "jwt/compact".to_string(),
            allowed: false,
        }],
    }
}
