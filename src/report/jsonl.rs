//! `--format jsonl`: one JSON record per line, written and flushed as soon as it is known.
//!
//! Record types (the `type` member):
//! - `header` (runs over a repository list, `keysweep git --repos`): the first line: the tool,
//!   the shard (`index`, `count`), the list (`digest`, `repositories`) and the names of the
//!   repositories in this shard. `keysweep merge` checks shards by it.
//! - `finding`: a finding the first time it is seen, with every member of a `json` finding and
//!   the verification known at that moment (keys are matched against the configured key sets
//!   as they are found).
//! - `update`: a finding whose severity, verification or locations changed after it was first
//!   written (a secret proven by a token found later, more places where it appears): its
//!   `fingerprint` and the new `severity`, `verification` and `locations`.
//! - `summary`: the last line of a run: `completed` (false when a signal stopped it), the tool,
//!   counts by severity and by verification status, `skipped` and `stats`; for a sweep or a
//!   repository list also `run` (host, user, roots, start and end time); for a repository
//!   list `shard`, `list` and each repository's outcome (`repositories`).
//!
//! With a shard key (`KEYSWEEP_SHARD_KEY`), `finding` records of HMAC secrets and tokens carry
//! `sealed`: the raw value, sealed for `keysweep merge` (see [`crate::seal`]).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::json::{TOOL, finding_value};
use super::{Output, RenderOptions, ReportSink, ScanReport, ShardHeader};
use crate::finding::{Finding, Location, Severity, Verification, kind};
use crate::seal::SealKey;

/// What a `finding` or `update` record last said about a finding.
struct Written {
    severity: Severity,
    verification: Verification,
    locations: Vec<Location>,
}

/// The streaming JSON Lines report.
pub struct JsonlSink {
    output: Output,
    render: RenderOptions,
    written: HashMap<String, Written>,
    seal: Option<SealKey>,
}

impl JsonlSink {
    pub fn new(output: Output, render: RenderOptions, seal: Option<SealKey>) -> JsonlSink {
        JsonlSink {
            output,
            render,
            written: HashMap::new(),
            seal,
        }
    }

    /// A finding record, sealed where a key is given.
    fn finding_record(&self, finding: &Finding) -> std::io::Result<Value> {
        let mut record = finding_record(finding, &self.render);
        if let (Some(key), Some(object)) = (&self.seal, record.as_object_mut())
            && needs_material(finding)
        {
            let sealed = key
                .seal(&finding.fingerprint, &finding.raw_secret)
                .map_err(std::io::Error::other)?;
            object.insert("sealed".into(), sealed.into());
        }
        Ok(record)
    }

    fn write_record(&mut self, record: &Value) -> std::io::Result<()> {
        self.output.write_with(|out| {
            serde_json::to_writer(&mut *out, record)?;
            out.write_all(b"\n")
        })
    }

    fn remember(&mut self, finding: &Finding) {
        self.written.insert(
            finding.fingerprint.clone(),
            Written {
                severity: finding.severity,
                verification: finding.verification.clone(),
                locations: finding.locations.clone(),
            },
        );
    }
}

/// Whether verifying a finding later needs its raw value: HMAC secrets (tried against tokens)
/// and tokens (tried against secrets and key sets). Private keys are matched by their public
/// half, which every record carries.
fn needs_material(finding: &Finding) -> bool {
    (finding.rule == kind::HMAC_SECRET || finding.rule == kind::JWT)
        && !finding.raw_secret.is_empty()
}

/// A finding record: the finding's members plus `"type": "finding"`.
fn finding_record(finding: &Finding, render: &RenderOptions) -> Value {
    let mut value = finding_value(finding, render);
    if let Some(object) = value.as_object_mut() {
        object.insert("type".into(), "finding".into());
    }
    value
}

fn update_record(finding: &Finding) -> Value {
    json!({
        "type": "update",
        "fingerprint": finding.fingerprint,
        "severity": finding.severity,
        "verification": finding.verification,
        "locations": finding.locations,
    })
}

fn summary_record(report: &ScanReport<'_>) -> Value {
    let mut by_severity: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_status: BTreeMap<&str, u64> = BTreeMap::new();
    for finding in &report.findings {
        *by_severity.entry(finding.severity.as_str()).or_default() += 1;
        *by_status
            .entry(finding.verification.status.as_str())
            .or_default() += 1;
    }
    let mut record = json!({
        "type": "summary",
        "completed": report.completed(),
        "tool": TOOL,
        "mode": report.mode,
        "findings": report.findings.len(),
        "by_severity": by_severity,
        "by_status": by_status,
        "skipped": report.skipped,
        "stats": report.stats,
    });
    if let Some(object) = record.as_object_mut() {
        if let Some(run) = &report.run {
            object.insert("run".into(), json!(run));
        }
        if let Some(shard) = &report.shard {
            object.insert("shard".into(), json!(shard.shard));
            object.insert("list".into(), json!(shard.list));
            object.insert("repositories".into(), json!(shard.repositories));
        }
    }
    record
}

fn header_record(header: &ShardHeader) -> Value {
    json!({
        "type": "header",
        "tool": TOOL,
        "mode": "repos",
        "shard": header.shard,
        "list": header.list,
        "repositories": header.repositories,
    })
}

impl ReportSink for JsonlSink {
    fn begin(&mut self, header: &ShardHeader) -> std::io::Result<()> {
        self.write_record(&header_record(header))
    }

    fn finding(&mut self, finding: &Finding) -> std::io::Result<()> {
        let record = self.finding_record(finding)?;
        self.write_record(&record)?;
        self.remember(finding);
        Ok(())
    }

    fn finish(&mut self, report: &ScanReport<'_>) -> std::io::Result<()> {
        for finding in &report.findings {
            let record = match self.written.get(&finding.fingerprint) {
                None => self.finding_record(finding)?,
                Some(written)
                    if written.severity != finding.severity
                        || written.verification != finding.verification
                        || written.locations != finding.locations =>
                {
                    update_record(finding)
                }
                Some(_) => continue,
            };
            self.write_record(&record)?;
            self.remember(finding);
        }
        self.write_record(&summary_record(report))
    }
}
