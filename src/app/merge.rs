//! `keysweep merge FILE...`: per-shard JSON Lines reports into one report.
//!
//! Findings are de-duplicated by fingerprint across shards (the same key in forty repositories
//! is one finding with forty repositories' locations); skipped inputs are listed once; counts
//! add up. Verification runs once on the merged set: key sets are fetched once, and the HMAC
//! secrets of one repository are tried against the tokens of another when the shards sealed
//! them (`KEYSWEEP_SHARD_KEY`). Every shard of the list must be there and complete: a missing,
//! cut or interrupted shard is named, the report is still written with what there is, and the
//! exit code is 2.

use std::collections::{BTreeMap, HashMap};

use anyhow::bail;

use super::{Ending, Outcome, Run};
use crate::collect::Collected;
use crate::config::{Config, MergeJob};
use crate::finding::{Finding, Severity, Skipped, Stats, Status, kind};
use crate::report::escape_control;
use crate::report::read::{self, ReportFile};
use crate::report::{RepoOutcome, Reports, count_by_status};
use crate::seal::SealKey;

/// Run `keysweep merge`.
pub fn merge(config: &Config, job: &MergeJob) -> anyhow::Result<Outcome> {
    let run = Run::start(config)?;
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for path in &job.files {
        match read::read_file(path) {
            Ok(file) => files.push(file),
            Err(error) => problems.push(format!("{}: cannot be read: {error}", path.display())),
        }
    }
    problems.extend(check_shards(&files));
    let (mut findings, unopened) = merge_findings(&files, job.seal.as_ref(), &run);
    if unopened > 0 {
        eprintln!(
            "keysweep: {unopened} secret(s) and token(s) are not verified across shards: {}",
            if job.seal.is_some() {
                "their sealed values do not open with this KEYSWEEP_SHARD_KEY"
            } else {
                "set KEYSWEEP_SHARD_KEY for the shards and the merge to seal them"
            }
        );
    }
    verify_merged(&run, &mut findings);
    say_what_was_merged(&files);
    let collected = Collected {
        findings: in_location_order(findings),
        skipped: merged_skips(&files),
        stats: merged_stats(&files),
        reports: Reports::open(&config.outputs)?,
        binary: Vec::new(),
    };
    let ending = Ending {
        verified: true,
        ..Ending::default()
    };
    let outcome = run.conclude_with(collected, "repos", ending)?;
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("keysweep: {}", escape_control(problem));
        }
        bail!(
            "{} problem(s) with the shards: the report holds what the others found",
            problems.len()
        );
    }
    Ok(outcome)
}

/// Shards are grouped by list and shard count; every shard 1..N of each group must be there
/// with a complete file. Files without a header (plain `--format jsonl` reports) only need to
/// be complete.
fn check_shards(files: &[ReportFile]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut groups: BTreeMap<(String, u32), Vec<&ReportFile>> = BTreeMap::new();
    for file in files {
        match &file.header {
            Some(header) => groups
                .entry((header.list.digest.clone(), header.shard.count))
                .or_default()
                .push(file),
            None if !file.is_complete() => problems.push(format!(
                "{} incomplete, and which shard it is cannot be told (no header): {}",
                file.path.display(),
                file.problems.join("; ")
            )),
            None => {}
        }
    }
    if groups.len() > 1 {
        problems.push(format!(
            "the files come from {} different lists or shard counts ({})",
            groups.len(),
            groups
                .keys()
                .map(|(digest, count)| format!("{} in {count}", short(digest)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for ((digest, count), group) in &groups {
        problems.extend(check_group(digest, *count, group));
    }
    problems
}

/// The shards of one list: each present, one complete file each, all repositories covered.
fn check_group(digest: &str, count: u32, group: &[&ReportFile]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut covered = 0usize;
    let mut listed = 0usize;
    for index in 1..=count {
        let files: Vec<&&ReportFile> = group
            .iter()
            .filter(|f| f.header.as_ref().is_some_and(|h| h.shard.index == index))
            .collect();
        let name = format!("shard {index}/{count} of list {}", short(digest));
        match files.iter().find(|f| f.is_complete()) {
            Some(file) => {
                let header = file.header.as_ref().expect("grouped by header");
                covered += header.repositories.len();
                listed = header.list.repositories;
                if files.len() > 1 {
                    eprintln!(
                        "keysweep: warning: {name} is given {} times; {} is complete",
                        files.len(),
                        file.path.display()
                    );
                }
            }
            None if files.is_empty() => problems.push(format!("{name} missing")),
            None => {
                for file in files {
                    problems.push(format!(
                        "{name} ({}) incomplete: {}",
                        file.path.display(),
                        file.problems.join("; ")
                    ));
                }
            }
        }
    }
    if problems.is_empty() && covered != listed {
        problems.push(format!(
            "the shards of list {} name {covered} repositories, the list has {listed}",
            short(digest)
        ));
    }
    problems
}

/// A digest shortened for messages (`sha256:1a2b3c4d5e6f`).
fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// One finding per fingerprint with the locations of every file; the verification proven in
/// any shard; sealed values opened. Returns the findings and how many sealed or needed raw
/// values could not be opened.
fn merge_findings(
    files: &[ReportFile],
    seal: Option<&SealKey>,
    run: &Run,
) -> (Vec<Finding>, usize) {
    let mut merged: Vec<Finding> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for file in files {
        for read in &file.findings {
            let mut finding = read.finding.clone();
            if let (Some(key), Some(sealed)) = (seal, &read.sealed)
                && let Ok(raw) = key.open(&finding.fingerprint, sealed)
            {
                finding.raw_secret = raw;
            }
            match index.get(&finding.fingerprint) {
                None => {
                    // Reports carry the rated severity; verification starts from the kind's.
                    finding.severity = run
                        .rules
                        .kind(&finding.rule)
                        .map_or(Severity::High, |k| k.severity);
                    index.insert(finding.fingerprint.clone(), merged.len());
                    merged.push(finding);
                }
                Some(&at) => {
                    let into = &mut merged[at];
                    into.locations.extend(finding.locations);
                    if finding.verification.status > into.verification.status {
                        into.verification = finding.verification;
                    }
                    if into.raw_secret.is_empty() {
                        into.raw_secret = finding.raw_secret;
                    }
                }
            }
        }
    }
    for finding in &mut merged {
        finding.locations.sort();
        finding.locations.dedup();
    }
    let unopened = merged.iter().filter(|f| lacks_material(f)).count();
    (merged, unopened)
}

/// A secret or token whose raw value the merge does not have (no seal, or not opened).
fn lacks_material(finding: &Finding) -> bool {
    (finding.rule == kind::HMAC_SECRET || finding.rule == kind::JWT)
        && finding.raw_secret.is_empty()
}

/// Verify the merged findings once: those the merge can check (private keys by their public
/// half, secrets and tokens it has the raw values of) go through the whole pass; a verdict a
/// shard proved stays unless this pass proves more, and a shard's unproven verdict stays when
/// the merge has no key sets of its own.
fn verify_merged(run: &Run, findings: &mut Vec<Finding>) {
    let (mut checkable, unchecked): (Vec<Finding>, Vec<Finding>) = std::mem::take(findings)
        .into_iter()
        .partition(|f| !lacks_material(f));
    let earlier: HashMap<String, crate::finding::Verification> = checkable
        .iter()
        .map(|f| (f.fingerprint.clone(), f.verification.clone()))
        .collect();
    let own_key_sets = run.verifier().has_key_sets();
    run.verifier().finish(&mut checkable);
    for finding in &mut checkable {
        if let Some(before) = earlier.get(&finding.fingerprint)
            && before.status > finding.verification.status
            && (before.status.is_proven() || !own_key_sets)
        {
            finding.verification = before.clone();
        }
    }
    findings.extend(checkable);
    findings.extend(unchecked);
    for finding in findings.iter_mut() {
        settle_severity(finding);
    }
}

/// The severity a verdict carried over from a shard implies (what the verifier sets when it
/// reaches the verdict itself).
fn settle_severity(finding: &mut Finding) {
    finding.severity = match finding.verification.status {
        Status::Live | Status::SignsToken => Severity::Critical,
        Status::KnownExample => Severity::Low,
        Status::WeakSecret => finding.severity.max(Severity::High),
        _ => finding.severity,
    };
}

/// By first location, then kind and fingerprint: the order a single run reports in.
fn in_location_order(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| {
        let first = |f: &Finding| {
            f.locations
                .first()
                .map(|l| (l.path.clone(), l.line))
                .unwrap_or_default()
        };
        (first(a), &a.rule, &a.fingerprint).cmp(&(first(b), &b.rule, &b.fingerprint))
    });
    findings
}

/// Every file's skipped inputs, each once.
fn merged_skips(files: &[ReportFile]) -> Vec<Skipped> {
    let mut skipped: Vec<Skipped> = files
        .iter()
        .filter_map(|f| f.summary.as_ref())
        .flat_map(|s| s.skipped.iter().cloned())
        .collect();
    skipped.sort();
    skipped.dedup();
    skipped
}

/// The files' counters added up (findings and locations are counted again at the end).
fn merged_stats(files: &[ReportFile]) -> Stats {
    let mut total = Stats::default();
    for stats in files
        .iter()
        .filter_map(|f| f.summary.as_ref())
        .map(|s| &s.stats)
    {
        total.add(stats);
    }
    total
}

/// One line on stderr: how many files and repositories went into the report.
fn say_what_was_merged(files: &[ReportFile]) {
    let outcomes: Vec<&RepoOutcome> = files
        .iter()
        .filter_map(|f| f.summary.as_ref()?.shard.as_ref())
        .flat_map(|s| &s.repositories)
        .collect();
    let counts = count_by_status(outcomes.iter().copied());
    eprintln!(
        "keysweep: merged {} file(s){}",
        files.len(),
        if counts.is_empty() {
            String::new()
        } else {
            format!(": repositories {counts}")
        }
    );
}
