//! The settings file, `keysweep.toml`: where it is found, what it may say (keys mirror the long
//! flags), and reading it strictly (an unknown key is an error that names it).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

use crate::cli::parse_size;

/// The settings file discovered at the repository (or scan) root.
pub const SETTINGS_FILE_NAME: &str = "keysweep.toml";

/// The whole file. `[[rule]]`/`[[kind]]` tables are accepted here and read by `rules`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileSettings {
    /// `--fail-on`.
    pub fail_on: Option<String>,
    /// `--min-severity`.
    pub min_severity: Option<String>,
    /// `--baseline`, relative to the file.
    pub baseline: Option<PathBuf>,
    /// `--ignore-file`, relative to the file.
    pub ignore_file: Option<PathBuf>,
    /// `--max-file-size`: bytes, or text with a K/M/G suffix.
    pub max_file_size: Option<Size>,
    /// `--threads`.
    pub threads: Option<usize>,
    /// `--no-ignore`.
    pub no_ignore: Option<bool>,
    /// `--follow-links`.
    pub follow_links: Option<bool>,
    /// `--strict`.
    pub strict: Option<bool>,
    /// Allow-lists.
    #[serde(default)]
    pub allow: FileAllow,
    /// Verification sources and limits.
    #[serde(default)]
    pub verify: FileVerify,
    /// Extra matcher rules: accepted here, read by `rules`.
    #[serde(default, rename = "rule")]
    _rules: Vec<toml::Value>,
    /// Extra finding kinds: accepted here, read by `rules`.
    #[serde(default, rename = "kind")]
    _kinds: Vec<toml::Value>,
}

/// `[allow]`: what is never reported.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileAllow {
    /// Path globs (as in `.keysweepignore`), relative to the repository root.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes matched against each finding's secret.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Finding fingerprints.
    #[serde(default)]
    pub fingerprints: Vec<String>,
}

/// `[verify]`: the verification flags (kebab-case as the flags, snake_case still accepted).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileVerify {
    #[serde(default)]
    pub jwks: Vec<String>,
    #[serde(default, alias = "issuer")]
    pub issuers: Vec<String>,
    #[serde(default, alias = "tokens_file")]
    pub tokens_file: Option<PathBuf>,
    #[serde(default)]
    pub offline: Option<bool>,
    #[serde(default, alias = "ca_cert")]
    pub ca_cert: Option<PathBuf>,
    #[serde(default, alias = "connect_timeout_secs")]
    pub connect_timeout_secs: Option<u64>,
    #[serde(default, alias = "total_timeout_secs")]
    pub total_timeout_secs: Option<u64>,
    #[serde(default, alias = "max_body_bytes")]
    pub max_body_bytes: Option<u64>,
}

/// A size in the file: `1048576` or `"1M"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Bytes(u64),
    Text(String),
}

impl Size {
    /// The size in bytes.
    pub fn bytes(&self) -> anyhow::Result<u64> {
        match self {
            Size::Bytes(n) => Ok(*n),
            Size::Text(text) => parse_size(text).map_err(|e| anyhow::anyhow!("max-file-size: {e}")),
        }
    }
}

/// The settings of one run: the file's content and where it was.
#[derive(Debug, Default)]
pub struct Settings {
    pub file: FileSettings,
    /// The file read, if any (it also goes to the rule loader).
    pub path: Option<PathBuf>,
}

impl Settings {
    /// Read `path`, failing with its name and the offending key on any error.
    pub fn read(path: &Path) -> anyhow::Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut file: FileSettings = toml::from_str(&text)
            .with_context(|| format!("{}: invalid settings", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for slot in [
            &mut file.baseline,
            &mut file.ignore_file,
            &mut file.verify.tokens_file,
            &mut file.verify.ca_cert,
        ] {
            if let Some(relative) = slot.as_ref().filter(|p| p.is_relative()) {
                *slot = Some(base.join(relative));
            }
        }
        Ok(Settings {
            file,
            path: Some(path.to_path_buf()),
        })
    }

    /// The file named with `--config`, else `keysweep.toml` in `root` (unless `--no-config`).
    pub fn find(
        explicit: Option<&Path>,
        root: Option<&Path>,
        no_config: bool,
    ) -> anyhow::Result<Settings> {
        if let Some(path) = explicit {
            return Settings::read(path);
        }
        match root.map(|r| r.join(SETTINGS_FILE_NAME)) {
            Some(path) if !no_config && path.is_file() => Settings::read(&path),
            _ => Ok(Settings::default()),
        }
    }
}

/// The directory settings and ignore files are looked for in: the root of the git work tree
/// holding `start` (a directory or `.git` file found going up), else `start` itself (its
/// directory when it is a file). Absolute and canonical; `None` when `start` does not exist.
pub fn discovery_root(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    let dir = if start.is_dir() {
        start
    } else {
        start.parent()?.to_path_buf()
    };
    let repo_root = dir
        .ancestors()
        .find(|candidate| candidate.join(".git").exists())
        .map(Path::to_path_buf);
    Some(repo_root.unwrap_or(dir))
}

/// `dir` relative to `root` as a glob prefix (`sub/dir/`), empty when equal or unrelated.
pub fn prefix_under(root: &Path, dir: &Path) -> String {
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return String::new();
    };
    match dir.strip_prefix(root) {
        Ok(rest) if !rest.as_os_str().is_empty() => {
            let mut text = rest
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            text.push('/');
            text
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let error = toml::from_str::<FileSettings>("fail-on = \"high\"\ncolour = 1\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("colour"), "{error}");
        let error = toml::from_str::<FileSettings>("[allow]\npath = []\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("path"), "{error}");
    }

    #[test]
    fn keys_mirror_the_flags() {
        let file: FileSettings = toml::from_str(
            "fail-on = \"live\"\nmax-file-size = \"1M\"\nno-ignore = true\n\
             [verify]\ntokens-file = \"t\"\nconnect_timeout_secs = 3\n\
             [[rule]]\nid = \"x\"\n",
        )
        .unwrap();
        assert_eq!(file.fail_on.as_deref(), Some("live"));
        assert_eq!(file.max_file_size.unwrap().bytes().unwrap(), 1 << 20);
        assert_eq!(file.verify.connect_timeout_secs, Some(3));
        assert_eq!(file._rules.len(), 1);
    }
}
