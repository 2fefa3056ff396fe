//! Live counters of a sweep and, when stderr is a terminal, a progress line drawn from them.
//!
//! Workers bump relaxed atomics (no lock on the hot path); a ticker thread redraws the line
//! five times a second. Nothing is printed when the display is off.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::report::escape_control;

/// Counters every scan worker of a sweep updates.
#[derive(Default)]
pub struct Counters {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub archives: AtomicU64,
    pub repositories: AtomicU64,
    pub findings: AtomicU64,
    /// What is being swept now (a root, or a repository's history).
    current: std::sync::Mutex<String>,
}

impl Counters {
    /// Count one blob read.
    pub fn blob(&self, bytes: usize) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Say what is being swept now.
    pub fn set_current(&self, what: String) {
        *self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = what;
    }

    fn line(&self, elapsed: Duration) -> String {
        let bytes = self.bytes.load(Ordering::Relaxed);
        let rate = bytes as f64 / 1e6 / elapsed.as_secs_f64().max(0.001);
        let current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        format!(
            "{} files, {:.1} MB ({rate:.0} MB/s), {} repositories, {} archives, {} findings | {}",
            self.files.load(Ordering::Relaxed),
            bytes as f64 / 1e6,
            self.repositories.load(Ordering::Relaxed),
            self.archives.load(Ordering::Relaxed),
            self.findings.load(Ordering::Relaxed),
            escape_control(&current),
        )
    }
}

/// The progress line on stderr, redrawn from [`Counters`] until dropped.
pub struct Progress {
    counters: Arc<Counters>,
    ticker: Option<(ProgressBar, Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Progress {
    /// Counters, and a progress line on stderr when `show` is set.
    pub fn new(show: bool) -> Progress {
        let counters = Arc::new(Counters::default());
        let ticker = show.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            let done = Arc::new(AtomicBool::new(false));
            let thread = {
                let (bar, done, counters) = (bar.clone(), done.clone(), counters.clone());
                std::thread::spawn(move || {
                    let started = Instant::now();
                    while !done.load(Ordering::Relaxed) {
                        bar.set_message(counters.line(started.elapsed()));
                        bar.tick();
                        std::thread::sleep(Duration::from_millis(200));
                    }
                })
            };
            (bar, done, thread)
        });
        Progress { counters, ticker }
    }

    /// The counters workers update.
    pub fn counters(&self) -> Arc<Counters> {
        self.counters.clone()
    }

    /// Remove the display (before the final report is written).
    pub fn finish(&mut self) {
        if let Some((bar, done, thread)) = self.ticker.take() {
            done.store(true, Ordering::Relaxed);
            let _ = thread.join();
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
