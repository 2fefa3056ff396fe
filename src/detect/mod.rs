//! Detectors: turn a rule match into candidates by parsing what it is (key type and size,
//! public half, thumbprint; JWT header and claims; whether a secret is a placeholder).
//! Detectors never log or send secret bytes anywhere.

pub mod container;
pub mod hmac;
pub mod jwk;
pub mod jwt;
pub mod keys;
pub mod pem;
pub mod pkcs12;
pub mod rawkey;

use crate::finding::Candidate;
use crate::rules::{Detector, Rule};

/// Everything a detector knows about one regex match.
pub struct MatchContext<'a> {
    /// The whole blob (detectors may look around the match).
    pub blob: &'a [u8],
    /// Path of the blob, for detectors that judge by file type.
    pub path: &'a str,
    pub rule: &'a Rule,
    /// Captures relative to `window_start`.
    pub caps: &'a regex::bytes::Captures<'a>,
    pub window_start: usize,
    pub match_start: usize,
    pub match_end: usize,
    pub secret_start: usize,
    pub secret_end: usize,
    /// How many decoding layers deep this blob is.
    pub depth: u8,
}

impl MatchContext<'_> {
    /// The bytes of a named capture group, if it took part.
    pub fn group(&self, name: &str) -> Option<&[u8]> {
        self.caps.name(name).map(|m| m.as_bytes())
    }

    /// The whole match.
    pub fn matched(&self) -> &[u8] {
        &self.blob[self.match_start..self.match_end]
    }

    /// The secret part of the match.
    pub fn secret(&self) -> &[u8] {
        &self.blob[self.secret_start..self.secret_end]
    }

    /// A candidate with the rule filled in; the detector sets the rest.
    pub fn candidate(
        &self,
        kind: &str,
        identity: Vec<u8>,
        secret: String,
        preview: String,
        format: &str,
    ) -> Candidate {
        Candidate {
            kind: kind.to_string(),
            identity,
            secret,
            preview,
            key: None,
            jwt: None,
            format: format.to_string(),
            rule_id: self.rule.spec.id.clone(),
            start: self.match_start,
            end: self.match_end,
            related: None,
        }
    }
}

/// Run the rule's detector on one match. `Detector::Base64` is a decoder, not a detector: the
/// scanner handles it before calling here.
pub fn run(ctx: &MatchContext<'_>, out: &mut Vec<Candidate>) {
    match ctx.rule.spec.detect {
        Detector::Pem => out.extend(pem::detect_pem(ctx)),
        Detector::Ppk => out.extend(pem::detect_ppk(ctx)),
        Detector::Base64 => {}
        Detector::Jwk => out.extend(jwk::detect(ctx)),
        Detector::Jwt => out.extend(jwt::detect(ctx)),
        Detector::Hmac => out.extend(hmac::detect(ctx)),
        Detector::RawKey => out.extend(rawkey::detect(ctx)),
        Detector::None => out.push(plain_match(ctx)),
    }
}

/// A user rule without a parser: the match is the finding, its secret group the secret.
fn plain_match(ctx: &MatchContext<'_>) -> Candidate {
    let secret = String::from_utf8_lossy(ctx.secret()).into_owned();
    let preview = crate::finding::redact(&secret);
    let mut candidate = ctx.candidate(
        &ctx.rule.spec.id,
        ctx.secret().to_vec(),
        secret,
        preview,
        "match",
    );
    candidate.start = ctx.secret_start;
    candidate.end = ctx.secret_end;
    candidate
}
