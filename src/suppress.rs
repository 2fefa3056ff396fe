//! Suppression: inline allow comments and baselines (fingerprints only, never secrets).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// The marker that silences findings on its line (or on the line after it).
pub const ALLOW_MARKER: &[u8] = b"keysweep:allow";

/// Whether a line carries an inline allow comment.
pub fn line_allows(line: &[u8]) -> bool {
    memchr::memmem::find(line, ALLOW_MARKER).is_some()
}

/// A baseline: the fingerprints of findings that were accepted when it was written.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub tool: String,
    pub fingerprints: BTreeSet<String>,
}

impl Baseline {
    /// Read a baseline file written by `keysweep baseline`.
    pub fn read(path: &Path) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read baseline {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a keysweep baseline", path.display()))
    }

    /// A baseline accepting every given finding.
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        Baseline {
            tool: "keysweep".to_string(),
            fingerprints: findings.iter().map(|f| f.fingerprint.clone()).collect(),
        }
    }
}

/// Drop allowed locations, then findings left without locations or listed in the baseline.
pub fn apply(findings: Vec<Finding>, baseline: Option<&Baseline>) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut finding| {
            finding.locations.retain(|l| !l.allowed);
            let baselined = baseline.is_some_and(|b| b.fingerprints.contains(&finding.fingerprint));
            (!finding.locations.is_empty() && !baselined).then_some(finding)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_marker_on_a_line() {
        assert!(line_allows(b"key = 'abc' # keysweep:allow"));
        assert!(!line_allows(b"key = 'abc'"));
    }
}
