//! `keysweep sweep`: a forensic sweep of home directories or mounted images.
//!
//! The roots are walked with no ignore rules (hidden files included, links listed and not
//! followed, one filesystem, access times untouched; see [`crate::source::fs::Forensic`]);
//! every git repository met is then scanned with the full-history source, unreachable objects
//! included, once per object store. All of it feeds one pipeline, so a key in forty clones is
//! one finding with forty locations. A signal stops the sweep: the reports are completed with
//! what was found and marked interrupted.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use anyhow::{Context as _, bail};

use super::history::{Timing, scan_repository};
use super::pipeline::Pipeline;
use super::progress::{Counters, Progress};
use super::{Outcome, Run};
use crate::config::{Config, GitJob, SweepJob};
use crate::finding::Skipped;
use crate::report::{Reports, RunInfo};
use crate::source::archive;
use crate::source::fs::{self, Forensic, escape_path};
use crate::source::git::{self, Selection};

/// Run `keysweep sweep`.
pub fn sweep(config: &Config, job: &SweepJob) -> anyhow::Result<Outcome> {
    let started = SystemTime::now();
    // One signal mechanism for the whole process: gix's handler sets the flag that the walk,
    // the pack traversal and the repository loop check. A second signal ends the process.
    let _signals = gix::interrupt::init_handler_default(1)
        .context("cannot install the signal handler")?
        .auto_deregister();
    for root in &job.roots {
        if std::fs::symlink_metadata(root).is_err() {
            bail!("{}: no such file or directory", escape_path(root));
        }
    }
    let run = Run::start(config)?;
    let mut progress = Progress::new(job.progress);
    let counters = progress.counters();
    let collector = run
        .collector(Reports::open(&config.outputs)?)
        .counting_into(&counters.findings);
    {
        let mut pipeline =
            Pipeline::new(&run.rules, &collector, config.max_file_size).with_counters(&counters);
        if let Some(depth) = job.archive_depth {
            pipeline = pipeline.with_archives(archive_limits(depth, config.max_file_size));
        }
        let repositories = sweep_files(job, &pipeline, &counters);
        if job.history {
            sweep_histories(config, job, repositories, &pipeline, &counters);
        }
    }
    progress.finish();
    let collected = collector.finish()?;
    let info = RunInfo {
        host: job.host.clone(),
        user: job.user.clone(),
        roots: job.roots.iter().map(|r| escape_path(r)).collect(),
        started: utc(started),
        ended: utc(SystemTime::now()),
        completed: !gix::interrupt::is_triggered(),
    };
    run.conclude_run(collected, "sweep", Some(info))
}

/// Walk the roots into the pipeline; returns the git repositories met, sorted.
fn sweep_files(job: &SweepJob, pipeline: &Pipeline<'_>, counters: &Counters) -> Vec<PathBuf> {
    let repositories = Mutex::new(Vec::new());
    let on_repository = |path: &Path| {
        repositories
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(path.to_path_buf());
    };
    let forensic = Forensic {
        on_repository: &on_repository,
        stop: &gix::interrupt::IS_INTERRUPTED,
        cross_filesystems: job.cross_filesystems,
        file_delay: job.file_delay,
        archives: job.archive_depth.is_some(),
    };
    let roots: Vec<String> = job.roots.iter().map(|r| escape_path(r)).collect();
    counters.set_current(roots.join(", "));
    fs::walk_with(&job.roots, &job.fs, Some(&forensic), || pipeline.worker());
    let mut repositories = repositories
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    repositories.sort();
    repositories
}

/// Scan the full history (unreachable objects included) of each repository, once per object
/// store: linked work trees and clones sharing objects are read once.
fn sweep_histories(
    config: &Config,
    job: &SweepJob,
    repositories: Vec<PathBuf>,
    pipeline: &Pipeline<'_>,
    counters: &Counters,
) {
    let collector = pipeline.collector;
    let mut stores: HashSet<PathBuf> = HashSet::new();
    for path in repositories {
        if gix::interrupt::is_triggered() {
            return;
        }
        let prefix = repository_prefix(&path, &job.roots);
        let shown = if prefix.is_empty() {
            ".".to_string()
        } else {
            prefix.trim_end_matches('/').to_string()
        };
        let repo = match git::open(&path, &job.tuning) {
            Ok(repo) => repo,
            Err(error) => {
                collector.skip(
                    Skipped {
                        path: shown,
                        reason: format!("git repository could not be opened: {error:#}"),
                    },
                    false,
                );
                continue;
            }
        };
        let store = repo.common_dir().to_path_buf();
        let store = store.canonicalize().unwrap_or(store);
        drop(repo);
        if !stores.insert(store) {
            continue; // another work tree of an object store already read
        }
        counters
            .repositories
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        counters.set_current(format!("history of {shown}"));
        let git_job = GitJob {
            repo: path,
            range: None,
            all_objects: true,
            tuning: job.tuning.clone(),
        };
        let timing = Timing::new(false);
        match scan_repository(
            &git_job,
            &Selection::AllObjects,
            &prefix,
            config,
            pipeline,
            &timing,
        ) {
            Ok(mut history) => collector.update_findings(|findings| {
                history.annotate(findings, config.threads, &job.tuning);
            }),
            Err(_) if gix::interrupt::is_triggered() => return,
            Err(error) => collector.skip(
                Skipped {
                    path: shown,
                    reason: format!("history not scanned: {error:#}"),
                },
                false,
            ),
        }
    }
}

/// The archive limits of a sweep: the defaults (see [`archive::Limits`]), nested down to
/// `depth`, no member larger than `--max-file-size`.
fn archive_limits(depth: u32, max_file_size: u64) -> archive::Limits {
    let defaults = archive::Limits::default();
    archive::Limits {
        max_depth: depth,
        max_member_bytes: defaults.max_member_bytes.min(max_file_size),
        ..defaults
    }
}

/// What a repository's history paths are shown under: its place relative to the one root
/// (paths as walked when there are several roots), ending in `/`; empty for the root itself.
fn repository_prefix(path: &Path, roots: &[PathBuf]) -> String {
    let relative = match roots {
        [root] => path.strip_prefix(root).unwrap_or(path),
        _ => path,
    };
    let text = escape_path(relative);
    if text.is_empty() {
        text
    } else {
        format!("{}/", text.trim_end_matches('/'))
    }
}

/// RFC 3339 in UTC, to the second (`2026-12-01T09:30:00Z`).
pub(super) fn utc(time: SystemTime) -> String {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_timestamps() {
        let at = |s: u64| utc(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_796_117_405), "2026-12-01T09:30:05Z");
    }

    #[test]
    fn repository_prefixes() {
        let roots = [PathBuf::from("/home/u")];
        assert_eq!(repository_prefix(Path::new("/home/u"), &roots), "");
        assert_eq!(
            repository_prefix(Path::new("/home/u/code/app"), &roots),
            "code/app/"
        );
    }
}
