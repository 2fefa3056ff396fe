//! Turning the parsed command line, the optional settings file (`keysweep.toml`) and the
//! environment into one immutable [`Config`]. Nothing after [`Config::resolve`] reads the parsed
//! flags or the environment. No scanning and no network here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::cli::{self, Cli, ColorChoice, Command, OutputArgs, RuleFileArgs, VerifyArgs, WalkArgs};
use crate::report::{Format, OutputSpec, RenderOptions};
use crate::source::fs::FsOptions;
use crate::source::git::GitTuning;
use crate::verify;

/// Everything one run needs.
#[derive(Clone, Debug)]
pub struct Config {
    /// What to do.
    pub job: Job,
    /// Where reports go: the primary (`--format`/`-o`) first, then each `--report`.
    pub outputs: Vec<OutputSpec>,
    /// Where verification may look, and its limits.
    pub verify: verify::Options,
    /// Extra rule files (the `--config` file's `[[rule]]`/`[[kind]]` tables).
    pub rule_files: Vec<PathBuf>,
    /// Fingerprints to drop.
    pub baseline: Option<PathBuf>,
    /// Worker threads.
    pub threads: usize,
    /// Blobs larger than this are skipped and listed.
    pub max_file_size: u64,
    /// Print phase times and memory on stderr (`KEYSWEEP_TIMING`).
    pub timing: bool,
    /// Any skipped input makes the run fail (exit 2).
    pub strict: bool,
}

/// One variant per command.
#[derive(Clone, Debug)]
pub enum Job {
    /// `keysweep scan`: directories and files.
    Scan(WalkJob),
    /// `keysweep baseline`: a scan whose fingerprints are written to `output`.
    Baseline { walk: WalkJob, output: PathBuf },
    /// `keysweep git`: history.
    Git(GitJob),
    /// `keysweep staged`: the index.
    Staged(StagedJob),
    /// `keysweep jwks audit`.
    JwksAudit(AuditJob),
    /// `keysweep rules list|check`.
    Rules(RulesJob),
}

/// What to walk.
#[derive(Clone, Debug)]
pub struct WalkJob {
    pub paths: Vec<PathBuf>,
    pub fs: FsOptions,
}

/// Which history to read.
#[derive(Clone, Debug)]
pub struct GitJob {
    pub repo: PathBuf,
    /// `BASE..HEAD`: only what the range adds.
    pub range: Option<String>,
    /// Also objects no ref reaches.
    pub all_objects: bool,
    /// Cache sizes for the git reader.
    pub tuning: GitTuning,
}

/// Which index to read.
#[derive(Clone, Debug)]
pub struct StagedJob {
    pub repo: PathBuf,
    /// `GIT_INDEX_FILE`, made absolute (git resolves it against the current directory).
    pub index_file: Option<PathBuf>,
}

/// A key set to audit.
#[derive(Clone, Debug)]
pub struct AuditJob {
    /// A JWKS URL, an OIDC issuer URL, or a file.
    pub source: String,
    /// Thumbprints of the keys that may be published.
    pub pins: Vec<String>,
}

/// `keysweep rules ...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RulesJob {
    List,
    Check,
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

/// What the command line says about output, verification and rules, whatever the command.
struct Common<'a> {
    output: Option<&'a OutputArgs>,
    verify: Option<&'a VerifyArgs>,
    rule_files: &'a RuleFileArgs,
    threads: Option<usize>,
    max_file_size: u64,
}

/// The environment, read once.
struct Environment {
    no_color: bool,
    stdout_is_terminal: bool,
    timing: bool,
    index_file: Option<PathBuf>,
    object_cache_mb: Option<usize>,
    pack_cache_mb: Option<usize>,
}

impl Environment {
    fn read() -> anyhow::Result<Environment> {
        let megabytes = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.trim().parse::<usize>().ok())
        };
        let index_file = match std::env::var_os("GIT_INDEX_FILE").map(PathBuf::from) {
            Some(path) if path.is_relative() => Some(
                std::env::current_dir()
                    .context("cannot read the current directory")?
                    .join(path),
            ),
            other => other,
        };
        Ok(Environment {
            no_color: std::env::var_os("NO_COLOR").is_some(),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            timing: std::env::var_os("KEYSWEEP_TIMING").is_some(),
            index_file,
            object_cache_mb: megabytes("KEYSWEEP_OBJECT_CACHE_MB"),
            pack_cache_mb: megabytes("KEYSWEEP_PACK_CACHE_MB"),
        })
    }
}

/// The default blob size limit for commands without `--max-file-size`.
const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;

impl Config {
    /// Resolve the command line, the settings file and the environment into one run's config.
    pub fn resolve(cli: Cli) -> anyhow::Result<Config> {
        let env = Environment::read()?;
        let (job, common) = match &cli.command {
            Command::Scan(args) => (
                Job::Scan(walk_job(&args.walk, args.output.threads)),
                Common {
                    output: Some(&args.output),
                    verify: Some(&args.verify),
                    rule_files: &args.rule_files,
                    threads: args.output.threads,
                    max_file_size: args.walk.max_file_size,
                },
            ),
            Command::Baseline(args) => (
                Job::Baseline {
                    walk: walk_job(&args.walk, args.threads),
                    output: args.output.clone(),
                },
                Common {
                    output: None,
                    verify: None,
                    rule_files: &args.rule_files,
                    threads: args.threads,
                    max_file_size: args.walk.max_file_size,
                },
            ),
            Command::Git(args) => (
                Job::Git(GitJob {
                    repo: args.repo.clone(),
                    range: args.range.clone(),
                    all_objects: args.all_objects,
                    tuning: GitTuning {
                        object_cache_mb: env.object_cache_mb,
                        pack_cache_mb: env.pack_cache_mb,
                        timing: env.timing,
                    },
                }),
                Common {
                    output: Some(&args.output),
                    verify: Some(&args.verify),
                    rule_files: &args.rule_files,
                    threads: args.output.threads,
                    max_file_size: args.max_file_size,
                },
            ),
            Command::Staged(args) => (
                Job::Staged(StagedJob {
                    repo: args.repo.clone(),
                    index_file: env.index_file.clone(),
                }),
                Common {
                    output: Some(&args.output),
                    verify: Some(&args.verify),
                    rule_files: &args.rule_files,
                    threads: args.output.threads,
                    max_file_size: DEFAULT_MAX_FILE_SIZE,
                },
            ),
            Command::Jwks {
                action: cli::JwksAction::Audit(args),
            } => (
                Job::JwksAudit(AuditJob {
                    source: args.source.clone(),
                    pins: args.pins.clone(),
                }),
                Common {
                    output: Some(&args.output),
                    verify: Some(&args.verify),
                    rule_files: &RuleFileArgs::default(),
                    threads: args.output.threads,
                    max_file_size: DEFAULT_MAX_FILE_SIZE,
                },
            ),
            Command::Rules { action, rule_files } => (
                Job::Rules(match action {
                    cli::RulesAction::List => RulesJob::List,
                    cli::RulesAction::Check => RulesJob::Check,
                }),
                Common {
                    output: None,
                    verify: None,
                    rule_files,
                    threads: None,
                    max_file_size: DEFAULT_MAX_FILE_SIZE,
                },
            ),
        };
        let file = match &common.rule_files.config {
            Some(path) => read_settings(path)?,
            None => FileSettings::default(),
        };
        let default_verify = VerifyArgs::default();
        Ok(Config {
            job,
            outputs: match common.output {
                Some(args) => outputs(args, &env)?,
                None => Vec::new(),
            },
            verify: verify_options(common.verify.unwrap_or(&default_verify), file.verify),
            rule_files: common.rule_files.config.iter().cloned().collect(),
            baseline: common.output.and_then(|o| o.baseline.clone()),
            threads: threads(common.threads),
            max_file_size: common.max_file_size,
            timing: env.timing,
            strict: common.output.is_some_and(|o| o.strict),
        })
    }
}

fn walk_job(walk: &WalkArgs, requested_threads: Option<usize>) -> WalkJob {
    WalkJob {
        paths: walk.paths.clone(),
        fs: FsOptions {
            no_ignore: walk.no_ignore,
            follow_links: walk.follow_links,
            max_file_size: walk.max_file_size,
            threads: threads(requested_threads),
        },
    }
}

/// The primary report (`--format`, `-o`) and every `--report FORMAT:FILE`.
fn outputs(args: &OutputArgs, env: &Environment) -> anyhow::Result<Vec<OutputSpec>> {
    let mut specs = vec![output_spec(args.format, args.output.clone(), args, env)];
    for report in &args.reports {
        let Some((format, path)) = report.split_once(':') else {
            bail!("--report {report}: expected FORMAT:FILE, e.g. sarif:keysweep.sarif");
        };
        let format = <Format as clap::ValueEnum>::from_str(format, true)
            .map_err(|_| anyhow::anyhow!("--report {report}: unknown format {format:?}"))?;
        let path = (path != "-").then(|| PathBuf::from(path));
        specs.push(output_spec(format, path, args, env));
    }
    let mut stdout_reports = specs.iter().filter(|spec| spec.path.is_none()).count();
    if stdout_reports > 1 && args.output.is_none() && !args.reports.is_empty() {
        // `--report FORMAT:-` takes standard output from the default human report.
        specs.remove(0);
        stdout_reports -= 1;
    }
    if stdout_reports > 1 {
        bail!("only one report can go to standard output");
    }
    Ok(specs)
}

fn output_spec(
    format: Format,
    path: Option<PathBuf>,
    args: &OutputArgs,
    env: &Environment,
) -> OutputSpec {
    let to_terminal = path.is_none() && env.stdout_is_terminal;
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && !env.no_color && format == Format::Human,
    };
    OutputSpec {
        path,
        render: RenderOptions {
            format,
            show_secrets: args.show_secrets,
            color,
        },
    }
}

fn read_settings(path: &Path) -> anyhow::Result<FileSettings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: invalid settings", path.display()))
}

/// Merge verification flags with the settings file (flags win; lists add up).
fn verify_options(flags: &VerifyArgs, file: FileVerify) -> verify::Options {
    let defaults = verify::Options::default();
    let mut jwks = file.jwks;
    jwks.extend(flags.jwks.iter().cloned());
    let mut issuers = file.issuers;
    issuers.extend(flags.issuers.iter().cloned());
    verify::Options {
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

/// Worker threads: as asked, else one per CPU.
fn threads(requested: Option<usize>) -> usize {
    requested
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}
