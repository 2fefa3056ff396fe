//! Every rule's examples produce a finding from that rule and its negative examples none; the
//! built-in rule files load, and every kind a detector can produce is described.

use keysweep::app::selfcheck::check_examples;
use keysweep::rules::RuleSet;

use crate::support::{Ks, Tree};

#[test]
fn every_rule_example_and_negative_example_holds() {
    let rules = RuleSet::builtin().expect("built-in rules load");
    let (failures, checked) = check_examples(&rules);
    assert!(checked >= rules.rules.len() * 2, "only {checked} examples");
    let messages: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(
        messages.is_empty(),
        "failed examples:\n{}",
        messages.join("\n")
    );
}

#[test]
fn every_rule_has_examples_of_both_kinds() {
    let rules = RuleSet::builtin().expect("built-in rules load");
    for rule in &rules.rules {
        assert!(
            !rule.spec.examples.is_empty(),
            "{} has no examples",
            rule.spec.id
        );
        assert!(
            !rule.spec.negative_examples.is_empty(),
            "{} has no negative examples",
            rule.spec.id
        );
    }
}

#[test]
fn every_kind_a_detector_produces_is_described() {
    let rules = RuleSet::builtin().expect("built-in rules load");
    for kind in [
        "private-key/rsa",
        "private-key/ec",
        "private-key/ed25519",
        "private-key/okp",
        "private-key/dsa",
        "private-key/pgp",
        "private-key/encrypted",
        "private-key/other",
        "private-key/keystore",
        "secret/hmac",
        "jwt/token",
    ] {
        let spec = rules
            .kind(kind)
            .unwrap_or_else(|| panic!("kind {kind} missing from rules/kinds.toml"));
        assert!(
            !spec.help.is_empty() && !spec.description.is_empty(),
            "{kind}"
        );
    }
}

#[test]
fn rules_check_command_passes() {
    let output = Ks::new("rules").arg("check").run();
    let stdout = output.stdout_str();
    assert_eq!(output.code, 0, "{stdout}");
    assert!(stdout.contains(", 0 failed"), "{stdout}");
}

#[test]
fn user_rule_file_adds_a_rule_and_bad_regex_is_a_clear_error() {
    let dir = Tree::new();
    let good = dir.write(
        "keysweep.toml",
        r#"
[[rule]]
id = "custom/acme-token"
title = "ACME signing token"
description = "Internal signing tokens."
severity = "high"
keywords = ["acme_"]
regex = '''\bacme_[0-9a-f]{32}\b'''
detect = "none"
examples = ["token = acme_0123456789abcdef0123456789abcdef"]
negative_examples = ["acme_short"]
"#,
    );
    let rules = RuleSet::load(&[good.as_path()]).expect("user rules load");
    assert!(rules.rules.iter().any(|r| r.spec.id == "custom/acme-token"));
    assert!(rules.kind("custom/acme-token").is_some());
    assert!(check_examples(&rules).0.is_empty());

    let bad = dir.write(
        "bad.toml",
        "[[rule]]\nid = \"x/y\"\ntitle = \"t\"\ndescription = \"d\"\nseverity = \"low\"\nkeywords = [\"abc\"]\nregex = \"(unclosed\"\ndetect = \"none\"\nexamples = [\"abc\"]\nnegative_examples = []\n",
    );
    let error = RuleSet::load(&[bad.as_path()]).expect_err("bad regex is rejected");
    assert!(error.to_string().contains("x/y"), "{error}");
}
