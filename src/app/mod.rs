//! Orchestrating a run: sources → scanner → findings → verification → suppression → report.
//! The only place that starts threads (through the walker, or `history` for git).

pub mod history;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context as _, bail};

use crate::config::{Config, RunSettings};
use crate::finding::{Finding, Skipped, Stats, fingerprint};
use crate::report::{self, ScanReport};
use crate::rules::RuleSet;
use crate::scan::{BlobKind, Scanner};
use crate::source::fs::{FileHandler, FsEvent, FsOptions};
use crate::source::{Located, Origin, locate};
use crate::suppress::{self, Baseline};

/// What a scan produced, before suppression and rendering.
#[derive(Default)]
pub struct ScanOutcome {
    pub located: Vec<Located>,
    pub skipped: Vec<Skipped>,
    pub stats: Stats,
}

impl ScanOutcome {
    /// Add another worker's results to these.
    pub fn merge(&mut self, other: ScanOutcome) {
        self.located.extend(other.located);
        self.skipped.extend(other.skipped);
        let (total, add) = (&mut self.stats, other.stats);
        total.files_scanned += add.files_scanned;
        total.bytes_scanned += add.bytes_scanned;
        total.files_binary += add.files_binary;
        total.files_skipped += add.files_skipped;
    }

    /// Add a worker's results to the run's shared outcome (a poisoned lock is still merged into:
    /// a panicking worker must not lose the others' results).
    pub fn merge_into(self, shared: &Mutex<ScanOutcome>) {
        let mut shared = shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        shared.merge(self);
    }
}

/// Load the built-in rules and the user's rule files.
pub fn load_rules(files: &[PathBuf]) -> anyhow::Result<RuleSet> {
    let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    RuleSet::load(&paths).context("cannot load rules")
}

/// Run `keysweep scan`; returns whether anything was found.
pub fn scan(config: &Config) -> anyhow::Result<bool> {
    let rules = load_rules(&config.run.rule_files)?;
    let started = Instant::now();
    let outcome = scan_paths(&rules, &config.paths, &config.fs)?;
    finish(outcome, &rules, &config.run, "full", started)
}

/// The common end of every scanning command: group, verify, suppress, count, render.
/// Returns whether any finding is left.
pub fn finish(
    outcome: ScanOutcome,
    rules: &RuleSet,
    settings: &RunSettings,
    mode: &'static str,
    started: Instant,
) -> anyhow::Result<bool> {
    let baseline = settings
        .baseline
        .as_deref()
        .map(Baseline::read)
        .transpose()?;
    let mut findings = group(outcome.located, rules);
    crate::verify::verify(&mut findings, &settings.verify);
    sort_by_urgency(&mut findings);
    let findings = suppress::apply(findings, baseline.as_ref());
    let mut stats = outcome.stats;
    stats.elapsed_ms = started.elapsed().as_millis() as u64;
    stats.findings = findings.len() as u64;
    stats.locations = findings.iter().map(|f| f.locations.len() as u64).sum();
    let found = !findings.is_empty();
    let mut skipped = outcome.skipped;
    skipped.sort();
    let report = ScanReport {
        findings,
        skipped,
        stats,
        rules,
        mode,
    };
    for skipped in &report.skipped {
        eprintln!(
            "keysweep: warning: skipped {}: {}",
            skipped.path, skipped.reason
        );
    }
    emit(&report, settings)?;
    Ok(found)
}

/// Proven-live secrets first, then by severity, then by first location (stable and
/// deterministic: grouping already ordered findings by location).
fn sort_by_urgency(findings: &mut [Finding]) {
    let proven = |f: &Finding| matches!(f.verification.status.as_str(), "live" | "signs-token");
    findings.sort_by_key(|f| (std::cmp::Reverse(proven(f)), std::cmp::Reverse(f.severity)));
}

/// Run `keysweep baseline`: scan and write the fingerprints of everything found.
pub fn write_baseline(config: &Config, output: &std::path::Path) -> anyhow::Result<usize> {
    let rules = load_rules(&config.run.rule_files)?;
    let outcome = scan_paths(&rules, &config.paths, &config.fs)?;
    let findings = suppress::apply(group(outcome.located, &rules), None);
    let baseline = Baseline::from_findings(&findings);
    let text = serde_json::to_string_pretty(&baseline)?;
    std::fs::write(output, text + "\n")
        .with_context(|| format!("cannot write {}", output.display()))?;
    Ok(findings.len())
}

/// Write a report where the settings say.
pub fn emit(report: &ScanReport<'_>, settings: &RunSettings) -> anyhow::Result<()> {
    let result = match &settings.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            report::write(report, &settings.render, &mut writer).and_then(|()| writer.flush())
        }
        None => {
            let stdout = std::io::stdout();
            let mut writer = std::io::BufWriter::new(stdout.lock());
            report::write(report, &settings.render, &mut writer).and_then(|()| writer.flush())
        }
    };
    match result {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the report"),
    }
}

/// Walk and scan paths in parallel.
pub fn scan_paths(
    rules: &RuleSet,
    paths: &[PathBuf],
    options: &FsOptions,
) -> anyhow::Result<ScanOutcome> {
    for path in paths {
        if std::fs::symlink_metadata(path).is_err() {
            bail!("{}: no such file or directory", path.display());
        }
    }
    let shared = Mutex::new(ScanOutcome::default());
    crate::source::fs::walk(paths, options, || FileScanner {
        scanner: Scanner::new(rules),
        outcome: ScanOutcome::default(),
        shared: &shared,
        candidates: Vec::new(),
    });
    let mut outcome = shared
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    outcome.skipped.sort();
    Ok(outcome)
}

/// A walker thread's scanner and results; merged into the shared outcome when dropped.
struct FileScanner<'a> {
    scanner: Scanner<'a>,
    outcome: ScanOutcome,
    shared: &'a Mutex<ScanOutcome>,
    candidates: Vec<crate::finding::Candidate>,
}

impl FileHandler for FileScanner<'_> {
    fn handle(&mut self, event: FsEvent<'_>) {
        match event {
            FsEvent::File { path, bytes } => {
                self.candidates.clear();
                if self.scanner.scan_blob(bytes, path, &mut self.candidates) == BlobKind::Binary {
                    self.outcome.stats.files_binary += 1;
                    return;
                }
                self.outcome.stats.files_scanned += 1;
                self.outcome.stats.bytes_scanned += bytes.len() as u64;
                if !self.candidates.is_empty() {
                    let origin = Origin {
                        source: "file",
                        path: path.to_string(),
                        blob: git_blob_id(bytes),
                        ..Origin::default()
                    };
                    let candidates = std::mem::take(&mut self.candidates);
                    locate(bytes, candidates, &origin, &mut self.outcome.located);
                }
            }
            FsEvent::Skipped(skipped) => {
                self.outcome.stats.files_skipped += 1;
                self.outcome.skipped.push(skipped);
            }
        }
    }
}

/// Git's blob id for file content, so files and history findings can be matched. Computed only
/// for files with findings (hashing every file would cost throughput).
fn git_blob_id(bytes: &[u8]) -> Option<String> {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes)
        .ok()
        .map(|id| id.to_string())
}

impl Drop for FileScanner<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.outcome).merge_into(self.shared);
    }
}

/// Group located candidates into findings: one per (kind, identity), locations sorted and
/// de-duplicated, findings ordered by their first location.
pub fn group(located: Vec<Located>, rules: &RuleSet) -> Vec<Finding> {
    let mut groups: BTreeMap<(String, Vec<u8>), Finding> = BTreeMap::new();
    for Located {
        candidate,
        location,
    } in located
    {
        let key = (candidate.kind.clone(), candidate.identity.clone());
        let finding = groups.entry(key).or_insert_with(|| {
            let kind = rules.kind(&candidate.kind);
            Finding {
                rule: candidate.kind.clone(),
                title: kind.map_or_else(|| candidate.kind.clone(), |k| k.title.clone()),
                severity: kind.map_or(crate::finding::Severity::High, |k| k.severity),
                fingerprint: fingerprint(&candidate.kind, &candidate.identity),
                secret: candidate.preview.clone(),
                raw_secret: candidate.secret.clone(),
                key: candidate.key.clone(),
                jwt: candidate.jwt.clone(),
                verification: Default::default(),
                locations: Vec::new(),
            }
        });
        finding.locations.push(location);
    }
    let mut findings: Vec<Finding> = groups
        .into_values()
        .map(|mut finding| {
            finding.locations.sort();
            finding.locations.dedup_by(|a, b| {
                a.path == b.path && a.line == b.line && a.column == b.column && a.commit == b.commit
            });
            finding
        })
        .collect();
    findings.sort_by(|a, b| {
        (&a.locations[0].path, a.locations[0].line, &a.rule).cmp(&(
            &b.locations[0].path,
            b.locations[0].line,
            &b.rule,
        ))
    });
    findings
}
