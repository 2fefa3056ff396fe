//! `--format json`: one document with findings, skipped inputs and statistics.

use std::io::Write;

use serde::Serialize;

use super::{RenderOptions, ScanReport, shown_secret};
use crate::finding::{Finding, Skipped, Stats};

#[derive(Serialize)]
pub(super) struct Tool {
    name: &'static str,
    version: &'static str,
}

pub(super) const TOOL: Tool = Tool {
    name: "keysweep",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Serialize)]
struct Document<'a> {
    tool: Tool,
    findings: Vec<serde_json::Value>,
    skipped: &'a [Skipped],
    stats: &'a Stats,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a super::RunInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a super::ShardReport>,
}

/// A finding as JSON, with the secret shown or redacted.
pub fn finding_value(finding: &Finding, options: &RenderOptions) -> serde_json::Value {
    let mut value = serde_json::to_value(finding).unwrap_or(serde_json::Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.insert("secret".to_string(), shown_secret(finding, options).into());
    }
    value
}

/// One JSON document with findings, skipped inputs and statistics.
pub fn write_document(
    report: &ScanReport<'_>,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let document = Document {
        tool: TOOL,
        findings: report
            .findings
            .iter()
            .map(|f| finding_value(f, options))
            .collect(),
        skipped: &report.skipped,
        stats: &report.stats,
        run: report.run.as_ref(),
        shard: report.shard.as_ref(),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}
