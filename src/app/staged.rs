//! `keysweep staged`: what will be committed.

use super::pipeline::Pipeline;
use super::{Outcome, Run};
use crate::config::{Config, StagedJob};
use crate::report::Reports;
use crate::source::{git, staged as staged_source};

/// Run `keysweep staged`: the index entries that differ from HEAD, each judged by the lines
/// the commit adds.
pub fn staged(config: &Config, job: &StagedJob) -> anyhow::Result<Outcome> {
    let run = Run::start(config)?;
    let repo = git::open(&job.repo, &git::GitTuning::default())?;
    let collector = run.collector(Reports::open(&config.outputs)?);
    let pipeline = Pipeline::new(&run.rules, &collector, config.max_file_size);
    let notes = {
        let mut worker = pipeline.worker();
        staged_source::scan_into(&repo, job.index_file.as_deref(), &mut worker)?
    };
    for note in notes {
        collector.skip(note, false);
    }
    drop(pipeline);
    run.conclude(collector.finish()?, "staged")
}
