//! The keysweep binary: parse, resolve config, run, map to an exit code
//! (0 nothing found, 1 findings, 2 the scan could not run).

use std::process::ExitCode;

use clap::Parser;
use keysweep::cli::{Cli, Command, JwksAction, RulesAction};
use keysweep::config::{self, Config};
use keysweep::{app, scan, verify};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(found) => ExitCode::from(u8::from(found)),
        Err(error) => {
            eprintln!("keysweep: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Run a command; `Ok(true)` when something was found (or a check failed).
fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Scan(args) => app::scan(&Config::from_scan_args(&args)?),
        Command::Git(args) => app::history::git(&args),
        Command::Staged(args) => app::history::staged(&args),
        Command::Jwks {
            action: JwksAction::Audit(args),
        } => verify::audit::run(&args),
        Command::Baseline(args) => {
            let count = app::write_baseline(&Config::from_baseline_args(&args)?, &args.output)?;
            eprintln!(
                "keysweep: baseline of {count} finding(s) written to {}",
                args.output.display()
            );
            Ok(false)
        }
        Command::Rules { action, rule_files } => {
            let rules = app::load_rules(&config::rule_files(&rule_files))?;
            match action {
                RulesAction::List => {
                    for rule in &rules.rules {
                        println!(
                            "rule  {:<24} {:<9} {} ({})",
                            rule.spec.id,
                            rule.spec.severity.as_str(),
                            rule.spec.title,
                            rule.origin
                        );
                    }
                    for kind in &rules.kinds {
                        println!(
                            "kind  {:<24} {:<9} {}",
                            kind.id,
                            kind.severity.as_str(),
                            kind.title
                        );
                    }
                    Ok(false)
                }
                RulesAction::Check => {
                    let (failures, checked) = scan::selfcheck::check_examples(&rules);
                    for failure in &failures {
                        println!("FAIL {failure}");
                    }
                    println!(
                        "{} rules, {checked} examples checked, {} failed",
                        rules.rules.len(),
                        failures.len()
                    );
                    Ok(!failures.is_empty())
                }
            }
        }
    }
}
