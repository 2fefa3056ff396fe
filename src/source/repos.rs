//! `keysweep git --repos FILE`: the repository list, its shards, and the clones.
//!
//! A list has one repository per line, `LOCATION [NAME]`: a local path (a work tree or a bare
//! repository, relative to the list's directory) or a clone URL. `#` starts a comment line.
//! Each repository has a name (given, or derived from the location) that is unique in the
//! list; the name decides the shard (a stable hash, so the order of the list does not matter)
//! and prefixes every path reported from the repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Where a listed repository is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A repository on this machine, read in place.
    Path(PathBuf),
    /// A clone URL (`https://`, `ssh://`, `git://`, `file://`, or scp-like `user@host:path`).
    Url(String),
}

/// One line of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Unique in the list; prefixes the repository's paths (`org/app/config/key.pem`).
    pub name: String,
    /// The location as written in the list (what the list's digest covers).
    pub written: String,
    pub location: Location,
    /// The 1-based line of the list.
    pub line: usize,
}

/// A parsed repository list.
#[derive(Clone, Debug)]
pub struct RepoList {
    pub entries: Vec<Entry>,
    /// `sha256:<hex>` of the entries sorted by name: shards of the same list agree on it
    /// whatever the order of its lines.
    pub digest: String,
}

/// A problem with the list itself (the run cannot start).
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("cannot read the repository list {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {problem}")]
    Line {
        path: String,
        line: usize,
        problem: String,
    },
}

impl RepoList {
    /// Read and check the list at `path`; relative local paths are taken from its directory.
    pub fn read(path: &Path) -> Result<RepoList, ListError> {
        let text = std::fs::read_to_string(path).map_err(|source| ListError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        RepoList::parse(&text, base).map_err(|(line, problem)| ListError::Line {
            path: path.display().to_string(),
            line,
            problem,
        })
    }

    /// Parse a list's text; errors are `(line, problem)`.
    pub fn parse(text: &str, base: &Path) -> Result<RepoList, (usize, String)> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut names: std::collections::HashMap<String, usize> = Default::default();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let mut fields = trimmed.split_whitespace();
            let written = fields.next().unwrap_or_default().to_string();
            let name = match fields.next() {
                Some(name) => name.trim_matches('/').to_string(),
                None => default_name(&written),
            };
            if let Some(extra) = fields.next() {
                return Err((
                    line,
                    format!("unexpected {extra:?}: expected LOCATION [NAME]"),
                ));
            }
            check_name(&name).map_err(|problem| (line, problem))?;
            if let Some(first) = names.insert(name.clone(), line) {
                return Err((
                    line,
                    format!("the name {name:?} is already used on line {first}: give one a NAME"),
                ));
            }
            let location = if is_url(&written) {
                Location::Url(written.clone())
            } else {
                Location::Path(base.join(&written))
            };
            entries.push(Entry {
                name,
                written,
                location,
                line,
            });
        }
        let digest = digest(&entries);
        Ok(RepoList { entries, digest })
    }

    /// The entries of shard `shard`, in list order.
    pub fn shard(&self, shard: Shard) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| shard_of(&e.name, shard.count) == shard.index)
            .collect()
    }
}

/// Shard `index` of `count`, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole list as one shard.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Parse `I/N` (1 <= I <= N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let problem = || format!("shard {text:?}: expected I/N with 1 <= I <= N, e.g. 1/4");
        let (index, count) = text.trim().split_once('/').ok_or_else(problem)?;
        let index: u32 = index.trim().parse().map_err(|_| problem())?;
        let count: u32 = count.trim().parse().map_err(|_| problem())?;
        if index == 0 || index > count {
            return Err(problem());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (1-based) a repository name falls in: the first 8 bytes of its SHA-256, big
/// endian, modulo `count`. Stable across machines, versions and list orders.
pub fn shard_of(name: &str, count: u32) -> u32 {
    let hash = Sha256::digest(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32 + 1
}

/// Whether a location is a clone URL rather than a local path.
pub fn is_url(location: &str) -> bool {
    if let Some((scheme, _)) = location.split_once("://") {
        return !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    }
    // scp-like `user@host:path` or `host:path` (git's rule: a colon before any slash).
    match location.find(':') {
        Some(colon) => {
            let before = &location[..colon];
            !before.is_empty() && !before.contains('/') && colon + 1 < location.len()
        }
        None => false,
    }
}

/// The name of a repository when the list gives none: a URL's host and path
/// (`github.com/org/app`), a path's last component; without `.git`.
pub fn default_name(location: &str) -> String {
    let text = location.trim_end_matches('/');
    let text = if let Some((_, rest)) = text.split_once("://") {
        // scheme://[user@]host[:port]/path
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let host = host.split(':').next().unwrap_or(host);
        format!("{host}/{path}")
    } else if is_url(text) {
        // [user@]host:path
        let (authority, path) = text.split_once(':').unwrap_or((text, ""));
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        format!("{host}/{}", path.trim_start_matches('/'))
    } else {
        Path::new(text)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| text.to_string())
    };
    let text = text.strip_suffix(".git").unwrap_or(&text);
    let text = text.trim_matches('/');
    if text.is_empty() {
        "repository".to_string()
    } else {
        text.to_string()
    }
}

/// A name becomes a path prefix: no empty, `.` or `..` components, no control characters.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().any(char::is_control) || name.contains('\\') {
        return Err(format!("{name:?} cannot be a repository name"));
    }
    if name
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(format!(
            "{name:?} cannot be a repository name (empty, `.` or `..` component)"
        ));
    }
    Ok(())
}

/// `sha256:<hex>` of `name TAB location` lines sorted by name.
fn digest(entries: &[Entry]) -> String {
    let mut lines: Vec<String> = entries
        .iter()
        .map(|e| format!("{}\t{}\n", e.name, e.written))
        .collect();
    lines.sort();
    let hash = Sha256::digest(lines.concat().as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// How long a clone may take before it is stopped and listed as failed.
pub const CLONE_TIMEOUT: Duration = Duration::from_secs(3600);

/// Clone `url` bare into `into` (which must not exist), with git's own credentials and no
/// prompt. `stop` ends it early (a signal). Errors are git's own message.
pub fn clone_bare(url: &str, into: &Path, stop: &AtomicBool) -> Result<(), String> {
    let mut command = Command::new("git");
    command
        .args(["clone", "--bare", "--quiet", "--no-tags", "--"])
        .arg(url)
        .arg(into)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        // Fail instead of asking for a passphrase or a host key confirmation.
        command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot run git: {error}"))?;
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(stderr, &mut text);
        }
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if stop.load(Ordering::Relaxed) => break Err("interrupted".to_string()),
            Ok(None) if started.elapsed() > CLONE_TIMEOUT => {
                break Err(format!("timed out after {} s", CLONE_TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(error) => break Err(format!("cannot wait for git: {error}")),
        }
    };
    if status.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let message = reader.join().unwrap_or_default();
    match status? {
        status if status.success() => Ok(()),
        status => {
            let message = message
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            Err(if message.is_empty() {
                format!("git clone failed ({status})")
            } else {
                message
            })
        }
    }
}

/// The directory a repository is cloned into under the work directory: its name with `/`
/// made `__`, so names never nest.
pub fn clone_dir(workdir: &Path, name: &str) -> PathBuf {
    workdir.join(format!("{}.git", name.replace('/', "__")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        for url in [
            "https://github.com/org/app.git",
            "ssh://git@host:22/org/app",
            "git@github.com:org/app.git",
            "file:///srv/git/app.git",
        ] {
            assert!(is_url(url), "{url}");
        }
        for path in ["/srv/app", "repos/app.git", "./a:b", "C"] {
            assert!(!is_url(path), "{path}");
        }
    }

    #[test]
    fn default_names() {
        assert_eq!(
            default_name("https://github.com/org/app.git"),
            "github.com/org/app"
        );
        assert_eq!(
            default_name("git@github.com:org/app.git"),
            "github.com/org/app"
        );
        assert_eq!(default_name("ssh://git@host:2222/org/app/"), "host/org/app");
        assert_eq!(default_name("https://user:pw@host/x"), "host/x");
        assert_eq!(default_name("/srv/git/app.git"), "app");
        assert_eq!(default_name("work/app"), "app");
    }

    #[test]
    fn lists_parse_and_reject() {
        let list = RepoList::parse(
            "# org\n\n/srv/a\nhttps://h/org/b.git  org/b\n",
            Path::new("/base"),
        )
        .unwrap();
        assert_eq!(list.entries.len(), 2);
        assert_eq!(list.entries[0].name, "a");
        assert_eq!(list.entries[1].name, "org/b");
        assert_eq!(list.entries[1].line, 4);
        let reordered =
            RepoList::parse("https://h/org/b.git org/b\n/srv/a\n", Path::new("/x")).unwrap();
        assert_eq!(list.digest, reordered.digest);
        assert_eq!(
            RepoList::parse("/a x\n/b x\n", Path::new("/"))
                .unwrap_err()
                .0,
            2
        );
        assert!(RepoList::parse("/a ../x\n", Path::new("/")).is_err());
        assert!(RepoList::parse("/a b c\n", Path::new("/")).is_err());
        let relative = RepoList::parse("repos/app\n", Path::new("/lists")).unwrap();
        assert_eq!(
            relative.entries[0].location,
            Location::Path(PathBuf::from("/lists/repos/app"))
        );
    }

    #[test]
    fn shards_cover_the_list_once() {
        let text: String = (0..200).map(|i| format!("/r/{i} repo-{i}\n")).collect();
        let list = RepoList::parse(&text, Path::new("/")).unwrap();
        let mut seen = std::collections::HashSet::new();
        for index in 1..=4 {
            for entry in list.shard(Shard { index, count: 4 }) {
                assert!(seen.insert(entry.name.clone()));
            }
            // Roughly even: each shard has a fair share of 200.
            assert!(list.shard(Shard { index, count: 4 }).len() > 25);
        }
        assert_eq!(seen.len(), 200);
        assert_eq!(shard_of("org/app", 1), 1);
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1", "a/b", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
