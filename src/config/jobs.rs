//! One [`Job`] per command, built from its arguments, the merged knobs and the environment.

use std::path::PathBuf;

use anyhow::Context as _;

use super::{
    AuditJob, Environment, GitJob, Job, Knobs, MergeJob, ReposJob, RulesJob, StagedJob, SweepJob,
    WalkJob,
};
use crate::cli::{self, Command, WalkArgs};
use crate::source::fs::FsOptions;
use crate::source::repos::Shard;

/// `keysweep hook`: which of three scans the pre-commit framework's context asks for.
#[derive(Clone, Debug)]
pub struct HookJob {
    pub mode: HookMode,
}

/// What `keysweep hook` scans, decided from the environment pre-commit and git set.
#[derive(Clone, Debug)]
pub enum HookMode {
    /// Under `git commit` (git set `GIT_INDEX_FILE` for its hook): the staged content.
    Staged(StagedJob),
    /// `PRE_COMMIT_FROM_REF`/`PRE_COMMIT_TO_REF` set (the pre-push stage, or `pre-commit run
    /// --from-ref --to-ref`): what the commits in FROM..TO add.
    Range(GitJob),
    /// Otherwise (`pre-commit run --all-files`, the manual stage): every file the index tracks,
    /// as it is in the work tree.
    Tracked { repo: PathBuf, fs: FsOptions },
}

/// `keysweep install-hook` / `uninstall-hook`.
#[derive(Clone, Debug)]
pub struct InstallJob {
    /// The repository (ignored with `global`).
    pub repo: PathBuf,
    /// User-wide: the `core.hooksPath` of the global git configuration.
    pub global: bool,
    /// Replace an existing hook instead of chaining it.
    pub force: bool,
    /// The hooks directory `--global` sets `core.hooksPath` to when it is unset
    /// (`$XDG_CONFIG_HOME/keysweep/hooks`, else `~/.config/keysweep/hooks`).
    pub default_global_dir: Option<PathBuf>,
    /// This executable, which the installed hook runs.
    pub exe: PathBuf,
    /// `$HOME`, for `~/` in `core.hooksPath`.
    pub home: Option<PathBuf>,
}

/// The job for `command`.
pub(super) fn job(command: &Command, env: &Environment, knobs: &Knobs) -> anyhow::Result<Job> {
    Ok(match command {
        Command::Scan(args) => Job::Scan(walk_job(&args.walk, knobs)),
        Command::Baseline(args) => Job::Baseline {
            walk: walk_job(&args.walk, knobs),
            output: args.output.clone(),
        },
        Command::Git(args) if args.repos.is_some() => Job::Repos(repos_job(args, env)?),
        Command::Merge(args) => Job::Merge(MergeJob {
            files: args.files.clone(),
            seal: None,
        }),
        Command::Git(args) => Job::Git(GitJob {
            repo: args.repo.clone(),
            range: args.range.clone(),
            all_objects: args.all_objects,
            tuning: env.git_tuning(),
        }),
        Command::Staged(args) => Job::Staged(staged_job(args.repo.clone(), env)),
        Command::Sweep(args) => Job::Sweep(sweep_job(args, env, knobs)?),
        Command::Hook(args) => Job::Hook(HookJob {
            mode: hook_mode(args, env, knobs),
        }),
        Command::Jwks {
            action: cli::JwksAction::Audit(args),
        } => Job::JwksAudit(AuditJob {
            source: args.source.clone(),
            pins: args.pins.clone(),
        }),
        Command::Rules { action, .. } => Job::Rules(match action {
            cli::RulesAction::List => RulesJob::List,
            cli::RulesAction::Check => RulesJob::Check,
        }),
        Command::InstallHook(args) => {
            Job::InstallHook(install_job(&args.repo, args.global, args.force, env)?)
        }
        Command::UninstallHook(args) => {
            Job::UninstallHook(install_job(&args.repo, args.global, false, env)?)
        }
    })
}

/// How deep archives inside archives are opened unless `--archive-depth` says otherwise.
pub const DEFAULT_ARCHIVE_DEPTH: u32 = 5;

/// The roots (default: the home directory) made absolute, and the sweep's switches.
fn sweep_job(args: &cli::SweepArgs, env: &Environment, knobs: &Knobs) -> anyhow::Result<SweepJob> {
    let roots = if args.roots.is_empty() {
        vec![
            env.home
                .clone()
                .context("no ROOT given and $HOME is not set")?,
        ]
    } else {
        args.roots.clone()
    };
    let roots = roots
        .into_iter()
        .map(|root| std::path::absolute(&root).with_context(|| format!("{}", root.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(SweepJob {
        roots,
        fs: FsOptions {
            no_ignore: true,
            follow_links: false,
            max_file_size: knobs.max_file_size,
            threads: knobs.threads,
            window_bytes: knobs.window_bytes,
        },
        cross_filesystems: args.cross_filesystems,
        history: !args.no_history,
        archive_depth: (!args.no_archives)
            .then(|| args.archive_depth.unwrap_or(DEFAULT_ARCHIVE_DEPTH)),
        tuning: env.git_tuning(),
        progress: env.stderr_is_terminal && !args.quiet,
        host: env.host.clone(),
        user: env.user.clone(),
        file_delay: env.file_delay,
    })
}

/// `--repos FILE`: the shard from `--shard`, else the batch engine's environment, else all.
fn repos_job(args: &cli::GitArgs, env: &Environment) -> anyhow::Result<ReposJob> {
    let shard = match (&args.shard, &env.shard) {
        (Some(text), _) => Shard::parse(text).map_err(|e| anyhow::anyhow!("--shard: {e}"))?,
        (None, Some(from_env)) => from_env.clone().map_err(anyhow::Error::msg)?,
        (None, None) => Shard::ALL,
    };
    Ok(ReposJob {
        list: args.repos.clone().unwrap_or_default(),
        shard,
        workdir: args.workdir.clone(),
        keep: args.keep,
        all_objects: args.all_objects,
        tuning: env.git_tuning(),
        host: env.host.clone(),
        user: env.user.clone(),
    })
}

fn walk_job(walk: &WalkArgs, knobs: &Knobs) -> WalkJob {
    WalkJob {
        paths: walk.paths.clone(),
        fs: fs_options(knobs),
    }
}

fn fs_options(knobs: &Knobs) -> FsOptions {
    FsOptions {
        no_ignore: knobs.no_ignore,
        follow_links: knobs.follow_links,
        max_file_size: knobs.max_file_size,
        threads: knobs.threads,
        window_bytes: knobs.window_bytes,
    }
}

fn staged_job(repo: PathBuf, env: &Environment) -> StagedJob {
    StagedJob {
        repo,
        index_file: env.index_file.clone(),
    }
}

/// Pre-push range first (pre-commit sets it only there), then a git commit's index, then the
/// tracked files.
fn hook_mode(args: &cli::StagedArgs, env: &Environment, knobs: &Knobs) -> HookMode {
    if let Some((from, to)) = &env.pre_commit_range {
        return HookMode::Range(GitJob {
            repo: args.repo.clone(),
            range: Some(format!("{from}..{to}")),
            all_objects: false,
            tuning: env.git_tuning(),
        });
    }
    if env.index_file.is_some() {
        return HookMode::Staged(staged_job(args.repo.clone(), env));
    }
    HookMode::Tracked {
        repo: args.repo.clone(),
        fs: fs_options(knobs),
    }
}

fn install_job(
    repo: &std::path::Path,
    global: bool,
    force: bool,
    env: &Environment,
) -> anyhow::Result<InstallJob> {
    let exe = std::env::current_exe().context("cannot find the keysweep executable")?;
    Ok(InstallJob {
        repo: repo.to_path_buf(),
        global,
        force,
        default_global_dir: env.config_home.as_ref().map(|c| c.join("keysweep/hooks")),
        exe,
        home: env.home.clone(),
    })
}
