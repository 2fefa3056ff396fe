//! `keysweep scan` and `keysweep baseline`: directories and files.

use std::path::Path;

use anyhow::{Context as _, bail};

use super::pipeline::Pipeline;
use super::{Outcome, Run};
use crate::collect::Collected;
use crate::config::{Config, WalkJob};
use crate::report::Reports;
use crate::suppress::{self, Baseline};

/// Run `keysweep scan`.
pub fn scan(config: &Config, walk: &WalkJob) -> anyhow::Result<Outcome> {
    let run = Run::start(config)?;
    let collected = walk_into(&run, config, walk, Reports::open(&config.outputs)?)?;
    run.conclude(collected, "full")
}

/// Run `keysweep baseline`: scan and write the fingerprints of everything found (never
/// secrets).
pub fn baseline(config: &Config, walk: &WalkJob, output: &Path) -> anyhow::Result<Outcome> {
    let run = Run::start(config)?;
    let collected = walk_into(&run, config, walk, Reports::open(&[])?)?;
    let findings = suppress::apply(collected.findings, run.suppression());
    let baseline = Baseline::from_findings(&findings);
    let text = serde_json::to_string_pretty(&baseline)?;
    std::fs::write(output, text + "\n")
        .with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!(
        "keysweep: baseline of {} finding(s) written to {}",
        findings.len(),
        output.display()
    );
    Ok(Outcome::Clean)
}

/// Walk the paths in parallel, scanning in the walker threads.
fn walk_into(
    run: &Run,
    config: &Config,
    walk: &WalkJob,
    reports: Reports,
) -> anyhow::Result<Collected> {
    for path in &walk.paths {
        if std::fs::symlink_metadata(path).is_err() {
            bail!("{}: no such file or directory", path.display());
        }
    }
    let collector = run.collector(reports);
    let pipeline = Pipeline::new(&run.rules, &collector, config.max_file_size);
    crate::source::fs::walk(&walk.paths, &walk.fs, || pipeline.worker());
    drop(pipeline);
    collector.finish()
}
