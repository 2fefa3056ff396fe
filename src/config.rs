//! Turning flags, the optional `--config` file (keysweep.toml) and the environment into
//! immutable settings. No scanning and no network here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;

use crate::cli::{
    BaselineArgs, ColorChoice, OutputArgs, RuleFileArgs, ScanArgs, VerifyArgs, WalkArgs,
};
use crate::report::{Format, RenderOptions};
use crate::source::fs::FsOptions;

/// Settings every scanning command shares: rules, verification, suppression and output.
#[derive(Clone, Debug)]
pub struct RunSettings {
    pub render: RenderOptions,
    pub output: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub rule_files: Vec<PathBuf>,
    pub threads: usize,
    pub verify: VerifyConfig,
}

/// Everything `keysweep scan` needs.
#[derive(Clone, Debug)]
pub struct Config {
    pub paths: Vec<PathBuf>,
    pub fs: FsOptions,
    pub run: RunSettings,
}

/// Where verification may look, and its limits.
#[derive(Clone, Debug)]
pub struct VerifyConfig {
    /// JWKS URLs or files.
    pub jwks: Vec<String>,
    /// OIDC issuers (discovery of `jwks_uri`).
    pub issuers: Vec<String>,
    /// JWTs given by the user.
    pub tokens: Vec<String>,
    pub tokens_file: Option<PathBuf>,
    pub offline: bool,
    pub ca_cert: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub total_timeout: Duration,
    /// Largest JWKS or discovery document accepted, in bytes.
    pub max_body_bytes: u64,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            jwks: Vec::new(),
            issuers: Vec::new(),
            tokens: Vec::new(),
            tokens_file: None,
            offline: false,
            ca_cert: None,
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(10),
            max_body_bytes: 1 << 20,
        }
    }
}

/// The `keysweep.toml` file: optional `[verify]` settings; `[[rule]]`/`[[kind]]` tables are read
/// by `rules`.
#[derive(Debug, Default, Deserialize)]
struct FileSettings {
    #[serde(default)]
    verify: FileVerify,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileVerify {
    #[serde(default)]
    jwks: Vec<String>,
    #[serde(default)]
    issuers: Vec<String>,
    #[serde(default)]
    tokens_file: Option<PathBuf>,
    #[serde(default)]
    offline: Option<bool>,
    #[serde(default)]
    ca_cert: Option<PathBuf>,
    #[serde(default)]
    connect_timeout_secs: Option<u64>,
    #[serde(default)]
    total_timeout_secs: Option<u64>,
    #[serde(default)]
    max_body_bytes: Option<u64>,
}

impl Config {
    /// Resolve `keysweep scan` arguments.
    pub fn from_scan_args(args: &ScanArgs) -> anyhow::Result<Config> {
        let run = RunSettings::resolve(&args.output, &args.verify, &args.rule_files)?;
        Ok(Config::walking(&args.walk, run))
    }

    /// Resolve `keysweep baseline` arguments: a scan with no verification, no output.
    pub fn from_baseline_args(args: &BaselineArgs) -> anyhow::Result<Config> {
        let output = OutputArgs {
            format: Format::Json,
            output: None,
            threads: args.threads,
            show_secrets: false,
            baseline: None,
            color: ColorChoice::Never,
        };
        let run = RunSettings::resolve(&output, &VerifyArgs::default(), &args.rule_files)?;
        Ok(Config::walking(&args.walk, run))
    }

    fn walking(walk: &WalkArgs, run: RunSettings) -> Config {
        Config {
            paths: walk.paths.clone(),
            fs: FsOptions {
                no_ignore: walk.no_ignore,
                follow_links: walk.follow_links,
                max_file_size: walk.max_file_size,
                threads: run.threads,
            },
            run,
        }
    }
}

impl RunSettings {
    /// Merge output flags, verification flags and the `--config` file (flags win; lists add up).
    pub fn resolve(
        output: &OutputArgs,
        verify: &VerifyArgs,
        rule_files: &RuleFileArgs,
    ) -> anyhow::Result<RunSettings> {
        let file = match &rule_files.config {
            Some(path) => read_settings(path)?,
            None => FileSettings::default(),
        };
        Ok(RunSettings {
            render: render_options(output),
            output: output.output.clone(),
            baseline: output.baseline.clone(),
            rule_files: rule_files.config.iter().cloned().collect(),
            threads: threads(output.threads),
            verify: verify_config(verify, file.verify),
        })
    }
}

fn read_settings(path: &Path) -> anyhow::Result<FileSettings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: invalid settings", path.display()))
}

fn verify_config(flags: &VerifyArgs, file: FileVerify) -> VerifyConfig {
    let defaults = VerifyConfig::default();
    let mut jwks = file.jwks;
    jwks.extend(flags.jwks.iter().cloned());
    let mut issuers = file.issuers;
    issuers.extend(flags.issuers.iter().cloned());
    VerifyConfig {
        jwks,
        issuers,
        tokens: flags.tokens.clone(),
        tokens_file: flags.tokens_file.clone().or(file.tokens_file),
        offline: flags.offline || file.offline.unwrap_or(false),
        ca_cert: flags.ca_cert.clone().or(file.ca_cert),
        connect_timeout: file
            .connect_timeout_secs
            .map_or(defaults.connect_timeout, Duration::from_secs),
        total_timeout: file
            .total_timeout_secs
            .map_or(defaults.total_timeout, Duration::from_secs),
        max_body_bytes: file.max_body_bytes.unwrap_or(defaults.max_body_bytes),
    }
}

/// The rule files named on the command line.
pub fn rule_files(args: &RuleFileArgs) -> Vec<PathBuf> {
    args.config.iter().cloned().collect()
}

/// Worker threads: as asked, else one per CPU.
pub fn threads(requested: Option<usize>) -> usize {
    requested
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Format, secrets and colour for output.
pub fn render_options(args: &OutputArgs) -> RenderOptions {
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none() && args.format == Format::Human
        }
    };
    RenderOptions {
        format: args.format,
        show_secrets: args.show_secrets,
        color,
    }
}
