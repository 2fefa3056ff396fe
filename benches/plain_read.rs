//! Plain parallel read: the I/O floor for the directory-scan benchmark.
//!
//! Walks the given paths the same way a scanner would (`ignore::WalkBuilder`,
//! parallel, standard filters on, hidden files included, `.git` skipped),
//! reads every regular file completely into a per-thread buffer and prints
//! the number of files and bytes read. It does no matching at all, so its
//! wall time is the lower bound any directory scanner can reach on the same
//! tree and machine.
//!
//! Build and run:
//!
//! ```text
//! cargo build --release --example plain_read
//! target/release/examples/plain_read [--threads N] PATH...
//! ```
//!
//! Output (one line, machine-readable): `files=<n> bytes=<n> errors=<n>`.

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::{WalkBuilder, WalkState};

fn usage() -> ExitCode {
    eprintln!("usage: plain_read [--threads N] PATH...");
    ExitCode::from(2)
}

thread_local! {
    static BUF: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(1 << 20));
}

fn main() -> ExitCode {
    let mut threads: usize = 0; // 0 = let `ignore` pick (number of CPUs)
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--threads") | Some("-j") => {
                let Some(n) = args.next().and_then(|v| v.to_str()?.parse().ok()) else {
                    return usage();
                };
                threads = n;
            }
            Some("-h") | Some("--help") => {
                println!("usage: plain_read [--threads N] PATH...");
                return ExitCode::SUCCESS;
            }
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    if paths.is_empty() {
        return usage();
    }

    let mut builder = WalkBuilder::new(&paths[0]);
    for p in &paths[1..] {
        builder.add(p);
    }
    builder
        .standard_filters(true)
        .hidden(false)
        .threads(threads)
        .filter_entry(|e| e.file_name() != ".git");

    let files = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let errors = AtomicU64::new(0);

    builder.build_parallel().run(|| {
        let files = &files;
        let bytes = &bytes;
        let errors = &errors;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(_) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let n = BUF.with(|buf| {
                let mut buf = buf.borrow_mut();
                buf.clear();
                File::open(entry.path()).and_then(|mut f| f.read_to_end(&mut buf))
            });
            match n {
                Ok(n) => {
                    files.fetch_add(1, Ordering::Relaxed);
                    bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(_) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            WalkState::Continue
        })
    });

    println!(
        "files={} bytes={} errors={}",
        files.load(Ordering::Relaxed),
        bytes.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed)
    );
    ExitCode::SUCCESS
}
