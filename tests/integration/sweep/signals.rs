//! A sweep stopped by SIGINT or SIGTERM partway: the JSONL file parses line by line, keeps
//! every finding written before the signal, and ends with a summary marked interrupted.

use std::io::Read as _;
use std::time::{Duration, Instant};

use crate::support::{Ks, Tree, jsonl_records, random_secret};

/// Files in the tree, each with its own secret; with the test delay per file the sweep takes
/// seconds, so the signal lands partway.
const FILES: usize = 200;

fn interrupt_partway(signal: libc::c_int) {
    let tree = Tree::new();
    for i in 0..FILES {
        tree.write(
            &format!("project-{i:03}/.env"),
            format!("JWT_SECRET={}\n", random_secret(32)),
        );
    }
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("sweep.jsonl");
    let mut child = Ks::new("sweep")
        .arg(tree.root())
        .args(["--no-config", "--threads", "1", "--format", "jsonl", "-o"])
        .arg(&out)
        .env("KEYSWEEP_TEST_FILE_DELAY_MS", "20")
        .spawn_with_stderr();

    let deadline = Instant::now() + Duration::from_secs(60);
    let before = loop {
        let seen = jsonl_records(&out);
        if seen.len() >= 3 {
            break seen;
        }
        assert!(
            Instant::now() < deadline,
            "no findings streamed within 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // SAFETY: kill with a valid pid of our own child.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(sent, 0, "kill");

    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("the sweep did not stop after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .ok();
    assert_eq!(
        status.code(),
        Some(2),
        "interrupted sweep exits 2: {stderr}"
    );
    assert!(stderr.contains("interrupted"), "{stderr}");

    let after = jsonl_records(&out);
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "records written before the signal are kept as they were"
    );
    let summary = after.last().expect("a summary record");
    assert_eq!(summary["type"], "summary", "{summary}");
    assert_eq!(summary["completed"], false, "{summary}");
    assert_eq!(summary["run"]["completed"], false);
    let findings = after.iter().filter(|r| r["type"] == "finding").count();
    assert!(
        findings >= before.len() && findings < FILES,
        "stopped partway: {findings} of {FILES} secrets reported"
    );
    assert_eq!(
        summary["findings"].as_u64(),
        Some(findings as u64),
        "the summary counts what was reported"
    );
}

#[test]
fn sigint_keeps_every_finding_and_ends_with_an_interrupted_summary() {
    interrupt_partway(libc::SIGINT);
}

#[test]
fn sigterm_keeps_every_finding_and_ends_with_an_interrupted_summary() {
    interrupt_partway(libc::SIGTERM);
}
