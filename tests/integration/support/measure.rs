//! Running keysweep under a time bound while measuring its peak resident memory (`wait4`'s
//! `ru_maxrss`), for the adversarial tests.

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
    let (status, rusage) = loop {
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
        std::thread::sleep(Duration::from_millis(10));
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
        peak_rss_kb: rusage.ru_maxrss as u64,
    }
}
