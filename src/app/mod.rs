//! Orchestrating a run, one module per job. The only place that starts threads (through the
//! walker, the git reader's pool, or rayon).
//!
//! Every scanning job has the same shape: [`Run::start`] loads the rules, fetches the key sets
//! and opens the reports before anything is read; sources push blobs into per-thread
//! [`pipeline::ScanWorker`]s; the [`Collector`] groups findings and streams them to the reports;
//! [`Run::conclude`] verifies, suppresses, orders and finishes the reports.

mod files;
pub mod history;
mod hook;
mod merge;
pub mod pipeline;
mod progress;
mod repos;
mod rules;
pub mod selfcheck;
mod staged;
mod sweep;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;

use crate::collect::{Collected, Collector};
use crate::config::{Config, FailOn, Job};
use crate::finding::{Finding, Skipped, Stats};
use crate::report::{Format, Reports, RunInfo, ScanReport, ShardReport, escape_control};
use crate::rules::RuleSet;
use crate::suppress::{self, Suppression};
use crate::verify::Verifier;

/// How a run ended, for the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing found (exit 0).
    Clean,
    /// Findings, or a failed check (exit 1).
    Found,
}

impl Outcome {
    fn from_found(found: bool) -> Outcome {
        if found {
            Outcome::Found
        } else {
            Outcome::Clean
        }
    }
}

/// Run the configured job. An error means the run could not do what it was asked (exit 2).
pub fn run(config: &Config) -> anyhow::Result<Outcome> {
    match &config.job {
        Job::Scan(walk) => files::scan(config, walk),
        Job::Baseline { walk, output } => files::baseline(config, walk, output),
        Job::Git(job) => history::git(config, job),
        Job::Staged(job) => staged::staged(config, job),
        Job::Sweep(job) => sweep::sweep(config, job),
        Job::Repos(job) => repos::repos(config, job),
        Job::Merge(job) => merge::merge(config, job),
        Job::JwksAudit(job) => {
            crate::verify::audit::run(&job.source, &job.pins, &config.outputs, &config.verify)
                .map(Outcome::from_found)
        }
        Job::Rules(job) => rules::run(config, *job),
        Job::Hook(job) => hook::run(config, job),
        Job::InstallHook(job) => hook::install(job),
        Job::UninstallHook(job) => hook::uninstall(job),
    }
}

/// Load the built-in rules and the user's rule files.
pub fn load_rules(files: &[PathBuf]) -> anyhow::Result<RuleSet> {
    let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    RuleSet::load(&paths).context("cannot load rules")
}

/// What a job adds to the end of its report, beyond the findings.
#[derive(Default)]
pub struct Ending {
    /// The evidence record (sweeps, repository lists).
    pub run: Option<RunInfo>,
    /// The shard and each repository's outcome (repository lists).
    pub shard: Option<ShardReport>,
    /// The findings are verified already (a merge verifies only what it can).
    pub verified: bool,
}

/// What every scanning job sets up before reading anything.
pub struct Run {
    pub rules: RuleSet,
    verifier: Verifier,
    suppression: Suppression,
    /// `--fail-on`: the findings that make the run fail (all when unset).
    fail_on: Option<FailOn>,
    started: Instant,
    /// Whether warnings also go to stderr (not when a human report on the terminal lists them).
    warn_on_stderr: bool,
    /// `--strict`: any skip fails the run.
    strict: bool,
    /// `--verbose`: list binary inputs.
    verbose: bool,
}

impl Run {
    /// Load rules and the suppression lists, fetch the configured key sets, read the given tokens.
    pub fn start(config: &Config) -> anyhow::Result<Run> {
        let started = Instant::now();
        let rules = load_rules(&config.rule_files)?;
        let suppression = Suppression::load(&config.suppress)?;
        let verifier = Verifier::new(&config.verify)?;
        let warn_on_stderr = !config
            .outputs
            .iter()
            .any(|o| o.path.is_none() && o.render.format == Format::Human);
        let run = Run {
            rules,
            verifier,
            suppression,
            fail_on: config.fail_on,
            started,
            warn_on_stderr,
            strict: config.strict,
            verbose: config.verbose,
        };
        for warning in &run.verifier.warnings {
            eprintln!("keysweep: warning: {}", escape_control(warning));
        }
        Ok(run)
    }

    /// A collector streaming into `reports`.
    pub fn collector(&self, reports: Reports) -> Collector<'_> {
        Collector::new(
            &self.rules,
            &self.verifier,
            &self.suppression,
            reports,
            self.verbose,
        )
    }

    /// The common end of every scanning job: verify, order, suppress, count, warn, finish the
    /// reports. Returns whether any finding is left.
    pub fn conclude(&self, collected: Collected, mode: &'static str) -> anyhow::Result<Outcome> {
        self.conclude_with(collected, mode, Ending::default())
    }

    /// [`Run::conclude`] with the evidence record of a sweep; an interrupted sweep fails (exit
    /// 2) once its reports are complete.
    pub fn conclude_run(
        &self,
        collected: Collected,
        mode: &'static str,
        run: Option<RunInfo>,
    ) -> anyhow::Result<Outcome> {
        self.conclude_with(
            collected,
            mode,
            Ending {
                run,
                ..Ending::default()
            },
        )
    }

    /// [`Run::conclude`] with what the job adds to the report's end.
    pub fn conclude_with(
        &self,
        collected: Collected,
        mode: &'static str,
        ending: Ending,
    ) -> anyhow::Result<Outcome> {
        let Collected {
            mut findings,
            skipped,
            mut stats,
            mut reports,
            binary,
        } = collected;
        for path in &binary {
            eprintln!("keysweep: binary, not scanned: {}", escape_control(path));
        }
        if !ending.verified {
            self.verifier.finish(&mut findings);
        }
        sort_by_urgency(&mut findings);
        let findings = suppress::apply(findings, &self.suppression);
        stats.elapsed_ms = self.started.elapsed().as_millis() as u64;
        stats.findings = findings.len() as u64;
        stats.locations = findings.iter().map(|f| f.locations.len() as u64).sum();
        if self.warn_on_stderr {
            warn_skipped(&skipped);
        }
        say_if_nothing_scanned(&stats, &skipped, mode);
        let report = ScanReport {
            findings,
            skipped,
            stats,
            rules: &self.rules,
            mode,
            run: ending.run,
            shard: ending.shard,
        };
        reports.finish(&report)?;
        if !report.completed() {
            anyhow::bail!(
                "interrupted: the reports hold what was found before the signal ({} finding(s))",
                report.findings.len()
            );
        }
        if self.strict && !report.skipped.is_empty() {
            anyhow::bail!(
                "{} input(s) could not be scanned (--strict): {}",
                report.skipped.len(),
                escape_control(&report.skipped[0].path)
            );
        }
        Ok(self.gate(&report.findings))
    }

    /// The verification of this run.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The suppression rules of this run.
    pub fn suppression(&self) -> &Suppression {
        &self.suppression
    }

    /// `Found` when a finding reaches the `--fail-on` threshold (any finding without one); the
    /// findings below it are reported all the same, and counted here on stderr.
    fn gate(&self, findings: &[Finding]) -> Outcome {
        let Some(threshold) = self.fail_on else {
            return Outcome::from_found(!findings.is_empty());
        };
        let failing = findings.iter().filter(|f| threshold.fails(f)).count();
        let below = findings.len() - failing;
        if below > 0 {
            eprintln!(
                "keysweep: {below} finding(s) below the {threshold} threshold (--fail-on, --min-severity): they do not fail the run"
            );
        }
        Outcome::from_found(failing > 0)
    }
}

/// One line on stderr when a run had nothing at all to read (no staged change, an empty range
/// or tree), so a clean exit is not mistaken for a scan.
fn say_if_nothing_scanned(stats: &Stats, skipped: &[Skipped], mode: &str) {
    let read = stats.files_scanned + stats.files_binary + stats.blobs_deduplicated;
    if read > 0 || !skipped.is_empty() {
        return;
    }
    let what = match mode {
        "staged" => "no staged changes",
        "diff" => "the range adds no files",
        "history" => "the history holds no files",
        _ => "no files",
    };
    eprintln!("keysweep: nothing to scan: {what}");
}

/// At most this many skipped inputs are printed as warnings; the reports list them all.
const MAX_SKIP_WARNINGS: usize = 50;

/// The one place skipped inputs are printed as warnings.
fn warn_skipped(skipped: &[Skipped]) {
    for skipped in skipped.iter().take(MAX_SKIP_WARNINGS) {
        eprintln!(
            "keysweep: warning: skipped {}: {}",
            escape_control(&skipped.path),
            escape_control(&skipped.reason)
        );
    }
    if skipped.len() > MAX_SKIP_WARNINGS {
        eprintln!(
            "keysweep: warning: {} more skipped input(s), listed in the report",
            skipped.len() - MAX_SKIP_WARNINGS
        );
    }
}

/// Proven-live secrets first, then by severity, then by first location (stable and
/// deterministic: the collector already ordered findings by location).
fn sort_by_urgency(findings: &mut [Finding]) {
    findings.sort_by_key(|f| {
        (
            std::cmp::Reverse(f.verification.status.is_proven()),
            std::cmp::Reverse(f.severity),
        )
    });
}
