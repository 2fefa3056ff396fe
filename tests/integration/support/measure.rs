//! Running keysweep under a time bound while measuring its peak resident memory, for the
//! adversarial tests. The peak is the child's own `VmHWM` (/proc/PID/status), sampled while it
//! runs: `wait4`'s `ru_maxrss` also counts the test process's memory at the moment it spawned
//! the child (Linux keeps the pre-exec high-water mark), which made figures depend on what the
//! other tests held.

use std::fs::File;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::ks::{Ks, Outcome};

/// A finished run with its cost.
pub struct Measured {
    pub outcome: Outcome,
    pub elapsed: Duration,
    pub peak_rss_kb: u64,
}

/// Run `ks` to completion, killing it (and failing) past `bound`. Output goes through files,
/// so a large report cannot block the child on a full pipe.
// The child is reaped by `wait4` (which also gives its resource usage), not `Child::wait`.
#[allow(clippy::zombie_processes)]
pub fn run_measured(ks: Ks, bound: Duration) -> Measured {
    let dir = tempfile::TempDir::new().expect("tmp");
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut cmd = ks.command();
    cmd.stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("out file"))
        .stderr(File::create(&err_path).expect("err file"));
    let started = Instant::now();
    let child = cmd.spawn().expect("spawn keysweep");
    let pid = child.id() as libc::pid_t;
    let mut peak_kb = 0u64;
    let (status, rusage) = loop {
        if let Some(kb) = vm_hwm_kb(pid) {
            peak_kb = peak_kb.max(kb);
        }
        let mut status = 0;
        // SAFETY: plain FFI call with valid pointers; the child is ours and not reaped elsewhere.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut rusage) };
        if reaped == pid {
            break (status, rusage);
        }
        assert!(reaped == 0, "wait4 failed");
        if started.elapsed() > bound {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("keysweep ran past its bound of {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    assert!(libc::WIFEXITED(status), "killed by a signal: {status}");
    Measured {
        outcome: Outcome {
            code: libc::WEXITSTATUS(status),
            stdout: std::fs::read(&out_path).expect("read out"),
            stderr: std::fs::read(&err_path).expect("read err"),
        },
        elapsed,
        // A child too short-lived to be sampled: fall back to (an upper bound of) its peak.
        peak_rss_kb: if peak_kb > 0 {
            peak_kb
        } else {
            rusage.ru_maxrss as u64
        },
    }
}

/// The high-water mark of a running process's resident memory, in kB.
fn vm_hwm_kb(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
}
