//! Verification at first sight, while the scan runs: a new HMAC secret is tried against the
//! tokens seen so far (found or given), a new token against the secrets seen so far, the
//! weak-secret list and `alg: none`. What only a later blob can prove is settled by the
//! whole-set pass at the end (`Verifier::finish`), and streamed reports get an update.

use std::sync::Mutex;

use super::hmac::{HsToken, key_variants};
use super::weak;
use crate::finding::{Finding, Severity, Status, Verification, kind};

/// A token seen so far, with where it is.
struct SeenToken {
    token: HsToken,
    alg: String,
    place: String,
}

/// A secret seen so far: its readings as key bytes, and where it is.
struct SeenSecret {
    keys: Vec<Vec<u8>>,
    place: String,
}

/// The tokens and secrets seen so far in this run.
#[derive(Default)]
pub struct Sight {
    seen: Mutex<(Vec<SeenToken>, Vec<SeenSecret>)>,
}

impl Sight {
    /// Remember a token the user gave (`--token`, `--tokens-file`).
    pub fn given_token(&self, text: &str, alg: &str, label: &str) {
        if let Some(token) = HsToken::parse(text, alg) {
            self.lock().0.push(SeenToken {
                token,
                alg: alg.to_string(),
                place: label.to_string(),
            });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<SeenToken>, Vec<SeenSecret>)> {
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Verify a new secret or token against what was seen before it, and remember it.
    pub fn check(&self, finding: &mut Finding) {
        let place = finding
            .locations
            .first()
            .map(|l| format!("{}:{}", l.path, l.line))
            .unwrap_or_default();
        if finding.rule == kind::HMAC_SECRET {
            self.check_secret(finding, place);
        } else if finding.rule == kind::JWT {
            self.check_token(finding, place);
        }
    }

    fn check_secret(&self, finding: &mut Finding, place: String) {
        let keys = key_variants(&finding.raw_secret);
        let mut seen = self.lock();
        if let Some(token) = seen
            .0
            .iter()
            .find(|t| keys.iter().any(|key| t.token.verifies(key)))
        {
            finding.verification = Verification {
                detail: Some(format!("verifies the {} JWT at {}", token.alg, token.place)),
                source: Some(token.place.clone()),
                ..Verification::with_status(Status::SignsToken)
            };
            finding.severity = Severity::Critical;
        }
        seen.1.push(SeenSecret { keys, place });
    }

    fn check_token(&self, finding: &mut Finding, place: String) {
        let Some(info) = &finding.jwt else { return };
        let detail = if info.alg.eq_ignore_ascii_case("none") {
            Some(weak::UNSIGNED_DETAIL.to_string())
        } else {
            let Some(token) = HsToken::parse(finding.raw_secret.trim(), &info.alg) else {
                return;
            };
            let mut seen = self.lock();
            let signer = seen
                .1
                .iter()
                .find(|s| s.keys.iter().any(|key| token.verifies(key)))
                .map(|s| format!("signed with the secret found at {}", s.place));
            let detail = signer.or_else(|| weak::entry_signing(&token).map(weak::entry_detail));
            seen.0.push(SeenToken {
                token,
                alg: info.alg.clone(),
                place,
            });
            detail
        };
        if let Some(detail) = detail {
            finding.verification = Verification {
                kid: info.kid.clone(),
                detail: Some(detail),
                ..Verification::with_status(Status::WeakSecret)
            };
            finding.severity = finding.severity.max(Severity::High);
        }
    }
}
