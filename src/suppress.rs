//! Suppression: inline allow comments, baselines and `.keysweepignore` files (fingerprints and
//! path globs, never secrets), and the settings file's allow-lists (paths, secret regexes).
//!
//! A fingerprint names one finding (one kind and key or secret), so a different secret on a
//! line whose finding is ignored is still reported. A path glob silences every location under
//! it; a finding left without locations is dropped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Location};

/// The marker that silences findings on its line (or on the line after it).
pub const ALLOW_MARKER: &[u8] = b"keysweep:allow";

/// The ignore file discovered at the scan or repository root.
pub const IGNORE_FILE_NAME: &str = ".keysweepignore";

/// Whether a line carries an inline allow comment.
pub fn line_allows(line: &[u8]) -> bool {
    memchr::memmem::find(line, ALLOW_MARKER).is_some()
}

/// A baseline: the fingerprints of findings that were accepted when it was written.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub tool: String,
    pub fingerprints: BTreeSet<String>,
}

impl Baseline {
    /// Read a baseline file written by `keysweep baseline`.
    pub fn read(path: &Path) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read baseline {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a keysweep baseline", path.display()))
    }

    /// A baseline accepting every given finding.
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        Baseline {
            tool: "keysweep".to_string(),
            fingerprints: findings.iter().map(|f| f.fingerprint.clone()).collect(),
        }
    }
}

/// What to suppress, as the config resolved it (nothing read yet).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--baseline` / `baseline =`.
    pub baseline: Option<PathBuf>,
    /// `--ignore-file`, or the `.keysweepignore` found at the root.
    pub ignore_file: Option<PathBuf>,
    /// `[allow] paths`: globs, relative to `root`.
    pub allow_paths: Vec<String>,
    /// `[allow] regexes`: a finding whose secret matches one is dropped.
    pub allow_regexes: Vec<String>,
    /// `[allow] fingerprints`.
    pub fingerprints: Vec<String>,
    /// The absolute directory path globs are relative to (the repository or scan root).
    pub root: Option<PathBuf>,
    /// What to put before a location's path to make it relative to `root` (`sub/` when the
    /// scan root is `root/sub`), empty when they are the same.
    pub prefix: String,
}

/// The loaded suppression rules of one run.
#[derive(Debug, Default)]
pub struct Suppression {
    fingerprints: BTreeSet<String>,
    paths: Option<GlobSet>,
    regexes: Vec<regex::Regex>,
    root: Option<PathBuf>,
    prefix: String,
}

impl Suppression {
    /// Read the baseline and ignore file and compile the globs and regexes.
    pub fn load(options: &Options) -> anyhow::Result<Suppression> {
        let mut fingerprints: BTreeSet<String> = options
            .fingerprints
            .iter()
            .map(|f| f.to_ascii_lowercase())
            .collect();
        if let Some(path) = &options.baseline {
            fingerprints.extend(Baseline::read(path)?.fingerprints);
        }
        let mut globs = options.allow_paths.clone();
        if let Some(path) = &options.ignore_file {
            let ignore = IgnoreFile::read(path)?;
            fingerprints.extend(ignore.fingerprints);
            globs.extend(ignore.globs);
        }
        let regexes = options
            .allow_regexes
            .iter()
            .map(|r| regex::Regex::new(r).with_context(|| format!("[allow] regexes: {r:?}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Suppression {
            fingerprints,
            paths: compile_globs(&globs)?,
            regexes,
            root: options.root.clone(),
            prefix: options.prefix.clone(),
        })
    }

    /// Whether the whole finding is suppressed: its fingerprint is listed, or its secret
    /// matches an allowed regex.
    pub fn drops(&self, finding: &Finding) -> bool {
        self.fingerprints.contains(&finding.fingerprint)
            || self.regexes.iter().any(|r| r.is_match(&finding.raw_secret))
    }

    /// Whether one location is suppressed: an inline allow comment, or an allowed path.
    pub fn location_allowed(&self, location: &Location) -> bool {
        location.allowed || self.path_allowed(&location.path)
    }

    /// Whether a location path (as reports show it) matches an allowed glob.
    pub fn path_allowed(&self, path: &str) -> bool {
        let Some(globs) = &self.paths else {
            return false;
        };
        if let Some(root) = &self.root
            && Path::new(path).is_absolute()
        {
            return Path::new(path)
                .strip_prefix(root)
                .is_ok_and(|rest| globs.is_match(rest));
        }
        let path = path.strip_prefix("./").unwrap_or(path);
        globs.is_match(format!("{}{path}", self.prefix))
    }
}

/// Drop suppressed locations, then findings left without locations or suppressed as a whole.
pub fn apply(findings: Vec<Finding>, suppression: &Suppression) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut finding| {
            finding
                .locations
                .retain(|l| !suppression.location_allowed(l));
            (!finding.locations.is_empty() && !suppression.drops(&finding)).then_some(finding)
        })
        .collect()
}

/// A parsed `.keysweepignore`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct IgnoreFile {
    /// Finding fingerprints (32 hexadecimal digits), lowercase.
    pub fingerprints: Vec<String>,
    /// Path globs, as written.
    pub globs: Vec<String>,
}

impl IgnoreFile {
    /// Read and parse an ignore file.
    pub fn read(path: &Path) -> anyhow::Result<IgnoreFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read ignore file {}", path.display()))?;
        IgnoreFile::parse(&text).with_context(|| format!("{}: invalid ignore file", path.display()))
    }

    /// One entry per line: a fingerprint or a path glob, optionally followed by a `#` comment;
    /// blank lines and lines starting with `#` are skipped.
    pub fn parse(text: &str) -> anyhow::Result<IgnoreFile> {
        let mut out = IgnoreFile::default();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let mut words = line.split_whitespace();
            let Some(entry) = words.next().filter(|w| !w.starts_with('#')) else {
                continue;
            };
            if let Some(extra) = words.next().filter(|w| !w.starts_with('#')) {
                bail!(
                    "line {number}: unexpected {extra:?} after {entry:?} (comments start with #)"
                );
            }
            if entry.starts_with('!') {
                bail!("line {number}: negated patterns ({entry}) are not supported");
            }
            if is_fingerprint(entry) {
                out.fingerprints.push(entry.to_ascii_lowercase());
            } else {
                compile_globs(&[entry.to_string()]).with_context(|| format!("line {number}"))?;
                out.globs.push(entry.to_string());
            }
        }
        Ok(out)
    }
}

/// A finding fingerprint: 32 hexadecimal digits.
fn is_fingerprint(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Compile gitignore-like globs: `/` at the start anchors at the root, a pattern without `/`
/// matches at any depth, and a pattern also matches everything under a directory it names.
fn compile_globs(patterns: &[String]) -> anyhow::Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let trimmed = pattern.trim_end_matches('/');
        let base = match trimmed.strip_prefix('/') {
            Some(anchored) => anchored.to_string(),
            None if !trimmed.contains('/') => format!("**/{trimmed}"),
            None => trimmed.to_string(),
        };
        for glob in [base.clone(), format!("{base}/**")] {
            let compiled = GlobBuilder::new(&glob)
                .literal_separator(true)
                .build()
                .with_context(|| format!("invalid path glob {pattern:?}"))?;
            builder.add(compiled);
        }
    }
    Ok(Some(
        builder.build().context("cannot compile the path globs")?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_marker_on_a_line() {
        assert!(line_allows(b"key = 'abc' # keysweep:allow"));
        assert!(!line_allows(b"key = 'abc'"));
    }

    #[test]
    fn ignore_file_lines() {
        let text =
            "# comment\n\n0123456789ABCDEF0123456789abcdef  # a test key\ntests/data/\n*.pem\n";
        let parsed = IgnoreFile::parse(text).unwrap();
        assert_eq!(parsed.fingerprints, ["0123456789abcdef0123456789abcdef"]);
        assert_eq!(parsed.globs, ["tests/data/", "*.pem"]);
        assert!(IgnoreFile::parse("a b\n").is_err());
        assert!(IgnoreFile::parse("!a\n").is_err());
        assert!(IgnoreFile::parse("a[\n").is_err());
    }

    #[test]
    fn globs_are_gitignore_like() {
        let suppression = |prefix: &str| Suppression {
            paths: compile_globs(&["tests/data/".into(), "*.pem".into(), "/top.txt".into()])
                .unwrap(),
            root: Some(PathBuf::from("/repo")),
            prefix: prefix.into(),
            ..Suppression::default()
        };
        let s = suppression("");
        assert!(s.path_allowed("tests/data/x/y.json"));
        assert!(s.path_allowed("./tests/data"));
        assert!(s.path_allowed("deep/dir/k.pem"));
        assert!(s.path_allowed("top.txt"));
        assert!(!s.path_allowed("sub/top.txt"));
        assert!(!s.path_allowed("src/tests/data/x"));
        assert!(s.path_allowed("/repo/tests/data/a"));
        assert!(!s.path_allowed("/elsewhere/tests/data/a"));
        assert!(suppression("tests/").path_allowed("data/a"));
    }
}
