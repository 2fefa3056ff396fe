//! Turning the parsed command line, the optional settings file (`keysweep.toml`) and the
//! environment into one immutable [`Config`]. Nothing after [`Config::resolve`] reads the parsed
//! flags or the environment. No scanning and no network here.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::cli::{self, Cli, ColorChoice, Command, OutputArgs, RuleFileArgs, VerifyArgs};
use crate::finding::{Finding, Severity, Status};
use crate::report::{Format, OutputSpec, RenderOptions};
use crate::seal::SealKey;
use crate::source::fs::FsOptions;
use crate::source::git::GitTuning;
use crate::source::repos::Shard;
use crate::suppress;
use crate::verify;

mod jobs;
mod settings;

pub use jobs::DEFAULT_ARCHIVE_DEPTH;
pub use jobs::{HookJob, HookMode, InstallJob};
pub use settings::SETTINGS_FILE_NAME;
use settings::{FileSettings, FileVerify, Settings};

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
    /// Baseline, ignore file and allow-lists.
    pub suppress: suppress::Options,
    /// `--fail-on`: only findings at or above it make exit 1 (all findings when unset).
    pub fail_on: Option<FailOn>,
    /// Worker threads.
    pub threads: usize,
    /// Blobs larger than this are skipped and listed.
    pub max_file_size: u64,
    /// Print phase times and memory on stderr (`KEYSWEEP_TIMING`).
    pub timing: bool,
    /// Any skipped input makes the run fail (exit 2).
    pub strict: bool,
    /// List binary (unscanned) inputs on stderr.
    pub verbose: bool,
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
    /// `keysweep sweep`: a forensic sweep.
    Sweep(SweepJob),
    /// `keysweep git --repos FILE`: many repositories, one shard of them.
    Repos(ReposJob),
    /// `keysweep merge`: per-shard reports into one.
    Merge(MergeJob),
    /// `keysweep jwks audit`.
    JwksAudit(AuditJob),
    /// `keysweep rules list|check`.
    Rules(RulesJob),
    /// `keysweep hook`: the pre-commit framework's entry.
    Hook(HookJob),
    /// `keysweep install-hook`.
    InstallHook(InstallJob),
    /// `keysweep uninstall-hook`.
    UninstallHook(InstallJob),
}

/// `--fail-on`: a severity or verification-status threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    /// Findings of this severity or worse.
    Severity(Severity),
    /// Findings whose status is this or greater (`unverified` < `not-live` < `error` <
    /// `known-example` < `weak-secret` < `signs-token` < `live`).
    Status(Status),
}

impl FailOn {
    /// Parse a severity or status name.
    pub fn parse(text: &str) -> anyhow::Result<FailOn> {
        let text = text.trim().to_ascii_lowercase();
        let severities = [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ];
        if let Some(severity) = severities.into_iter().find(|s| s.as_str() == text) {
            return Ok(FailOn::Severity(severity));
        }
        let statuses = [
            Status::Unverified,
            Status::NotLive,
            Status::Error,
            Status::KnownExample,
            Status::WeakSecret,
            Status::SignsToken,
            Status::Live,
        ];
        match statuses.into_iter().find(|s| s.as_str() == text) {
            Some(status) => Ok(FailOn::Status(status)),
            None => bail!(
                "fail-on {text:?}: expected a severity (low, medium, high, critical) or a status \
                 (unverified, not-live, error, known-example, weak-secret, signs-token, live)"
            ),
        }
    }

    /// Whether `finding` reaches the threshold.
    pub fn fails(self, finding: &Finding) -> bool {
        match self {
            FailOn::Severity(severity) => finding.rated_severity() >= severity,
            FailOn::Status(status) => finding.verification.status >= status,
        }
    }
}

impl std::fmt::Display for FailOn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FailOn::Severity(severity) => f.write_str(severity.as_str()),
            FailOn::Status(status) => f.write_str(status.as_str()),
        }
    }
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

/// What a forensic sweep covers, and who runs it where (for the evidence record).
#[derive(Clone, Debug)]
pub struct SweepJob {
    /// Directories to sweep (absolute).
    pub roots: Vec<PathBuf>,
    /// Threads and size limit for the walk (ignore rules never apply).
    pub fs: FsOptions,
    pub cross_filesystems: bool,
    /// Scan the history of every git repository met.
    pub history: bool,
    /// Open archives, down to this depth (`None`: archives are not opened).
    pub archive_depth: Option<u32>,
    /// Cache sizes for the git reader.
    pub tuning: GitTuning,
    /// Show progress on stderr (a terminal, and no `--quiet`).
    pub progress: bool,
    pub host: String,
    pub user: String,
    /// A pause before each file (`KEYSWEEP_TEST_FILE_DELAY_MS`, for tests that interrupt a
    /// sweep partway).
    pub file_delay: Option<Duration>,
}

/// `keysweep git --repos FILE [--shard I/N]`.
#[derive(Clone, Debug)]
pub struct ReposJob {
    /// The repository list.
    pub list: PathBuf,
    /// Which part of the list this run scans.
    pub shard: Shard,
    /// Where clones go (`None`: a new temporary directory, removed at the end).
    pub workdir: Option<PathBuf>,
    /// Keep clones once scanned.
    pub keep: bool,
    /// Also objects no ref reaches.
    pub all_objects: bool,
    pub tuning: GitTuning,
    /// For the run record.
    pub host: String,
    pub user: String,
}

/// `keysweep merge FILE...`.
#[derive(Clone, Debug)]
pub struct MergeJob {
    pub files: Vec<PathBuf>,
    /// Opens the secrets the shards sealed (`KEYSWEEP_SHARD_KEY`).
    pub seal: Option<SealKey>,
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

/// What the command line says about output, verification and rules, whatever the command.
struct Common<'a> {
    output: Option<&'a OutputArgs>,
    verify: Option<&'a VerifyArgs>,
    rule_files: &'a RuleFileArgs,
    threads: Option<usize>,
    max_file_size: Option<u64>,
    /// Where `keysweep.toml` and `.keysweepignore` are looked for (from here up to the
    /// repository root); `None`: nowhere.
    discover_from: Option<PathBuf>,
    /// The directory report paths are relative to, when it is not the discovery root.
    paths_relative_to: Option<PathBuf>,
}

/// The environment, read once.
struct Environment {
    no_color: bool,
    stdout_is_terminal: bool,
    timing: bool,
    index_file: Option<PathBuf>,
    object_cache_mb: Option<usize>,
    pack_cache_mb: Option<usize>,
    /// `KEYSWEEP_WINDOW_BYTES`: the read window for large files (tests use a small one).
    window_bytes: Option<usize>,
    /// `PRE_COMMIT_FROM_REF` and `PRE_COMMIT_TO_REF` (pre-commit's pre-push stage).
    pre_commit_range: Option<(String, String)>,
    /// `$XDG_CONFIG_HOME`, else `$HOME/.config`.
    config_home: Option<PathBuf>,
    /// `$HOME`.
    home: Option<PathBuf>,
    stderr_is_terminal: bool,
    /// `$USER`, else `$LOGNAME`, else the numeric user id.
    user: String,
    host: String,
    file_delay: Option<Duration>,
    /// `KEYSWEEP_SHARD` (`I/N`), else `JOB_COMPLETION_INDEX` (0-based) with
    /// `KEYSWEEP_SHARD_COUNT`.
    shard: Option<Result<Shard, String>>,
    /// `KEYSWEEP_SHARD_KEY`.
    seal: Option<Result<SealKey, crate::seal::SealError>>,
}

impl Environment {
    fn read() -> anyhow::Result<Environment> {
        let number = |name: &str| {
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
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let pre_commit_range = non_empty("PRE_COMMIT_FROM_REF").zip(non_empty("PRE_COMMIT_TO_REF"));
        let home = std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let config_home = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".config")));
        Ok(Environment {
            no_color: std::env::var_os("NO_COLOR").is_some(),
            stdout_is_terminal: std::io::stdout().is_terminal(),
            timing: std::env::var_os("KEYSWEEP_TIMING").is_some(),
            index_file,
            object_cache_mb: number("KEYSWEEP_OBJECT_CACHE_MB"),
            pack_cache_mb: number("KEYSWEEP_PACK_CACHE_MB"),
            window_bytes: number("KEYSWEEP_WINDOW_BYTES"),
            pre_commit_range,
            config_home,
            home,
            stderr_is_terminal: std::io::stderr().is_terminal(),
            user: user_name(),
            host: host_name(),
            file_delay: number("KEYSWEEP_TEST_FILE_DELAY_MS")
                .map(|ms| Duration::from_millis(ms as u64)),
            shard: shard_from_env(&non_empty),
            seal: non_empty(crate::seal::KEY_VARIABLE).map(|key| SealKey::derive(&key)),
        })
    }

    fn git_tuning(&self) -> GitTuning {
        GitTuning {
            object_cache_mb: self.object_cache_mb,
            pack_cache_mb: self.pack_cache_mb,
            timing: self.timing,
        }
    }
}

/// The shard a batch engine assigned: `KEYSWEEP_SHARD=I/N`, else Kubernetes' 0-based
/// `JOB_COMPLETION_INDEX` with `KEYSWEEP_SHARD_COUNT=N`.
fn shard_from_env(non_empty: &dyn Fn(&str) -> Option<String>) -> Option<Result<Shard, String>> {
    if let Some(text) = non_empty("KEYSWEEP_SHARD") {
        return Some(Shard::parse(&text).map_err(|e| format!("KEYSWEEP_SHARD: {e}")));
    }
    let index = non_empty("JOB_COMPLETION_INDEX")?;
    let Some(count) = non_empty("KEYSWEEP_SHARD_COUNT") else {
        return Some(Err(
            "JOB_COMPLETION_INDEX is set but KEYSWEEP_SHARD_COUNT is not: set it to the number of completions"
                .to_string(),
        ));
    };
    let parsed = index
        .trim()
        .parse::<u32>()
        .ok()
        .and_then(|i| i.checked_add(1));
    Some(match parsed {
        Some(index) => Shard::parse(&format!("{index}/{}", count.trim()))
            .map_err(|e| format!("JOB_COMPLETION_INDEX={index} KEYSWEEP_SHARD_COUNT={count}: {e}")),
        None => Err(format!("JOB_COMPLETION_INDEX={index}: expected a number")),
    })
}

/// The user running keysweep, for a sweep's evidence record.
fn user_name() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| {
            #[cfg(unix)]
            // SAFETY: getuid has no preconditions and cannot fail.
            let uid = unsafe { libc::getuid() };
            #[cfg(not(unix))]
            let uid = "unknown";
            format!("uid {uid}")
        })
}

/// This machine's host name, for a sweep's evidence record.
fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buffer = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
        let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
        if status == 0 {
            let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
            return String::from_utf8_lossy(&buffer[..end]).into_owned();
        }
    }
    "unknown".to_string()
}

/// The default blob size limit for commands without `--max-file-size`.
const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;

/// Walk and size settings after flags and the settings file are merged.
struct Knobs {
    threads: usize,
    max_file_size: u64,
    no_ignore: bool,
    follow_links: bool,
    window_bytes: usize,
}

impl Config {
    /// Resolve the command line, the settings file and the environment into one run's config.
    pub fn resolve(cli: Cli) -> anyhow::Result<Config> {
        let env = Environment::read()?;
        let common = common(&cli.command);
        let root = common
            .discover_from
            .as_deref()
            .and_then(settings::discovery_root);
        let no_config = common.rule_files.no_config;
        let explicit = common.rule_files.config.as_deref();
        let settings = Settings::find(explicit, root.as_deref(), no_config)?;
        let file = &settings.file;
        let knobs = knobs(&cli.command, &common, file, &env)?;
        let job = jobs::job(&cli.command, &env, &knobs)?;
        let seal = match &job {
            Job::Repos(_) | Job::Merge(_) => env.seal.clone().transpose()?,
            _ => None,
        };
        let fail_on = common
            .output
            .and_then(|o| o.fail_on.clone())
            .or_else(|| file.fail_on.clone())
            .map(|text| FailOn::parse(&text))
            .transpose()?;
        let fail_on = with_min_severity(fail_on, common.output)?;
        let suppress = suppress_options(&common, file, root, no_config);
        let strict = common.output.is_some_and(|o| o.strict) || file.strict.unwrap_or(false);
        let default_verify = VerifyArgs::default();
        let verify = verify_options(common.verify.unwrap_or(&default_verify), &file.verify);
        let mut outputs = match common.output {
            Some(args) => outputs(args, &env)?,
            None => Vec::new(),
        };
        if matches!(job, Job::Repos(_)) {
            // Shard reports seal what `merge` needs to verify across shards.
            for output in &mut outputs {
                output.seal = seal.clone();
            }
        }
        let job = match job {
            Job::Merge(merge) => Job::Merge(MergeJob { seal, ..merge }),
            other => other,
        };
        Ok(Config {
            job,
            outputs,
            verify,
            rule_files: settings.path.iter().cloned().collect(),
            suppress,
            fail_on,
            threads: knobs.threads,
            max_file_size: knobs.max_file_size,
            timing: env.timing,
            strict,
            verbose: common.output.is_some_and(|o| o.verbose),
        })
    }
}

/// Settings for commands that read no settings file.
static NO_RULE_FILES: RuleFileArgs = RuleFileArgs {
    config: None,
    no_config: true,
};

/// A command's `Common` with nothing set but its settings-file flags.
fn base(rule_files: &RuleFileArgs) -> Common<'_> {
    Common {
        output: None,
        verify: None,
        rule_files,
        threads: None,
        max_file_size: None,
        discover_from: None,
        paths_relative_to: None,
    }
}

/// What every command shares, taken from its arguments.
fn common(command: &Command) -> Common<'_> {
    match command {
        Command::Scan(args) => Common {
            output: Some(&args.output),
            verify: Some(&args.verify),
            threads: args.output.threads,
            max_file_size: args.walk.max_file_size,
            discover_from: args.walk.paths.first().cloned(),
            paths_relative_to: Some(paths_relative_to(&args.walk.paths)),
            ..base(&args.rule_files)
        },
        Command::Baseline(args) => Common {
            threads: args.threads,
            max_file_size: args.walk.max_file_size,
            discover_from: args.walk.paths.first().cloned(),
            paths_relative_to: Some(paths_relative_to(&args.walk.paths)),
            ..base(&args.rule_files)
        },
        Command::Git(args) => Common {
            output: Some(&args.output),
            verify: Some(&args.verify),
            threads: args.output.threads,
            max_file_size: args.max_file_size,
            discover_from: Some(args.repo.clone()),
            ..base(&args.rule_files)
        },
        Command::Sweep(args) => Common {
            output: Some(&args.output),
            verify: Some(&args.verify),
            threads: args.output.threads,
            max_file_size: args.max_file_size,
            // A swept tree's settings files are not trusted: only `--config` is read.
            ..base(&args.rule_files)
        },
        Command::Merge(args) => Common {
            output: Some(&args.output),
            verify: Some(&args.verify),
            threads: args.output.threads,
            discover_from: Some(PathBuf::from(".")),
            ..base(&args.rule_files)
        },
        Command::Staged(args) => Common {
            output: Some(&args.output),
            verify: Some(&args.verify),
            threads: args.output.threads,
            discover_from: Some(args.repo.clone()),
            ..base(&args.rule_files)
        },
        Command::Hook(args) => Common {
            output: Some(&args.output),
            verify: Some(&args.verify),
            threads: args.output.threads,
            discover_from: Some(args.repo.clone()),
            ..base(&args.rule_files)
        },
        Command::Jwks {
            action: cli::JwksAction::Audit(args),
        } => Common {
            output: Some(&args.output),
            verify: Some(&args.verify),
            threads: args.output.threads,
            ..base(&NO_RULE_FILES)
        },
        Command::Rules { rule_files, .. } => Common {
            discover_from: Some(PathBuf::from(".")),
            ..base(rule_files)
        },
        Command::InstallHook(_) | Command::UninstallHook(_) => base(&NO_RULE_FILES),
    }
}

/// The directory a walk's report paths are relative to: the one directory scanned, else the
/// current directory (paths are shown as walked).
fn paths_relative_to(paths: &[PathBuf]) -> PathBuf {
    match paths {
        [only] if only.is_dir() => only.clone(),
        _ => PathBuf::from("."),
    }
}

/// Threads, size limit and walk switches: flags first, then the settings file.
fn knobs(
    command: &Command,
    common: &Common<'_>,
    file: &FileSettings,
    env: &Environment,
) -> anyhow::Result<Knobs> {
    let file_size = file.max_file_size.as_ref().map(|s| s.bytes()).transpose()?;
    let walk = match command {
        Command::Scan(args) => Some(&args.walk),
        Command::Baseline(args) => Some(&args.walk),
        _ => None,
    };
    Ok(Knobs {
        threads: threads(common.threads.or(file.threads)),
        max_file_size: common
            .max_file_size
            .or(file_size)
            .unwrap_or(DEFAULT_MAX_FILE_SIZE),
        no_ignore: walk.is_some_and(|w| w.no_ignore) || file.no_ignore.unwrap_or(false),
        follow_links: walk.is_some_and(|w| w.follow_links) || file.follow_links.unwrap_or(false),
        window_bytes: env
            .window_bytes
            .unwrap_or(crate::source::fs::DEFAULT_WINDOW_BYTES),
    })
}

/// Baseline, ignore file and allow-lists from the flags, the settings file and the root.
fn suppress_options(
    common: &Common<'_>,
    file: &FileSettings,
    root: Option<PathBuf>,
    no_config: bool,
) -> suppress::Options {
    let baseline = common.output.and_then(|o| o.baseline.clone());
    let ignore_file = common.output.and_then(|o| o.ignore_file.clone());
    let discovered = root
        .as_ref()
        .map(|r| r.join(suppress::IGNORE_FILE_NAME))
        .filter(|path| !no_config && path.is_file());
    let prefix = match (&root, &common.paths_relative_to) {
        (Some(root), Some(dir)) => settings::prefix_under(root, dir),
        _ => String::new(),
    };
    suppress::Options {
        baseline: baseline.or_else(|| file.baseline.clone()),
        ignore_file: ignore_file
            .or_else(|| file.ignore_file.clone())
            .or(discovered),
        allow_paths: file.allow.paths.clone(),
        allow_regexes: file.allow.regexes.clone(),
        fingerprints: file.allow.fingerprints.clone(),
        root,
        prefix,
    }
}

/// `--min-severity` hides findings below it, so they must not fail the run either: it raises a
/// severity `--fail-on` (or sets one) to itself.
fn with_min_severity(
    fail_on: Option<FailOn>,
    args: Option<&OutputArgs>,
) -> anyhow::Result<Option<FailOn>> {
    let Some(text) = args.and_then(|a| a.min_severity.as_deref()) else {
        return Ok(fail_on);
    };
    let Some(min) = Severity::parse(text) else {
        bail!("--min-severity {text}: expected low, medium, high or critical");
    };
    Ok(Some(match fail_on {
        None => FailOn::Severity(min),
        Some(FailOn::Severity(severity)) => FailOn::Severity(severity.max(min)),
        Some(status) => status,
    }))
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
        seal: None,
        render: RenderOptions {
            format,
            show_secrets: args.show_secrets,
            color,
            min_severity: args.min_severity.as_deref().and_then(Severity::parse),
        },
    }
}

/// Merge verification flags with the settings file (flags win; lists add up).
fn verify_options(flags: &VerifyArgs, file: &FileVerify) -> verify::Options {
    let defaults = verify::Options::default();
    let mut jwks = file.jwks.clone();
    jwks.extend(flags.jwks.iter().cloned());
    let mut issuers = file.issuers.clone();
    issuers.extend(flags.issuers.iter().cloned());
    verify::Options {
        jwks,
        issuers,
        tokens: flags.tokens.clone(),
        tokens_file: flags.tokens_file.clone().or(file.tokens_file.clone()),
        offline: flags.offline || file.offline.unwrap_or(false),
        ca_cert: flags.ca_cert.clone().or(file.ca_cert.clone()),
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

/// Parse the text of a `keysweep.toml` the way `--config` does (unknown keys are errors). The
/// fuzz target for the settings file calls this.
pub fn parse_settings(text: &str) -> anyhow::Result<()> {
    toml::from_str::<settings::FileSettings>(text)?;
    Ok(())
}
