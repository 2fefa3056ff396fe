//! `keysweep git --repos FILE [--shard I/N]`: the full history of every repository in one
//! shard of a list, one repository at a time.
//!
//! Each listed URL is cloned bare into the work directory, scanned with the history source and
//! removed (unless `--keep`); local paths are read in place. Every repository feeds the same
//! pipeline, so a key shared by forty repositories is one finding with forty locations, each
//! path prefixed with its repository's name. Between repositories the pipeline forgets the
//! blobs that held nothing, so memory follows the largest repository, not the list. A failed
//! clone or an unreadable repository is a listed skip, and the run goes on. The JSON Lines
//! report starts with a `header` record (shard, list digest, repositories) and ends with the
//! summary and each repository's outcome, which is what `keysweep merge` checks.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context as _;

use super::history::{Timing, scan_repository};
use super::pipeline::Pipeline;
use super::{Ending, Outcome, Run};
use crate::config::{Config, GitJob, ReposJob};
use crate::finding::Skipped;
use crate::report::{ListInfo, RepoOutcome, Reports, RunInfo, ShardHeader, ShardReport};
use crate::source::fs::escape_path;
use crate::source::git::Selection;
use crate::source::repos::{self, Entry, Location, RepoList};

/// Run `keysweep git --repos`.
pub fn repos(config: &Config, job: &ReposJob) -> anyhow::Result<Outcome> {
    let started = SystemTime::now();
    let _signals = gix::interrupt::init_handler_default(1)
        .context("cannot install the signal handler")?
        .auto_deregister();
    let list = RepoList::read(&job.list)?;
    let entries = list.shard(job.shard);
    let list_info = ListInfo {
        digest: list.digest.clone(),
        repositories: list.entries.len(),
    };
    let run = Run::start(config)?;
    let mut reports = Reports::open(&config.outputs)?;
    reports.begin(&ShardHeader {
        shard: job.shard,
        list: list_info.clone(),
        repositories: entries.iter().map(|e| e.name.clone()).collect(),
    })?;
    if entries.is_empty() {
        eprintln!(
            "keysweep: nothing to scan: no repository of the list ({}) falls in shard {}",
            list.entries.len(),
            job.shard
        );
    }
    let collector = run.collector(reports);
    let workdir = WorkDir::open(job)?;
    let mut outcomes = Vec::with_capacity(entries.len());
    {
        let pipeline = Pipeline::new(&run.rules, &collector, config.max_file_size);
        let timing = Timing::new(config.timing);
        for entry in &entries {
            if gix::interrupt::is_triggered() {
                outcomes.push(outcome(entry, "not-scanned", Some("interrupted".into())));
                continue;
            }
            if let Some(delay) = job.repo_delay {
                std::thread::sleep(delay);
            }
            outcomes.push(scan_entry(config, job, entry, &workdir, &pipeline, &timing));
            pipeline.forget_blobs();
        }
    }
    let collected = collector.finish()?;
    workdir.close();
    let completed = !gix::interrupt::is_triggered();
    let none_scanned = !outcomes.is_empty() && outcomes.iter().all(|o| o.status != "scanned");
    let ending = Ending {
        run: Some(RunInfo {
            host: job.host.clone(),
            user: job.user.clone(),
            roots: vec![escape_path(&job.list)],
            started: super::sweep::utc(started),
            ended: super::sweep::utc(SystemTime::now()),
            completed,
        }),
        shard: Some(ShardReport {
            shard: job.shard,
            list: list_info,
            repositories: outcomes,
        }),
        verified: false,
    };
    let outcome = run.conclude_with(collected, "repos", ending)?;
    if none_scanned {
        // Every clone failed (a bad token, no network): not a clean shard.
        anyhow::bail!(
            "no repository of shard {} could be scanned: the report lists why",
            job.shard
        );
    }
    Ok(outcome)
}

fn outcome(entry: &Entry, status: &str, reason: Option<String>) -> RepoOutcome {
    RepoOutcome {
        name: entry.name.clone(),
        status: status.to_string(),
        reason,
    }
}

/// Clone (for a URL), scan and clean up one repository. A failure is listed as a skip under
/// the repository's name and returned as its outcome.
fn scan_entry(
    config: &Config,
    job: &ReposJob,
    entry: &Entry,
    workdir: &WorkDir,
    pipeline: &Pipeline<'_>,
    timing: &Timing,
) -> RepoOutcome {
    let collector = pipeline.collector;
    let fail = |reason: String| {
        collector.skip(
            Skipped {
                path: entry.name.clone(),
                reason: reason.clone(),
            },
            false,
        );
        outcome(entry, "failed", Some(reason))
    };
    let (path, cloned) = match &entry.location {
        Location::Path(path) => (path.clone(), false),
        Location::Url(url) => {
            let into = repos::clone_dir(&workdir.path, &entry.name);
            if into.exists()
                && let Err(error) = std::fs::remove_dir_all(&into)
            {
                return fail(format!(
                    "cannot remove the old clone {}: {error}",
                    into.display()
                ));
            }
            if let Err(message) = repos::clone_bare(url, &into, &gix::interrupt::IS_INTERRUPTED) {
                let _ = std::fs::remove_dir_all(&into);
                return fail(format!(
                    "clone failed: {}",
                    without_credentials(&message, url)
                ));
            }
            (into, true)
        }
    };
    let git_job = GitJob {
        repo: path.clone(),
        range: None,
        all_objects: job.all_objects,
        tuning: job.tuning.clone(),
    };
    let selection = if job.all_objects {
        Selection::AllObjects
    } else {
        Selection::Refs
    };
    let prefix = format!("{}/", entry.name);
    let result = scan_repository(&git_job, &selection, &prefix, config, pipeline, timing);
    let outcome = match result {
        Ok(mut history) => {
            collector.update_findings(|findings| {
                history.annotate(findings, config.threads, &job.tuning);
            });
            outcome(entry, "scanned", None)
        }
        Err(error) => fail(format!("history not scanned: {error:#}")),
    };
    if cloned && !job.keep {
        let _ = std::fs::remove_dir_all(&path);
    }
    outcome
}

/// `user:password@` of a URL replaced in a message (git may repeat the URL it failed on).
fn without_credentials(message: &str, url: &str) -> String {
    let Some((_, rest)) = url.split_once("://") else {
        return message.to_string();
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once('@') {
        Some((userinfo, _)) if !userinfo.is_empty() => message.replace(userinfo, "***"),
        _ => message.to_string(),
    }
}

/// Where clones go: the `--workdir`, or a temporary directory removed at the end.
struct WorkDir {
    path: PathBuf,
    /// Remove the directory itself at the end (it was created for this run).
    temporary: bool,
}

impl WorkDir {
    fn open(job: &ReposJob) -> anyhow::Result<WorkDir> {
        let (path, temporary) = match &job.workdir {
            Some(path) => (path.clone(), false),
            None => (fresh_temporary_dir(), !job.keep),
        };
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create the work directory {}", path.display()))?;
        Ok(WorkDir { path, temporary })
    }

    fn close(self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A directory name under the system's temporary directory that no other run uses.
fn fresh_temporary_dir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!("keysweep-repos-{}-{nanos}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_not_repeated() {
        let url = "https://bot:ghp_secret@github.com/org/app.git";
        let message = "fatal: could not read from https://bot:ghp_secret@github.com/org/app.git";
        let shown = without_credentials(message, url);
        assert!(!shown.contains("ghp_secret"), "{shown}");
        assert!(shown.contains("https://***@github.com"));
        assert_eq!(without_credentials("x", "git@host:a"), "x");
    }

    #[test]
    fn temporary_dirs_differ_by_process() {
        let dir = fresh_temporary_dir();
        assert!(dir.starts_with(std::env::temp_dir()));
        assert!(dir.file_name().is_some());
    }
}
