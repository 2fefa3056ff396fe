//! Rendering findings: human, JSON, JSON Lines and SARIF. Secrets are redacted unless the user
//! asked for them; output order is deterministic.
//!
//! Every report is a [`ReportSink`]: it is told when the run begins, sees each finding when it
//! is first known (`jsonl` writes it then), and gets the final report when the run ends (the
//! document formats render everything then). [`Reports`] drives several sinks at once, so one
//! run can write SARIF to a file and the human summary to the terminal.
//!
//! [`Reports`] is also where a finding's reported severity is decided ([`finding::rate`]: the
//! kind, the verdict and the context of its locations) and where `--min-severity` hides what is
//! below it, so every format says the same.

pub mod human;
pub mod json;
pub mod jsonl;
pub mod read;
pub mod sarif;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::finding::{self, Finding, Severity, Skipped, Stats};
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
    /// `keysweep/<mode>/` for SARIF's `automationDetails.id` (`full`, `history`, `diff`,
    /// `sweep`).
    pub mode: &'static str,
    /// Who ran what, where and when, and whether it completed (sweeps, repository lists).
    pub run: Option<RunInfo>,
    /// Which shard of which repository list, and what became of each repository (`--repos`).
    pub shard: Option<ShardReport>,
}

/// The part of a repository list a run covers: written first (a JSON Lines `header` record)
/// so a merge can tell which shard a file is, and again at the end with each repository's
/// outcome.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardHeader {
    pub shard: crate::source::repos::Shard,
    pub list: ListInfo,
    /// The names of the repositories in this shard, in list order.
    pub repositories: Vec<String>,
}

/// A repository list, as shards agree on it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListInfo {
    /// `sha256:<hex>` of the list's entries (see [`crate::source::repos::RepoList`]).
    pub digest: String,
    /// How many repositories the whole list has.
    pub repositories: usize,
}

/// What a shard run did: its place in the list and each repository's outcome.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ShardReport {
    pub shard: crate::source::repos::Shard,
    pub list: ListInfo,
    pub repositories: Vec<RepoOutcome>,
}

/// One repository of a shard.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RepoOutcome {
    pub name: String,
    /// `scanned`, `failed` (could not be cloned or read: see `reason`), or `not-scanned` (the
    /// run was interrupted first).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The evidence record of a sweep: the host, the user, the roots, when it started and ended, and
/// whether it ran to the end or was interrupted (its findings are then those found until then).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RunInfo {
    pub host: String,
    pub user: String,
    pub roots: Vec<String>,
    /// RFC 3339, UTC.
    pub started: String,
    /// RFC 3339, UTC.
    pub ended: String,
    /// False when a signal stopped the run.
    pub completed: bool,
}

impl ScanReport<'_> {
    /// Whether the run went to the end (not stopped by a signal).
    pub fn completed(&self) -> bool {
        self.run.as_ref().is_none_or(|run| run.completed)
    }
}

/// How to render.
#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    pub format: Format,
    pub show_secrets: bool,
    pub color: bool,
    /// `--min-severity`: findings rated below it are left out of this report.
    pub min_severity: Option<Severity>,
}

/// One report to write: how, and where (`None` is standard output).
#[derive(Clone, Debug)]
pub struct OutputSpec {
    pub path: Option<PathBuf>,
    pub render: RenderOptions,
    /// Seal the raw secrets and tokens into JSON Lines records (shard reports, see
    /// [`crate::seal`]).
    pub seal: Option<crate::seal::SealKey>,
}

/// A report being written as the run goes.
pub trait ReportSink: Send {
    /// Before anything is read: which shard of which list this run covers (`jsonl` writes it
    /// as its first record).
    fn begin(&mut self, _header: &ShardHeader) -> std::io::Result<()> {
        Ok(())
    }

    /// A finding the first time it is known (verified as far as known, suppression applied).
    fn finding(&mut self, _finding: &Finding) -> std::io::Result<()> {
        Ok(())
    }

    /// The run is over: the final, verified, suppressed and ordered report.
    fn finish(&mut self, report: &ScanReport<'_>) -> std::io::Result<()>;
}

/// Where a report's bytes go: a file or standard output. A closed pipe (`keysweep ... | head`)
/// ends the report quietly.
pub struct Output {
    writer: Box<dyn Write + Send>,
    name: String,
    closed: bool,
}

impl Output {
    /// Create the file (mode 0600 when it will hold secrets) or take standard output.
    pub fn open(spec: &OutputSpec) -> anyhow::Result<Output> {
        let (writer, name): (Box<dyn Write + Send>, String) = match &spec.path {
            Some(path) => {
                let file = create_file(path, spec.render.show_secrets)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                (
                    Box::new(std::io::BufWriter::new(file)),
                    path.display().to_string(),
                )
            }
            None => (
                Box::new(std::io::BufWriter::new(std::io::stdout())),
                "standard output".to_string(),
            ),
        };
        Ok(Output {
            writer,
            name,
            closed: false,
        })
    }

    /// Write with `render`, then flush. A broken pipe closes this output for good.
    pub fn write_with(
        &mut self,
        render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match render(&mut self.writer).and_then(|()| self.writer.flush()) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

fn create_file(path: &std::path::Path, private: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(path)
}

/// A function that renders a whole report.
type RenderFn = fn(&ScanReport<'_>, &RenderOptions, &mut dyn Write) -> std::io::Result<()>;

/// A report rendered once, at the end (human, json, sarif).
struct DocumentSink {
    output: Output,
    render: RenderOptions,
    render_fn: RenderFn,
}

impl ReportSink for DocumentSink {
    fn finish(&mut self, report: &ScanReport<'_>) -> std::io::Result<()> {
        let (render, render_fn) = (self.render, self.render_fn);
        self.output
            .write_with(|out| render_fn(report, &render, out))
    }
}

/// One open report: the sink, its name for errors, the lowest severity it shows.
struct Entry {
    sink: Box<dyn ReportSink>,
    name: String,
    min_severity: Option<Severity>,
}

impl Entry {
    fn shows(&self, finding: &Finding) -> bool {
        self.min_severity.is_none_or(|min| finding.severity >= min)
    }
}

/// Every report of a run.
pub struct Reports {
    sinks: Vec<Entry>,
}

impl Reports {
    /// Open every configured output (files are created now, so a bad path fails before the
    /// scan starts).
    pub fn open(specs: &[OutputSpec]) -> anyhow::Result<Reports> {
        let mut sinks = Vec::new();
        for spec in specs {
            let output = Output::open(spec)?;
            let name = output.name.clone();
            let min_severity = spec.render.min_severity;
            let render_fn: RenderFn = match spec.render.format {
                Format::Jsonl => {
                    let sink = Box::new(jsonl::JsonlSink::new(
                        output,
                        spec.render,
                        spec.seal.clone(),
                    ));
                    sinks.push(Entry {
                        sink,
                        name,
                        min_severity,
                    });
                    continue;
                }
                Format::Human => human::write,
                Format::Json => json::write_document,
                Format::Sarif => sarif::write,
            };
            let sink = Box::new(DocumentSink {
                output,
                render: spec.render,
                render_fn,
            });
            sinks.push(Entry {
                sink,
                name,
                min_severity,
            });
        }
        Ok(Reports { sinks })
    }

    /// Tell every sink which shard of which list the run covers.
    pub fn begin(&mut self, header: &ShardHeader) -> anyhow::Result<()> {
        for entry in &mut self.sinks {
            let name = &entry.name;
            entry
                .sink
                .begin(header)
                .with_context(|| format!("cannot write the report to {name}"))?;
        }
        Ok(())
    }

    /// Hand a newly known finding, rated, to every sink that shows its severity.
    pub fn finding(&mut self, finding: &Finding) -> anyhow::Result<()> {
        let rated = rated(finding);
        for entry in &mut self.sinks {
            if entry.shows(&rated) {
                let name = &entry.name;
                entry
                    .sink
                    .finding(&rated)
                    .with_context(|| format!("cannot write the report to {name}"))?;
            }
        }
        Ok(())
    }

    /// Hand the final report, rated and in order, to every sink (each without the findings
    /// below its `--min-severity`).
    pub fn finish(&mut self, report: &ScanReport<'_>) -> anyhow::Result<()> {
        let mut findings: Vec<Finding> = report.findings.iter().map(rated).collect();
        // Stable: equal urgency keeps the order the run chose (by location).
        findings.sort_by_key(Finding::urgency);
        for entry in &mut self.sinks {
            let shown = shown_report(report, &findings, |f| entry.shows(f));
            let name = &entry.name;
            entry
                .sink
                .finish(&shown)
                .with_context(|| format!("cannot write the report to {name}"))?;
        }
        Ok(())
    }
}

/// A copy of the finding with the severity it is reported with.
fn rated(finding: &Finding) -> Finding {
    let mut rated = finding.clone();
    rated.severity = finding::rate(finding);
    rated
}

/// The report one sink gets: the findings it shows, and counts that match them.
fn shown_report<'r>(
    report: &ScanReport<'r>,
    findings: &[Finding],
    shows: impl Fn(&Finding) -> bool,
) -> ScanReport<'r> {
    let findings: Vec<Finding> = findings.iter().filter(|f| shows(f)).cloned().collect();
    let mut stats = report.stats.clone();
    stats.findings = findings.len() as u64;
    stats.locations = findings.iter().map(|f| f.locations.len() as u64).sum();
    ScanReport {
        findings,
        skipped: report.skipped.clone(),
        stats,
        rules: report.rules,
        mode: report.mode,
        run: report.run.clone(),
        shard: report.shard.clone(),
    }
}

/// Text from scanned content or the network made safe for a terminal: control characters
/// (C0, DEL, C1) are shown escaped (`\x1b`, `\r`, `\n`, `\t`), so a file name or a token claim
/// cannot move the cursor, hide text or forge a line of the report.
pub fn escape_control(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, false)
}

/// Like [`escape_control`], but line breaks stay (for keysweep's own multi-line error messages,
/// which may quote untrusted names).
pub fn escape_control_but_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The secret text to show for a finding.
pub fn shown_secret<'f>(finding: &'f Finding, options: &RenderOptions) -> &'f str {
    if options.show_secrets && !finding.raw_secret.is_empty() {
        &finding.raw_secret
    } else {
        &finding.secret
    }
}
