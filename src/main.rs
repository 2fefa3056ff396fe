//! The keysweep binary: parse, resolve the config, run, map the outcome to an exit code
//! (0 nothing found, 1 findings, 2 the scan could not run).

use std::process::ExitCode;

use clap::Parser;
use keysweep::app::{self, Outcome};
use keysweep::cli::Cli;
use keysweep::config::Config;
use keysweep::report::escape_control_but_newlines;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match Config::resolve(cli).and_then(|config| app::run(&config)) {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::Found) => ExitCode::from(1),
        Err(error) => {
            let message = format!("{error:#}");
            eprintln!("keysweep: error: {}", escape_control_but_newlines(&message));
            ExitCode::from(2)
        }
    }
}
