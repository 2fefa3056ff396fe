//! Private key → live key: a found key's RFC 7638 thumbprint against every key of every
//! configured key set; published example keys by thumbprint.

use super::Sources;
use super::jwks::{self, KeySet};
use super::known;
use crate::finding::{Finding, Severity, Status, Verification, kind};

/// A key set member that matched.
struct Hit<'a> {
    set: &'a KeySet,
    kid: Option<String>,
}

fn find_hit<'a>(sources: &'a Sources, thumbprint: &str) -> Option<Hit<'a>> {
    sources.sets.iter().find_map(|set| {
        set.keys
            .iter()
            .find(|key| key.thumbprint.as_deref() == Some(thumbprint))
            .map(|key| Hit {
                set,
                kid: key.kid.clone(),
            })
    })
}

/// The thumbprints a finding can be matched by: a private key's public half, or (for HMAC
/// secrets) the oct thumbprint of each reading of the secret.
fn thumbprints(finding: &Finding) -> Vec<String> {
    if kind::is_private_key(&finding.rule) {
        return finding
            .key
            .as_ref()
            .and_then(|key| key.thumbprint.clone())
            .into_iter()
            .collect();
    }
    if finding.rule == kind::HMAC_SECRET {
        let secret = finding.raw_secret.trim();
        let mut prints = vec![jwks::oct_thumbprint(secret)];
        for bytes in super::hmac::key_variants(secret) {
            let print = jwks::oct_thumbprint(&crate::encoding::to_base64_url(&bytes));
            if !prints.contains(&print) {
                prints.push(print);
            }
        }
        return prints;
    }
    Vec::new()
}

/// Set the verification of every private-key finding (and every HMAC secret published as an
/// `oct` key in a configured set) from the configured key sets and the known example keys.
pub fn apply(findings: &mut [Finding], sources: &Sources) {
    for finding in findings.iter_mut() {
        let prints = thumbprints(finding);
        if prints.is_empty() {
            continue;
        }
        let is_private_key = kind::is_private_key(&finding.rule);
        if let Some(hit) = prints.iter().find_map(|p| find_hit(sources, p)) {
            let mut detail = None;
            if hit.set.location != hit.set.configured {
                detail = Some(format!(
                    "published in {} (issuer {})",
                    hit.set.location, hit.set.configured
                ));
            }
            finding.verification = Verification {
                kid: hit.kid,
                source: Some(hit.set.configured.clone()),
                detail,
                ..Verification::with_status(Status::Live)
            };
            finding.severity = Severity::Critical;
            continue;
        }
        if !is_private_key {
            // HMAC secrets are judged against tokens later; only a live match is decided here.
            continue;
        }
        let example = prints.iter().find_map(|p| known::by_thumbprint(p));
        let example_note = example
            .map(|k| format!("; it is a published example key ({})", k.name))
            .unwrap_or_default();
        if !sources.errors.is_empty() {
            finding.verification = Verification {
                detail: Some(format!(
                    "could not check every configured key set: {}{example_note}",
                    sources.errors.join("; ")
                )),
                ..Verification::with_status(Status::Error)
            };
            continue;
        }
        if let Some(example) = example {
            let mut detail = format!("published example key: {}", example.name);
            if sources.configured() {
                detail.push_str(" (not in any configured key set)");
            }
            finding.verification = Verification {
                detail: Some(detail),
                ..Verification::with_status(Status::KnownExample)
            };
            finding.severity = Severity::Low;
            continue;
        }
        if !sources.skipped_offline.is_empty() {
            finding.verification = Verification {
                detail: Some(format!(
                    "not checked: network use is off (--offline), so {} was not fetched",
                    sources.skipped_offline.join(", ")
                )),
                ..Verification::default()
            };
            continue;
        }
        if !sources.sets.is_empty() {
            let checked: Vec<&str> = sources
                .sets
                .iter()
                .map(|set| set.configured.as_str())
                .collect();
            let keys: usize = sources.sets.iter().map(|set| set.keys.len()).sum();
            finding.verification = Verification {
                detail: Some(format!(
                    "not among the {keys} key(s) of {}",
                    checked.join(", ")
                )),
                ..Verification::with_status(Status::NotLive)
            };
        }
    }
}
