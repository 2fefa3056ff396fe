//! The one way the tests launch keysweep: `Ks::new("scan").arg(root).run()`.
//!
//! Every run has stdin closed, `NO_COLOR=1` and no inherited `GIT_DIR` / `GIT_INDEX_FILE` /
//! `KEYSWEEP_CONFIG` (each can be set again with `env` or removed with `env_remove`), and a
//! timeout: a hang (say on a FIFO) fails the test.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::report::Scan;

/// The keysweep binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_keysweep");

const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// A keysweep command line being built.
pub struct Ks {
    args: Vec<OsString>,
    cwd: Option<std::path::PathBuf>,
    env: Vec<(OsString, Option<OsString>)>,
}

impl Ks {
    /// `keysweep SUBCOMMAND` (the subcommand may be several words: `Ks::new("jwks").arg("audit")`).
    pub fn new(subcommand: &str) -> Ks {
        Ks {
            args: vec![subcommand.into()],
            cwd: None,
            env: vec![
                ("NO_COLOR".into(), Some("1".into())),
                ("KEYSWEEP_CONFIG".into(), None),
                ("GIT_DIR".into(), None),
                ("GIT_INDEX_FILE".into(), None),
            ],
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Ks {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Ks
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// `--format FORMAT`.
    pub fn format(self, format: &str) -> Ks {
        self.args(["--format", format])
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Ks {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Ks {
        self.env.push((key.into(), Some(value.as_ref().to_owned())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Ks {
        self.env.push((key.into(), None));
        self
    }

    /// Runs the binary and waits for it (with the timeout).
    pub fn run(self) -> Outcome {
        let mut cmd = Command::new(BIN);
        cmd.args(&self.args);
        let what = format!("keysweep {:?}", self.args);
        self.finish(cmd, what)
    }

    /// Starts the binary with stdout piped and returns at once (streaming tests read its output
    /// while it runs); stderr is discarded. The caller waits for or kills the child.
    pub fn spawn(self) -> std::process::Child {
        let what = format!("keysweep {:?}", self.args);
        self.command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {what}: {e}"))
    }

    /// Starts the binary with stderr piped and stdout discarded (for a run that writes its
    /// report to a file and is signalled while it runs); the caller waits for the child.
    pub fn spawn_with_stderr(self) -> std::process::Child {
        let what = format!("keysweep {:?}", self.args);
        self.command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {what}: {e}"))
    }

    /// The configured command line (arguments, environment, directory), not started.
    pub fn command(self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(&self.args);
        self.configure(&mut cmd);
        cmd
    }

    fn configure(&self, cmd: &mut Command) {
        for (key, value) in &self.env {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
    }

    /// Runs the binary on a pseudo-terminal (under util-linux `script`), so that it sees a tty.
    pub fn run_on_terminal(self) -> Outcome {
        super::tools::require("script");
        let mut line = shell_quote(OsStr::new(BIN));
        for a in &self.args {
            line.push(' ');
            line.push_str(&shell_quote(a));
        }
        let mut cmd = Command::new("script");
        cmd.args(["-q", "-e", "-c", &line, "/dev/null"]);
        let what = format!("script -c {line:?}");
        self.finish(cmd, what)
    }

    fn finish(self, mut cmd: Command, what: String) -> Outcome {
        self.configure(&mut cmd);
        run_with_timeout(cmd, &what)
    }
}

fn shell_quote(s: &OsStr) -> String {
    let s = s.to_str().expect("a UTF-8 argument for the shell");
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Run `cmd` to completion with stdin closed, both streams captured, and the timeout; `what`
/// names it in failures.
pub fn run_with_timeout(mut cmd: Command, what: &str) -> Outcome {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let mut so = child.stdout.take().expect("stdout");
    let mut se = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = t_out.join().expect("stdout thread");
    let stderr = t_err.join().expect("stderr thread");
    let code = status
        .code()
        .unwrap_or_else(|| panic!("{what} was killed by a signal: {status:?}"));
    Outcome {
        code,
        stdout,
        stderr,
    }
}

/// What a run left: exit code, stdout and stderr.
pub struct Outcome {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Outcome {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Stdout as one JSON document (panics with the run's output otherwise).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "keysweep did not print one JSON document ({e}); exit {}\nstdout:\n{}\nstderr:\n{}",
                self.code,
                self.stdout_str(),
                self.stderr_str()
            )
        })
    }

    /// Stdout as a keysweep JSON report (`--format json`).
    pub fn scan(self) -> Scan {
        Scan {
            json: self.json(),
            code: self.code,
            stderr: self.stderr_str(),
        }
    }

    /// Asserts the exit code, showing both streams when it differs.
    pub fn assert_exit(&self, code: i32) -> &Outcome {
        assert_eq!(
            self.code,
            code,
            "expected exit code {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout_str(),
            self.stderr_str()
        );
        self
    }
}
