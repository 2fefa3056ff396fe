//! Command-line types (clap derive) and help text. No I/O here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

/// Find leaked signing keys and JWT secrets, and prove which of them are live.
#[derive(Debug, Parser)]
#[command(name = "keysweep", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan directories and files (default: the current directory).
    Scan(ScanArgs),
    /// Scan git history: every blob reachable from all refs, each unique blob once.
    Git(GitArgs),
    /// Scan what will be committed: the blobs in the index (honours GIT_INDEX_FILE).
    Staged(StagedArgs),
    /// Forensic sweep of a home directory or a mounted image: no ignore rules, hidden files,
    /// archives read in memory, and the full history of every git repository met.
    Sweep(SweepArgs),
    /// Merge per-shard JSON Lines reports (`keysweep git --repos FILE --shard I/N --format
    /// jsonl`) into one report: findings de-duplicated across shards, every shard checked
    /// present and complete (exit 2 otherwise), verification applied once to the whole.
    Merge(MergeArgs),
    /// Published key sets.
    Jwks {
        #[command(subcommand)]
        action: JwksAction,
    },
    /// Record today's findings as a baseline (fingerprints only, never secrets).
    Baseline(BaselineArgs),
    /// List or self-check the rules.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
        #[command(flatten)]
        rule_files: RuleFileArgs,
    },
    /// The pre-commit framework's entry: the staged content under `git commit` (git sets
    /// GIT_INDEX_FILE), the pushed commits when PRE_COMMIT_FROM_REF/TO_REF are set (pre-push),
    /// else every tracked file (`pre-commit run --all-files`, the manual stage).
    Hook(StagedArgs),
    /// Install a git pre-commit hook running `keysweep staged` (an existing hook is kept and
    /// run after it).
    InstallHook(InstallHookArgs),
    /// Remove the hook `install-hook` installed and restore what was there before.
    UninstallHook(UninstallHookArgs),
}

#[derive(Debug, Args, Clone)]
pub struct InstallHookArgs {
    /// The repository whose hooks directory (`git rev-parse --git-path hooks`) gets the hook.
    #[arg(value_name = "REPO", default_value = ".", conflicts_with = "global")]
    pub repo: PathBuf,

    /// Install for every repository of this user: into the directory `git config --global
    /// core.hooksPath` names, setting it (to ~/.config/keysweep/hooks) when unset.
    #[arg(long)]
    pub global: bool,

    /// Replace an existing pre-commit hook instead of running it after keysweep (it is kept
    /// aside, and `uninstall-hook` puts it back).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct UninstallHookArgs {
    /// The repository.
    #[arg(value_name = "REPO", default_value = ".", conflicts_with = "global")]
    pub repo: PathBuf,

    /// Remove the user-wide hook `install-hook --global` installed (and unset
    /// core.hooksPath if it set it).
    #[arg(long)]
    pub global: bool,
}

#[derive(Debug, Subcommand)]
pub enum JwksAction {
    /// Check the hygiene of a published JWKS (private members, weak or duplicate keys, pins).
    Audit(JwksAuditArgs),
}

#[derive(Debug, Args, Clone)]
pub struct JwksAuditArgs {
    /// A JWKS URL, an OIDC issuer URL, or a file.
    #[arg(value_name = "URL|FILE")]
    pub source: String,

    /// Thumbprints (RFC 7638) of the keys that may be published; any other key is flagged.
    /// (Base64url: a thumbprint may start with `-`, and is still taken as the value.)
    #[arg(long = "pin", value_name = "THUMBPRINT", allow_hyphen_values = true)]
    pub pins: Vec<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,
}

#[derive(Debug, Args, Clone)]
pub struct GitArgs {
    /// The repository (work tree or bare).
    #[arg(value_name = "REPO", default_value = ".", conflicts_with = "repos")]
    pub repo: PathBuf,

    /// Only what commits in BASE..HEAD added (pull requests).
    #[arg(long, value_name = "BASE..HEAD")]
    pub range: Option<String>,

    /// Also every object no ref reaches (forensics).
    #[arg(long, conflicts_with = "range")]
    pub all_objects: bool,

    /// Scan every repository listed in FILE, one per line: a local path or a clone URL,
    /// optionally followed by a name (`https://github.com/org/app.git org/app`). URLs are
    /// cloned bare with git's own credentials; paths are read in place. Finding paths start
    /// with the repository's name.
    #[arg(long, value_name = "FILE", conflicts_with = "range")]
    pub repos: Option<PathBuf>,

    /// Scan only shard I of N of the `--repos` list (1-based: 1/4 ... 4/4), split by a stable
    /// hash of each repository's name. Also from KEYSWEEP_SHARD=I/N, or from
    /// JOB_COMPLETION_INDEX (0-based, Kubernetes Indexed Jobs) with KEYSWEEP_SHARD_COUNT=N.
    #[arg(long, value_name = "I/N", requires = "repos")]
    pub shard: Option<String>,

    /// Where `--repos` clones go (default: a new temporary directory).
    #[arg(long, value_name = "DIR", requires = "repos")]
    pub workdir: Option<PathBuf>,

    /// Keep the `--repos` clones instead of removing each once it is scanned.
    #[arg(long, requires = "repos")]
    pub keep: bool,

    /// Skip blobs larger than this many bytes (suffixes K, M, G allowed) [default: 64M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub rule_files: RuleFileArgs,
}

#[derive(Debug, Args, Clone)]
pub struct SweepArgs {
    /// Directories to sweep (default: the home directory). Nothing inside them is written.
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,

    /// Descend into other filesystems mounted below a root (default: stay on each root's).
    #[arg(long)]
    pub cross_filesystems: bool,

    /// Do not open archives (zip family, tar, tar.gz, gz).
    #[arg(long)]
    pub no_archives: bool,

    /// Do not scan the history of the git repositories met (their work trees are still swept).
    #[arg(long)]
    pub no_history: bool,

    /// Open archives inside archives down to this depth [default: 5].
    #[arg(long, value_name = "N")]
    pub archive_depth: Option<u32>,

    /// Skip files (and archive members) larger than this many bytes (suffixes K, M, G allowed)
    /// [default: 64M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,

    /// No progress display on stderr (it is shown only when stderr is a terminal).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub rule_files: RuleFileArgs,
}

#[derive(Debug, Args, Clone)]
pub struct MergeArgs {
    /// The per-shard JSON Lines reports (any order; every shard of the list must be there).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub rule_files: RuleFileArgs,
}

#[derive(Debug, Args, Clone)]
pub struct StagedArgs {
    /// The repository.
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub rule_files: RuleFileArgs,
}

/// Verification sources and limits.
#[derive(Debug, Args, Clone, Default)]
pub struct VerifyArgs {
    /// A JWKS to match private keys against: an https URL or a file (repeatable).
    #[arg(long = "jwks", value_name = "URL|FILE")]
    pub jwks: Vec<String>,

    /// An OIDC issuer whose discovered jwks_uri is fetched (repeatable).
    #[arg(long = "issuer", value_name = "URL")]
    pub issuers: Vec<String>,

    /// A JWT to test found HMAC secrets against (repeatable).
    #[arg(long = "token", value_name = "JWT")]
    pub tokens: Vec<String>,

    /// A file of JWTs, one per line.
    #[arg(long, value_name = "FILE")]
    pub tokens_file: Option<PathBuf>,

    /// Use no network at all.
    #[arg(long)]
    pub offline: bool,

    /// CA certificates (PEM) to trust for JWKS and discovery fetches. Like curl's --cacert, this
    /// replaces the bundled public roots: list every CA the configured URLs need.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// List every matcher rule and finding kind.
    List,
    /// Run every rule's examples and negative examples; exit 1 if any fails.
    Check,
}

/// The settings file (with extra rules).
#[derive(Debug, Args, Clone, Default)]
pub struct RuleFileArgs {
    /// A keysweep.toml with settings and extra [[rule]] tables (default: keysweep.toml at the
    /// repository root, or the scan root outside a repository).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Read no keysweep.toml and no .keysweepignore unless named with --config/--ignore-file
    /// (for scanning content whose settings you do not trust).
    #[arg(long, global = true)]
    pub no_config: bool,
}

/// What to walk, and how.
#[derive(Debug, Args, Clone)]
pub struct WalkArgs {
    /// Directories and files to scan.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Do not respect .gitignore, .ignore and .git/info/exclude.
    #[arg(long)]
    pub no_ignore: bool,

    /// Follow symbolic links.
    #[arg(long)]
    pub follow_links: bool,

    /// Skip files larger than this many bytes (suffixes K, M, G allowed) [default: 64M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
}

#[derive(Debug, Args, Clone)]
pub struct ScanArgs {
    #[command(flatten)]
    pub walk: WalkArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub rule_files: RuleFileArgs,
}

#[derive(Debug, Args, Clone)]
pub struct BaselineArgs {
    /// Where to write the baseline.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,

    #[command(flatten)]
    pub walk: WalkArgs,

    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub rule_files: RuleFileArgs,
}

/// Options shared by every scanning command.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write a report in FORMAT to FILE (repeatable; `-` is standard output), e.g.
    /// `--report sarif:keysweep.sarif --report json:keysweep.json`.
    #[arg(long = "report", value_name = "FORMAT:FILE")]
    pub reports: Vec<String>,

    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Print secrets in full instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,

    /// Drop findings whose fingerprints are in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Fingerprints and path globs to ignore (default: .keysweepignore at the repository or
    /// scan root).
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,

    /// Exit 1 only for findings at or above this severity (low, medium, high, critical) or
    /// verification status (not-live, error, known-example, weak-secret, signs-token, live);
    /// the others are still reported.
    #[arg(long, value_name = "SEVERITY|STATUS")]
    pub fail_on: Option<String>,

    /// Report only findings at or above this severity (low, medium, high, critical). Severity
    /// counts where a finding is: a key in tests/, docs or examples is rated lower than in code
    /// or configuration. The findings left out do not fail the run.
    #[arg(long, value_name = "SEVERITY")]
    pub min_severity: Option<String>,

    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Exit 2 when anything was skipped (unreadable files, objects, submodules, ...), even if
    /// nothing was found.
    #[arg(long)]
    pub strict: bool,

    /// Also list, on stderr, every file or blob that was not scanned because it is binary.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Parse `64M`, `512K`, `1G` or a plain byte count.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&text[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    let value: u64 = digits.parse().map_err(|_| format!("not a size: {text}"))?;
    value
        .checked_mul(multiplier)
        .ok_or_else(|| format!("size too large: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("10"), Ok(10));
        assert!(parse_size("x").is_err());
    }

    #[test]
    fn a_pin_may_start_with_a_hyphen() {
        let cli = Cli::try_parse_from(["keysweep", "jwks", "audit", "f.json", "--pin", "-0abc"])
            .expect("parses");
        let Command::Jwks {
            action: JwksAction::Audit(args),
        } = cli.command
        else {
            panic!("not jwks audit");
        };
        assert_eq!(args.pins, ["-0abc"]);
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
