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
        "secret/jwk-enc",
        "secret/rails-master-key",
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

/// A rule that a detector could not read is refused when loaded, with an error naming the file,
/// the rule and the problem; `rules check` and `scan` exit 2 on it.
#[test]
fn rules_a_detector_cannot_read_are_refused_at_load() {
    // (id, detect, regex, extra fields, what the error says)
    let cases = [
        (
            "t/empty-match",
            "none",
            r"(?:tok_)?[a-z]*",
            "",
            "can match the empty string",
        ),
        ("t/never", "none", r"tok_[a&&b]", "", "can never match"),
        (
            "t/empty-secret",
            "none",
            r"tok_(?P<secret>[a-z]*)",
            "",
            "group `secret` can match the empty string",
        ),
        (
            "t/empty-group-1",
            "base64",
            r"tok_([A-Za-z0-9+/]*)",
            "",
            "group `1` can match the empty string",
        ),
        (
            "t/jwt-empty",
            "jwt",
            r"eyJ(?P<secret>[A-Za-z0-9_.\-]*)",
            "",
            "group `secret` can match the empty string",
        ),
        (
            "t/hmac-no-secret",
            "hmac",
            r"tok_secret\s*=\s*\S+",
            "",
            "group named `secret`",
        ),
        (
            "t/pem-no-end",
            "pem",
            r"-----BEGIN PRIVATE KEY-----(?s:.*?)END",
            "",
            "must end with `-----`",
        ),
        (
            "t/unknown-detector",
            "magic",
            r"tok_[a-z]+",
            "",
            "unknown variant `magic`",
        ),
        (
            "t/entropy",
            "none",
            r"tok_[a-z]+",
            "entropy = 9.5\n",
            "entropy 9.5 is outside 0 to 8",
        ),
        (
            "t/window",
            "none",
            r"tok_[a-z]+",
            "window = { before = 0, after = 10000000 }\n",
            "window of 10000000 bytes",
        ),
        ("t/no-regex", "none", "", "", "missing field `regex`"),
    ];
    let dir = Tree::new();
    for (id, detect, regex, extra, problem) in cases {
        let regex_line = if regex.is_empty() {
            String::new()
        } else {
            format!("regex = '''{regex}'''\n")
        };
        let path = dir.write(
            "user.toml",
            format!(
                "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\ndescription = \"d\"\nseverity = \"low\"\n\
                 keywords = [\"tok_\"]\n{regex_line}detect = \"{detect}\"\n{extra}\
                 examples = [\"tok_abcdef\"]\nnegative_examples = []\n"
            ),
        );
        let error = RuleSet::load(&[path.as_path()]).expect_err(id);
        let message = format!("{:#}", anyhow::Error::from(error));
        assert!(
            message.contains("user.toml") && message.contains(id) && message.contains(problem),
            "{id}: {message}"
        );
        let check = Ks::new("rules")
            .arg("check")
            .arg("--config")
            .arg(&path)
            .run();
        assert_eq!(check.code, 2, "{id}: {}", check.stderr_str());
        assert!(check.stderr_str().contains(id), "{}", check.stderr_str());
        assert!(!check.stderr_str().contains("panicked"));
    }
}
