//! `keysweep git`: history (every unique blob once), ranges and unreachable objects.

use std::collections::HashMap;
use std::time::Instant;

use super::pipeline::Pipeline;
use super::{Outcome, Run};
use crate::collect::Collector;
use crate::config::{Config, GitJob};
use crate::finding::{Finding, Skipped};
use crate::report::Reports;
use crate::source::git::{self, History, Selection};

/// Run `keysweep git`.
pub fn git(config: &Config, job: &GitJob) -> anyhow::Result<Outcome> {
    let run = Run::start(config)?;
    let timing = Timing::new(job.tuning.timing);
    let (selection, mode) = match &job.range {
        Some(spec) => (
            git::resolve_range(&git::open(&job.repo, &job.tuning)?, spec)?,
            "diff",
        ),
        None if job.all_objects => (Selection::AllObjects, "history"),
        None => (Selection::Refs, "history"),
    };
    let collector = run.collector(Reports::open(&config.outputs)?);
    let mut findings = {
        let pipeline = Pipeline::new(&run.rules, &collector, config.max_file_size);
        scan_repository(job, &selection, "", config, &pipeline, &timing)?
    };
    let mut collected = collector.finish()?;
    findings.annotate(&mut collected.findings, config.threads, &job.tuning);
    timing.say("counts and provenance");
    run.conclude(collected, mode)
}

/// What history scanning leaves for after the scan: the repository and its introductions,
/// to fill in commit counts, authors and dates of the findings.
pub struct HistoryFindings {
    repo: gix::Repository,
    history: History,
    /// What the repository's paths were prefixed with (see [`scan_repository`]).
    prefix: String,
}

/// Scan one repository's history into the pipeline's workers: the history pass (commits,
/// trees, which commit introduced each blob), then every wanted blob once. Notes about the
/// repository (shallow, submodules, unreadable objects) go to the collector. `prefix` (empty,
/// or ending in `/`) goes before every path, to tell repositories apart in a sweep.
pub fn scan_repository(
    job: &GitJob,
    selection: &Selection,
    prefix: &str,
    config: &Config,
    pipeline: &Pipeline<'_>,
    timing: &Timing,
) -> anyhow::Result<HistoryFindings> {
    let repo = git::open(&job.repo, &job.tuning)?;
    let history = git::history(&repo, selection, &job.tuning)?;
    if history.commits.is_empty()
        && let Some(problem) = history
            .notes
            .iter()
            .find(|n| !n.reason.starts_with("submodule"))
    {
        // Fail closed: a history that could not be read at all is not a clean history.
        anyhow::bail!(
            "{}: no commit could be read ({}: {})",
            job.repo.display(),
            problem.path,
            problem.reason
        );
    }
    // A fresh handle for the blob phase: the history pass's caches and mapped packs go.
    drop(repo);
    let repo = git::open(&job.repo, &job.tuning)?;
    let wanted: git::IdSet = history.blobs.keys().copied().collect();
    timing.say(&format!(
        "history ({} commits, {} blobs)",
        history.commits.len(),
        wanted.len()
    ));
    let read = git::read_blobs(
        &repo,
        &wanted,
        job.all_objects,
        config.threads,
        &job.tuning,
        || HistoryBlobs {
            history: &history,
            prefix,
            worker: pipeline.worker(),
        },
    )?;
    timing.say("blobs read");
    let collector: &Collector<'_> = pipeline.collector;
    for note in &history.notes {
        let mut note = note.clone();
        note.path.insert_str(0, prefix);
        collector.skip(note, false);
    }
    for skipped in read.skipped {
        let mut skipped = name_blob(skipped, &history);
        skipped.path.insert_str(0, prefix);
        collector.skip(skipped, true);
    }
    Ok(HistoryFindings {
        repo,
        history,
        prefix: prefix.to_string(),
    })
}

impl HistoryFindings {
    /// Fill in how many commits carry each blob with a finding at its path, and the author and
    /// date of each introducing commit (read only for commits that carry findings).
    /// Only this repository's history locations are touched.
    pub fn annotate(&mut self, findings: &mut [Finding], threads: usize, tuning: &git::GitTuning) {
        let prefix = self.prefix.clone();
        let ours =
            |l: &crate::finding::Location| l.source == "git" && l.path.starts_with(prefix.as_str());
        let mut targets: Vec<(gix::ObjectId, gix::bstr::BString)> = findings
            .iter()
            .flat_map(|f| &f.locations)
            .filter(|l| ours(l))
            .filter_map(|l| l.blob.as_deref())
            .filter_map(|hex| gix::ObjectId::from_hex(hex.as_bytes()).ok())
            .filter_map(|id| {
                self.history
                    .blobs
                    .get(&id)
                    .map(|intro| (id, intro.path.clone()))
            })
            .collect();
        targets.sort_unstable();
        targets.dedup();
        let counts = git::carry_counts(&self.repo, &self.history, &targets, threads, tuning);
        let counts: HashMap<String, u64> = targets
            .iter()
            .zip(counts)
            .map(|((id, _), count)| (git::hex(id), count))
            .collect();
        let mut displays: HashMap<String, git::CommitDisplay> = HashMap::new();
        for location in findings.iter_mut().flat_map(|f| f.locations.iter_mut()) {
            if !ours(location) {
                continue;
            }
            if let Some(count) = location.blob.as_ref().and_then(|b| counts.get(b)) {
                location.commits = Some(*count);
            }
            let Some(commit) = &location.commit else {
                continue;
            };
            let display = displays.entry(commit.clone()).or_insert_with(|| {
                match gix::ObjectId::from_hex(commit.as_bytes()) {
                    Ok(id) => git::commit_display(&self.repo, &id),
                    Err(_) => git::CommitDisplay::default(),
                }
            });
            location.author = display.author.clone();
            location.date = display.date.clone();
        }
    }
}

/// Put the path that introduced a blob into a warning that names only its id.
fn name_blob(mut skipped: Skipped, history: &History) -> Skipped {
    if let Ok(id) = gix::ObjectId::from_hex(skipped.path.as_bytes())
        && let Some(intro) = history.blobs.get(&id)
    {
        let commit = history.commit(intro);
        skipped.path = format!(
            "{} (blob {id}, commit {})",
            git::display_path(intro.path.as_ref()),
            commit.id
        );
    }
    skipped
}

/// The git reader's per-thread handler: each blob becomes a [`Blob`] with its history origin
/// and goes to a scan worker.
///
/// [`Blob`]: crate::source::Blob
struct HistoryBlobs<'h, W> {
    history: &'h History,
    prefix: &'h str,
    worker: W,
}

impl<W: crate::source::BlobSink> git::BlobHandler for HistoryBlobs<'_, W> {
    fn blob(&mut self, id: &gix::oid, data: &[u8]) {
        let origin = match self.history.blobs.get(id) {
            Some(intro) => crate::source::Origin::History {
                path: format!("{}{}", self.prefix, git::display_path(intro.path.as_ref())),
                commit: Some(self.history.commit(intro).id),
            },
            None => crate::source::Origin::History {
                path: format!("{}unreachable/{}", self.prefix, git::hex(id)),
                commit: None,
            },
        };
        self.worker.blob(crate::source::Blob {
            id: Some(id.to_owned()),
            bytes: data,
            origin,
            lines: None,
        });
    }
}

/// Phase times and memory on stderr (`KEYSWEEP_TIMING`), for benchmarks.
pub struct Timing {
    started: Option<Instant>,
}

impl Timing {
    pub fn new(enabled: bool) -> Timing {
        if enabled {
            sample_memory();
        }
        Timing {
            started: enabled.then(Instant::now),
        }
    }

    fn say(&self, phase: &str) {
        if let Some(started) = self.started {
            eprintln!(
                "timing: {phase} {:.2} s {}",
                started.elapsed().as_secs_f64(),
                memory()
            );
        }
    }
}

/// Peak and current resident memory: the kernel's peak, the current figures, and the peak
/// anonymous (heap) memory since the last call, sampled every 50 ms by [`sample_memory`].
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mut out: Vec<String> = status
        .lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("RssAnon") || l.starts_with("RssFile"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let peak = PEAK_ANON_KB.swap(0, std::sync::atomic::Ordering::Relaxed);
    out.push(format!("peak RssAnon since last: {peak} kB"));
    out.join(", ")
}

static PEAK_ANON_KB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sample RssAnon every 50 ms into [`PEAK_ANON_KB`] (a detached thread, for timing output).
fn sample_memory() {
    std::thread::spawn(|| {
        loop {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            if let Some(kb) = status
                .lines()
                .find_map(|l| l.strip_prefix("RssAnon:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
            {
                PEAK_ANON_KB.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    });
}
