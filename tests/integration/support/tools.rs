//! External programs the tests drive (openssl, ssh-keygen, puttygen, git, gpg, mkfifo).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Path of a program on PATH, or None.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        let p = dir.join(tool);
        if let Ok(md) = std::fs::metadata(&p) {
            use std::os::unix::fs::PermissionsExt;
            if md.is_file() && md.permissions().mode() & 0o111 != 0 {
                return Some(p);
            }
        }
    }
    None
}

/// Fails the test (never skips) when a required external tool is missing.
pub fn require(tool: &str) {
    let hint = match tool {
        "openssl" => "apt-get install -y openssl",
        "ssh-keygen" => "apt-get install -y openssh-client",
        "puttygen" => "apt-get install -y putty-tools",
        "git" => "apt-get install -y git",
        "script" => "apt-get install -y util-linux",
        _ => "install it",
    };
    if which(tool).is_none() {
        panic!(
            "required tool `{tool}` is not on PATH; this test must not be skipped. Install it: {hint}"
        );
    }
}

/// Runs a program, panics with its stderr when it fails, returns stdout.
pub fn tool(program: &str, args: &[&str], cwd: Option<&Path>) -> Vec<u8> {
    require(program);
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    if let Some(c) = cwd {
        cmd.current_dir(c);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run `{program}` (is it installed?): {e}"));
    if !out.status.success() {
        panic!(
            "`{program} {}` failed ({}):\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.stdout
}

pub fn openssl(args: &[&str], cwd: &Path) -> Vec<u8> {
    tool("openssl", args, Some(cwd))
}

pub fn read_string(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref())
        .unwrap_or_else(|e| panic!("read {}: {e}", p.as_ref().display()))
}
