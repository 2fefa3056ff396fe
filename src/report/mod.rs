//! Rendering findings: human, JSON, JSON Lines and SARIF. Secrets are redacted unless the user
//! asked for them; output order is deterministic.

pub mod human;
pub mod json;
pub mod sarif;

use std::io::Write;

use crate::finding::{Finding, Skipped, Stats};
use crate::rules::RuleSet;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
}

/// Everything a run produced.
pub struct ScanReport<'r> {
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub stats: Stats,
    pub rules: &'r RuleSet,
    /// `keysweep/<mode>/` for SARIF's `automationDetails.id` (`full`, `history`, `diff`).
    pub mode: &'static str,
}

/// How to render.
#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    pub format: Format,
    pub show_secrets: bool,
    pub color: bool,
}

/// Render a report to `out`.
pub fn write(
    report: &ScanReport<'_>,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match options.format {
        Format::Human => human::write(report, options, out),
        Format::Json => json::write_document(report, options, out),
        Format::Jsonl => json::write_lines(report, options, out),
        Format::Sarif => sarif::write(report, out),
    }
}

/// The secret text to show for a finding.
pub fn shown_secret<'f>(finding: &'f Finding, options: &RenderOptions) -> &'f str {
    if options.show_secrets && !finding.raw_secret.is_empty() {
        &finding.raw_secret
    } else {
        &finding.secret
    }
}
