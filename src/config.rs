//! Turning flags (and the optional `--config` file) into one immutable `Config`.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{ColorChoice, OutputArgs, RuleFileArgs, ScanArgs};
use crate::report::{Format, RenderOptions};
use crate::source::fs::FsOptions;

/// Everything a scan run needs to know.
#[derive(Clone, Debug)]
pub struct Config {
    pub paths: Vec<PathBuf>,
    pub fs: FsOptions,
    pub render: RenderOptions,
    pub output: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub rule_files: Vec<PathBuf>,
}

impl Config {
    /// Resolve `keysweep scan` arguments.
    pub fn from_scan_args(args: &ScanArgs) -> Config {
        Config {
            paths: args.paths.clone(),
            fs: FsOptions {
                no_ignore: args.no_ignore,
                follow_links: args.follow_links,
                max_file_size: args.max_file_size,
                threads: threads(args.output.threads),
            },
            render: render_options(&args.output),
            output: args.output.output.clone(),
            baseline: args.output.baseline.clone(),
            rule_files: rule_files(&args.rule_files),
        }
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

fn render_options(args: &OutputArgs) -> RenderOptions {
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
