//! The collector: groups located candidates into findings as they arrive (one finding per kind
//! and key or secret), verifies each new finding as far as it can be verified at once, applies
//! suppression, and hands it to the report sinks. Scan workers on any thread feed it; it holds
//! the run's findings, skipped inputs and counters until the run ends.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::finding::{Finding, Severity, Skipped, Stats, fingerprint};
use crate::report::Reports;
use crate::rules::RuleSet;
use crate::source::Located;
use crate::suppress::Suppression;
use crate::verify::Verifier;

/// What the run collected, grouped but not yet finally verified or suppressed.
pub struct Collected {
    /// One finding per (kind, identity); locations sorted and de-duplicated; findings in order
    /// of their first location.
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub stats: Stats,
    pub reports: Reports,
    /// Binary inputs that were not scanned (only with `--verbose`), sorted.
    pub binary: Vec<String>,
}

/// Findings grouped as they arrive, streamed to the reports when first seen.
pub struct Collector<'r> {
    rules: &'r RuleSet,
    verifier: &'r Verifier,
    suppression: &'r Suppression,
    /// Keep the names of binary inputs (`--verbose`).
    list_binary: bool,
    /// Counts findings as they are first seen (a progress display).
    found: Option<&'r std::sync::atomic::AtomicU64>,
    state: Mutex<State>,
}

struct State {
    /// Binary inputs, when listed.
    binary: Vec<String>,
    index: HashMap<(String, Vec<u8>), usize>,
    findings: Vec<Finding>,
    /// Whether each finding has been handed to the reports.
    streamed: Vec<bool>,
    skipped: Vec<Skipped>,
    stats: Stats,
    reports: Reports,
    /// The first error writing a report (the scan goes on; the run fails at the end).
    write_error: Option<anyhow::Error>,
}

impl<'r> Collector<'r> {
    pub fn new(
        rules: &'r RuleSet,
        verifier: &'r Verifier,
        suppression: &'r Suppression,
        reports: Reports,
        list_binary: bool,
    ) -> Collector<'r> {
        Collector {
            rules,
            verifier,
            suppression,
            list_binary,
            found: None,
            state: Mutex::new(State {
                binary: Vec::new(),
                index: HashMap::new(),
                findings: Vec::new(),
                streamed: Vec::new(),
                skipped: Vec::new(),
                stats: Stats::default(),
                reports,
                write_error: None,
            }),
        }
    }

    /// Count each new finding into `found` (for a progress display).
    pub fn counting_into(mut self, found: &'r std::sync::atomic::AtomicU64) -> Self {
        self.found = Some(found);
        self
    }

    /// Change the findings collected so far in place (a sweep fills in authors and dates of
    /// one repository's history locations before it moves to the next).
    pub fn update_findings(&self, update: impl FnOnce(&mut [Finding])) {
        update(&mut self.lock().findings);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panicking worker must not lose the others' results.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Add candidates placed in one blob.
    pub fn add(&self, located: Vec<Located>) {
        let mut state = self.lock();
        for Located {
            candidate,
            mut location,
        } in located
        {
            let key = (candidate.kind, candidate.identity);
            let index = match state.index.get(&key) {
                Some(&index) => index,
                None => {
                    let kind = self.rules.kind(&key.0);
                    let finding = Finding {
                        rule: key.0.clone(),
                        title: kind.map_or_else(|| key.0.clone(), |k| k.title.clone()),
                        severity: kind.map_or(Severity::High, |k| k.severity),
                        fingerprint: fingerprint(&key.0, &key.1),
                        secret: candidate.preview,
                        raw_secret: candidate.secret,
                        key: candidate.key,
                        jwt: candidate.jwt,
                        verification: Default::default(),
                        locations: Vec::new(),
                    };
                    let index = state.findings.len();
                    state.findings.push(finding);
                    state.streamed.push(false);
                    state.index.insert(key, index);
                    if let Some(found) = self.found {
                        found.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    index
                }
            };
            location.allowed = self.suppression.location_allowed(&location);
            let allowed = location.allowed;
            state.findings[index].locations.push(location);
            if !allowed && !state.streamed[index] {
                self.stream(&mut state, index);
            }
        }
    }

    /// Hand a finding to the reports the first time one of its locations is not suppressed.
    fn stream(&self, state: &mut State, index: usize) {
        let finding = &state.findings[index];
        if self.suppression.drops(finding) {
            return;
        }
        let mut shown = finding.clone();
        shown.locations.retain(|l| !l.allowed);
        self.verifier.at_sight(&mut shown);
        state.streamed[index] = true;
        if let Err(error) = state.reports.finding(&shown)
            && state.write_error.is_none()
        {
            state.write_error = Some(error);
        }
    }

    /// Record something that could not be scanned. `counted` says whether it counts as a
    /// skipped file (a note about the source as a whole does not).
    pub fn skip(&self, skipped: Skipped, counted: bool) {
        let mut state = self.lock();
        if counted {
            state.stats.files_skipped += 1;
        }
        state.skipped.push(skipped);
    }

    /// Note an input that was not scanned because it is binary (kept only for `--verbose`).
    pub fn binary(&self, path: String) {
        if self.list_binary {
            self.lock().binary.push(path);
        }
    }

    /// Add a worker's counters.
    pub fn add_stats(&self, stats: &Stats) {
        self.lock().stats.add(stats);
    }

    /// End the collection: findings grouped and ordered, skipped inputs sorted.
    pub fn finish(self) -> anyhow::Result<Collected> {
        let state = self
            .state
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(error) = state.write_error {
            return Err(error);
        }
        let mut identities: Vec<Vec<u8>> = vec![Vec::new(); state.findings.len()];
        for ((_, identity), index) in state.index {
            identities[index] = identity;
        }
        let mut findings: Vec<(Finding, Vec<u8>)> =
            state.findings.into_iter().zip(identities).collect();
        for (finding, _) in &mut findings {
            finding.locations.sort();
            finding.locations.dedup_by(|a, b| {
                let same = a.path == b.path
                    && a.line == b.line
                    && a.column == b.column
                    && a.commit == b.commit;
                // Two rules found the same place; keep the use a traced one found.
                if same && b.related.is_none() {
                    b.related = a.related.take();
                }
                same
            });
        }
        // By first location, then kind and identity: the same order whatever thread found what.
        findings.sort_by(|(a, a_identity), (b, b_identity)| {
            (
                &a.locations[0].path,
                a.locations[0].line,
                &a.rule,
                a_identity,
            )
                .cmp(&(
                    &b.locations[0].path,
                    b.locations[0].line,
                    &b.rule,
                    b_identity,
                ))
        });
        let findings = findings.into_iter().map(|(finding, _)| finding).collect();
        let mut skipped = state.skipped;
        skipped.sort();
        Ok(Collected {
            findings,
            skipped,
            stats: state.stats,
            reports: state.reports,
            binary: {
                let mut binary = state.binary;
                binary.sort();
                binary
            },
        })
    }
}
