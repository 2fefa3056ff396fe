//! Rule self-check: every rule's examples must produce a finding from that rule, and its negative
//! examples none. Used by `keysweep rules check` and by the test suite.

use crate::rules::RuleSet;
use crate::scan::Scanner;

/// One failed example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule: String,
    pub negative: bool,
    pub index: usize,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.negative {
            write!(
                f,
                "rule {}: negative example #{} produced a finding",
                self.rule,
                self.index + 1
            )
        } else {
            write!(
                f,
                "rule {}: example #{} produced no finding",
                self.rule,
                self.index + 1
            )
        }
    }
}

/// Run every rule's examples; returns the failures and the number of examples checked.
pub fn check_examples(rules: &RuleSet) -> (Vec<ExampleFailure>, usize) {
    let mut scanner = Scanner::new(rules);
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in &rules.rules {
        let spec = &rule.spec;
        let cases = spec
            .examples
            .iter()
            .map(|e| (false, e))
            .chain(spec.negative_examples.iter().map(|e| (true, e)));
        let mut counters = [0usize; 2];
        for (negative, example) in cases {
            let index = counters[usize::from(negative)];
            counters[usize::from(negative)] += 1;
            checked += 1;
            let mut found = Vec::new();
            scanner.scan(example.as_bytes(), rule.example_path(), &mut found);
            let hit = found.iter().any(|c| c.rule_id == spec.id);
            if hit == negative {
                failures.push(ExampleFailure {
                    rule: spec.id.clone(),
                    negative,
                    index,
                });
            }
        }
    }
    (failures, checked)
}
