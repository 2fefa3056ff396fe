//! `keysweep rules list|check`.

use super::selfcheck::check_examples;
use super::{Outcome, load_rules};
use crate::config::{Config, RulesJob};

/// List the rules and kinds, or run every rule's examples.
pub fn run(config: &Config, job: RulesJob) -> anyhow::Result<Outcome> {
    let rules = load_rules(&config.rule_files)?;
    match job {
        RulesJob::List => {
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
            Ok(Outcome::Clean)
        }
        RulesJob::Check => {
            let (failures, checked) = check_examples(&rules);
            for failure in &failures {
                println!("FAIL {failure}");
            }
            println!(
                "{} rules, {checked} examples checked, {} failed",
                rules.rules.len(),
                failures.len()
            );
            Ok(if failures.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Found
            })
        }
    }
}
