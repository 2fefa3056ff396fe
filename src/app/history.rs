//! `keysweep git` and `keysweep staged`: history and index scans (see the git issue).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::app::{ScanOutcome, finish, load_rules};
use crate::cli::{GitArgs, StagedArgs};
use crate::config::RunSettings;
use crate::finding::{Candidate, Skipped};
use crate::rules::RuleSet;
use crate::scan::{BlobKind, Scanner};
use crate::source::git::{self, BlobHandler, GitTuning, History, IdSet, Selection};
use crate::source::{Origin, locate, staged as staged_source};

/// Peak and current resident memory, for `KEYSWEEP_TIMING` output: the kernel's peak, the
/// current figures, and the peak anonymous (heap) memory since the last call, sampled every
/// 50 ms by [`sample_memory`].
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

/// Cache sizes and timing output for the git source, from `KEYSWEEP_OBJECT_CACHE_MB`,
/// `KEYSWEEP_PACK_CACHE_MB` (MiB) and `KEYSWEEP_TIMING`.
// moved to config on merge
fn git_tuning() -> GitTuning {
    let mb = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    GitTuning {
        object_cache_mb: mb("KEYSWEEP_OBJECT_CACHE_MB"),
        pack_cache_mb: mb("KEYSWEEP_PACK_CACHE_MB"),
        timing: std::env::var_os("KEYSWEEP_TIMING").is_some(),
    }
}

/// Run `keysweep git`.
pub fn git(args: &GitArgs) -> anyhow::Result<bool> {
    let settings = RunSettings::resolve(&args.output, &args.verify, &args.rule_files)?;
    let rules = load_rules(&settings.rule_files)?;
    let started = Instant::now();
    let tuning = git_tuning();
    let timing = tuning.timing;
    if timing {
        sample_memory();
    }
    let repo = git::open(&args.repo, &tuning)?;
    let (selection, mode) = match &args.range {
        Some(spec) => (git::resolve_range(&repo, spec)?, "diff"),
        None if args.all_objects => (Selection::AllObjects, "history"),
        None => (Selection::Refs, "history"),
    };
    let everything = args.all_objects;
    let history = git::history(&repo, &selection, &tuning)?;
    // A fresh handle for the blob phase: the history pass's caches and mapped packs go.
    drop(repo);
    let repo = git::open(&args.repo, &tuning)?;
    let wanted: IdSet = history.blobs.keys().copied().collect();
    if timing {
        eprintln!(
            "timing: history {:.2} s ({} commits, {} blobs) {}",
            started.elapsed().as_secs_f64(),
            history.commits.len(),
            wanted.len(),
            memory()
        );
    }

    let shared = Mutex::new(ScanOutcome::default());
    let read = git::read_blobs(
        &repo,
        &wanted,
        everything,
        settings.threads,
        &tuning,
        || BlobScanner {
            scanner: Scanner::new(&rules),
            history: &history,
            max_file_size: args.max_file_size,
            outcome: ScanOutcome::default(),
            shared: &shared,
            candidates: Vec::new(),
        },
    )?;
    if timing {
        eprintln!(
            "timing: blobs read {:.2} s {}",
            started.elapsed().as_secs_f64(),
            memory()
        );
    }
    let mut outcome = shared
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    outcome.skipped.extend(history.notes.iter().cloned());
    outcome.stats.files_skipped += read.skipped.len() as u64;
    outcome
        .skipped
        .extend(read.skipped.into_iter().map(|s| name_blob(s, &history)));

    // How many commits carry each blob with a finding at its path.
    let mut targets: Vec<(gix::ObjectId, gix::bstr::BString)> = outcome
        .located
        .iter()
        .filter_map(|l| l.location.blob.as_deref())
        .filter_map(|hex| gix::ObjectId::from_hex(hex.as_bytes()).ok())
        .filter_map(|id| history.blobs.get(&id).map(|intro| (id, intro.path.clone())))
        .collect();
    targets.sort_unstable();
    targets.dedup();
    let counts = git::carry_counts(&repo, &history, &targets, settings.threads, &tuning);
    let counts: HashMap<String, u64> = targets
        .iter()
        .zip(counts)
        .map(|((id, _), count)| (git::hex(id), count))
        .collect();
    for located in &mut outcome.located {
        let location = &mut located.location;
        if let Some(count) = location.blob.as_ref().and_then(|b| counts.get(b)) {
            location.commits = Some(*count);
        }
    }
    if timing {
        eprintln!(
            "timing: counts {:.2} s {}",
            started.elapsed().as_secs_f64(),
            memory()
        );
    }

    // Author and date, read only for the commits that carry findings.
    let mut displays: HashMap<String, git::CommitDisplay> = HashMap::new();
    for located in &mut outcome.located {
        let location = &mut located.location;
        let Some(commit) = &location.commit else {
            continue;
        };
        let display =
            displays.entry(commit.clone()).or_insert_with(|| {
                match gix::ObjectId::from_hex(commit.as_bytes()) {
                    Ok(id) => git::commit_display(&repo, &id),
                    Err(_) => git::CommitDisplay::default(),
                }
            });
        location.author = display.author.clone();
        location.date = display.date.clone();
    }
    finish(outcome, &rules, &settings, mode, started)
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

/// A worker's scanner over blobs; merged into the shared outcome when dropped.
struct BlobScanner<'a> {
    scanner: Scanner<'a>,
    history: &'a History,
    max_file_size: u64,
    outcome: ScanOutcome,
    shared: &'a Mutex<ScanOutcome>,
    candidates: Vec<Candidate>,
}

impl BlobHandler for BlobScanner<'_> {
    fn blob(&mut self, id: &gix::oid, data: &[u8]) {
        let intro = self.history.blobs.get(id);
        let blob_hex = git::hex(id);
        let path = match intro {
            Some(intro) => git::display_path(intro.path.as_ref()),
            None => format!("unreachable/{blob_hex}"),
        };
        if data.len() as u64 > self.max_file_size {
            self.outcome.stats.files_skipped += 1;
            self.outcome.skipped.push(Skipped {
                path: format!("{path} (blob {blob_hex})"),
                reason: format!(
                    "{} bytes is over --max-file-size ({} bytes)",
                    data.len(),
                    self.max_file_size
                ),
            });
            return;
        }
        if git::is_lfs_pointer(data) {
            self.outcome.stats.files_skipped += 1;
            self.outcome.skipped.push(Skipped {
                path: format!("{path} (blob {blob_hex})"),
                reason: "git-lfs pointer, content not in the repository".into(),
            });
            return;
        }
        self.candidates.clear();
        if self.scanner.scan_blob(data, &path, &mut self.candidates) == BlobKind::Binary {
            self.outcome.stats.files_binary += 1;
            return;
        }
        self.outcome.stats.files_scanned += 1;
        self.outcome.stats.bytes_scanned += data.len() as u64;
        if self.candidates.is_empty() {
            return;
        }
        let origin = match intro {
            Some(intro) => Origin {
                source: "git",
                path,
                commit: Some(git::hex(&self.history.commit(intro).id)),
                author: None,
                date: None,
                blob: Some(blob_hex),
                commits: None, // filled in once the scan is done
            },
            None => Origin {
                source: "git",
                path,
                blob: Some(blob_hex),
                ..Origin::default()
            },
        };
        let candidates = std::mem::take(&mut self.candidates);
        locate(data, candidates, &origin, &mut self.outcome.located);
    }
}

impl Drop for BlobScanner<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.outcome).merge_into(self.shared);
    }
}

/// Run `keysweep staged`.
pub fn staged(args: &StagedArgs) -> anyhow::Result<bool> {
    let settings = RunSettings::resolve(&args.output, &args.verify, &args.rule_files)?;
    let rules = load_rules(&settings.rule_files)?;
    let started = Instant::now();
    let outcome = scan_staged(&rules, &args.repo)?;
    finish(outcome, &rules, &settings, "staged", started)
}

/// Scan what the index holds for entries added or modified against HEAD, and keep the findings
/// that overlap lines the commit adds.
pub fn scan_staged(rules: &RuleSet, repo_path: &std::path::Path) -> anyhow::Result<ScanOutcome> {
    let repo = git::open(repo_path, &git_tuning())?;
    let index_file = std::env::var_os("GIT_INDEX_FILE").map(std::path::PathBuf::from);
    let staged = staged_source::staged_entries(&repo, index_file.as_deref())?;
    let mut outcome = ScanOutcome::default();
    outcome.skipped.extend(staged.notes);
    let mut scanner = Scanner::new(rules);
    let mut candidates = Vec::new();
    let mut buf = Vec::new();
    let mut old = Vec::new();
    for entry in &staged.entries {
        let data = match staged_source::read_blob(&repo, &entry.id, &mut buf) {
            Ok(data) => data,
            Err(error) => {
                outcome.stats.files_skipped += 1;
                outcome.skipped.push(Skipped {
                    path: entry.path.clone(),
                    reason: format!("cannot read the staged blob {}: {error}", entry.id),
                });
                continue;
            }
        };
        if git::is_lfs_pointer(data) {
            outcome.stats.files_skipped += 1;
            outcome.skipped.push(Skipped {
                path: entry.path.clone(),
                reason: "git-lfs pointer, content not in the repository".into(),
            });
            continue;
        }
        candidates.clear();
        let kind = scanner.scan_blob(data, &entry.path, &mut candidates);
        if kind == BlobKind::Binary {
            outcome.stats.files_binary += 1;
            continue;
        }
        let binary = kind == BlobKind::KeyContainer;
        outcome.stats.files_scanned += 1;
        outcome.stats.bytes_scanned += data.len() as u64;
        if candidates.is_empty() {
            continue;
        }
        let origin = Origin {
            source: "staged",
            path: entry.path.clone(),
            blob: Some(git::hex(&entry.id)),
            ..Origin::default()
        };
        let mut located = Vec::new();
        locate(data, std::mem::take(&mut candidates), &origin, &mut located);
        // Only what the commit adds: findings overlapping an added line. A binary blob, or a
        // file new to HEAD, is added as a whole.
        let added = match (&entry.head, binary) {
            (Some(head), false) => {
                match staged_source::read_blob(&repo, head, &mut old) {
                    Ok(old_data) => Some(staged_source::added_lines(old_data, data)),
                    Err(_) => None, // HEAD's blob unreadable: judge the whole file
                }
            }
            _ => None,
        };
        match added {
            None => outcome.located.extend(located),
            Some(added) => {
                outcome.located.extend(located.into_iter().filter(|l| {
                    staged_source::overlaps(&added, l.location.line, l.location.end_line)
                }))
            }
        }
    }
    Ok(outcome)
}
