//! docs/recipes/org-sweep-github-actions.yml: its shape, and its jobs run by the stand-in
//! runner (`super::runner`) over the test's repositories.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::runner::Runner;
use super::{Sweep, check_split, run_clean, system_path, yaml_documents};
use crate::support::*;

pub const WORKFLOW: &str = "org-sweep-github-actions.yml";

/// The workflow's shape: triggers, the shard count in one place, the matrix, the merge after
/// every shard whatever their outcome, pinned actions, no expression inside a script, the
/// shard key from a secret where keysweep runs.
#[test]
fn workflow_has_the_documented_shape() {
    let workflow = &yaml_documents(&Path::new(super::RECIPES).join(WORKFLOW))[0];
    // PyYAML reads the key `on` as YAML 1.1's true.
    let on = &workflow["true"];
    assert!(
        on.get("workflow_dispatch").is_some() && on["schedule"].is_array(),
        "{on}"
    );
    let shards = workflow["env"]["SHARDS"].as_u64().expect("env.SHARDS");
    let shard = &workflow["jobs"]["shard"];
    assert_eq!(shard["strategy"]["fail-fast"], false);
    let values: Vec<u64> = shard["strategy"]["matrix"]["shard"]
        .as_array()
        .expect("matrix.shard")
        .iter()
        .map(|v| v.as_u64().expect("a number"))
        .collect();
    assert_eq!(
        values,
        (1..=shards).collect::<Vec<_>>(),
        "matrix.shard is 1..SHARDS"
    );
    let merge = &workflow["jobs"]["merge"];
    assert!(
        merge["needs"]
            .as_array()
            .expect("needs")
            .contains(&"shard".into()),
        "the merge needs the shards"
    );
    assert_eq!(
        merge["if"], "${{ !cancelled() }}",
        "the merge runs when a shard failed"
    );
    assert_eq!(merge["permissions"]["security-events"], "write");
    for (job, needle) in [("shard", "keysweep git"), ("merge", "keysweep merge")] {
        let steps = workflow["jobs"][job]["steps"].as_array().expect("steps");
        let step = steps
            .iter()
            .find(|s| s["run"].as_str().is_some_and(|r| r.contains(needle)))
            .unwrap_or_else(|| panic!("no step of {job} runs {needle}"));
        assert_eq!(
            step["env"]["KEYSWEEP_SHARD_KEY"], "${{ secrets.KEYSWEEP_SHARD_KEY }}",
            "{job}: the shard key from the secret"
        );
    }
    let text = read_string(Path::new(super::RECIPES).join(WORKFLOW));
    for line in text.lines() {
        let t = line.trim_start().trim_start_matches("- ");
        if let Some(rest) = t.strip_prefix("uses:") {
            let (target, comment) = rest.split_once('#').expect("a version comment");
            let sha = target.trim().split_once('@').expect("uses NAME@SHA").1;
            assert!(sha.len() == 40, "not pinned to a full commit SHA: {line}");
            assert!(
                comment.trim().starts_with('v'),
                "no version comment: {line}"
            );
        }
    }
    for job in workflow["jobs"].as_object().expect("jobs").values() {
        for step in job["steps"].as_array().expect("steps") {
            if let Some(run) = step["run"].as_str() {
                assert!(
                    !run.contains("${{"),
                    "an expression spliced into a script: {run}"
                );
            }
        }
    }
}

/// The whole workflow, run: the install job, every shard, the merge; then a merge with one
/// shard lost and one cut; then a shard whose list is broken.
#[test]
fn workflow_runs_as_written() {
    let sweep = Sweep::new();
    let mut runner = Runner::new(&sweep.dir("actions"), &sweep.list);

    let install = runner.run_job("install", None);
    assert!(!install.failed, "install: {:?}", install.failures);
    let cargo = read_string(&runner.cargo_log);
    let args: Vec<&str> = cargo.lines().collect();
    assert_eq!(args[0], "install");
    // The release of this checkout (the tag moves with the version).
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(runner.workflow["env"]["KEYSWEEP_VERSION"], tag.as_str());
    for pair in [
        ["--git", "https://github.com/keysweep/keysweep"],
        ["--tag", tag.as_str()],
    ] {
        assert!(args.windows(2).any(|w| w == pair), "cargo {args:?}");
    }
    assert!(
        args.contains(&"--locked") && args.last() == Some(&"keysweep"),
        "cargo {args:?}"
    );

    let mut shard_files = Vec::new();
    for value in runner.matrix("shard") {
        let value = value.expect("a matrix");
        let shard = runner.run_job("shard", Some(&value));
        assert!(!shard.failed, "shard {}: {:?}", value.1, shard.failures);
        shard_files.push(shard.workspace.join(format!("shard-{}.jsonl", value.1)));
        // The credential helper answers with the token the scan step has, and only then.
        for token in [Some("t0ken-from-secret"), None] {
            let mut env = BTreeMap::from([
                ("HOME".to_string(), shard.home.display().to_string()),
                ("PATH".to_string(), system_path()),
                ("GIT_TERMINAL_PROMPT".to_string(), "0".to_string()),
            ]);
            if let Some(token) = token {
                env.insert("KEYSWEEP_GIT_TOKEN".to_string(), token.to_string());
            }
            let fill = "printf 'protocol=https\\nhost=github.com\\n\\n' | git credential fill";
            let helper = run_clean("bash", &["-c", fill], &env, &shard.workspace);
            let answer = helper.stdout_str();
            match token {
                Some(token) => assert!(
                    answer.contains(&format!("username=x-access-token\npassword={token}\n")),
                    "{answer}{}",
                    helper.stderr_str()
                ),
                None => assert!(!answer.contains("password="), "{answer}"),
            }
        }
    }
    let shards = runner.workflow["env"]["SHARDS"].as_u64().expect("SHARDS");
    check_split(&shard_files, shards);

    let merge = runner.run_job("merge", None);
    assert_eq!(merge.outputs["merge"]["exit-code"], "1", "findings: exit 1");
    assert_eq!(
        merge.failures,
        ["Fail on findings or an incomplete sweep"],
        "only the last step fails, on the findings"
    );
    let json: Value =
        serde_json::from_str(&read_string(merge.workspace.join("keysweep.json"))).expect("json");
    let sarif: Value =
        serde_json::from_str(&read_string(merge.workspace.join("keysweep.sarif"))).expect("sarif");
    assert_eq!(
        merge.sarif_uploaded,
        [merge.workspace.join("keysweep.sarif")]
    );
    sweep.check_merged(&json, &sarif, &shard_files);
    let count = json["findings"].as_array().expect("findings").len();
    assert!(
        merge
            .summary
            .contains(&format!("## keysweep: {count} finding(s), 0 skipped")),
        "{}",
        merge.summary
    );
    assert!(
        merge.summary.contains("`deploy/deploy/signing.pem:1`"),
        "{}",
        merge.summary
    );
    assert!(!merge.summary.contains("incomplete"), "{}", merge.summary);
    let report = runner.artifacts.join("keysweep-report");
    assert!(report.join("keysweep.sarif").is_file() && report.join("keysweep.json").is_file());

    // Shard 2 lost, shard 3 cut after its header: the merge names both, reports the rest, and
    // fails the run.
    std::fs::remove_dir_all(runner.artifacts.join("shard-2")).expect("drop shard 2");
    let cut = runner.artifacts.join("shard-3/shard-3.jsonl");
    let header = read_string(&cut)
        .lines()
        .next()
        .expect("header")
        .to_string();
    std::fs::write(&cut, header + "\n").expect("cut shard 3");
    let merge = runner.run_job("merge", None);
    assert_eq!(merge.outputs["merge"]["exit-code"], "2");
    assert!(merge.failed);
    for needle in [
        "**The sweep is incomplete**",
        "shard 2/4 of list",
        "missing",
        "shard 3/4",
        "incomplete: no summary record",
    ] {
        assert!(
            merge.summary.contains(needle),
            "{needle}: {}",
            merge.summary
        );
    }
    assert_eq!(
        merge.sarif_uploaded.len(),
        1,
        "the partial report still reaches code scanning"
    );
    assert!(report.join("keysweep.json").is_file());

    // Re-running those two shards (their uploads replace the earlier files) and the merge
    // repairs the sweep.
    for value in runner.matrix("shard").into_iter().flatten() {
        if value.1 == 2 || value.1 == 3 {
            let shard = runner.run_job("shard", Some(&value));
            assert!(
                !shard.failed,
                "re-run of shard {}: {:?}",
                value.1, shard.failures
            );
        }
    }
    let merge = runner.run_job("merge", None);
    assert_eq!(
        merge.outputs["merge"]["exit-code"], "1",
        "{}",
        merge.summary
    );
    let repaired: Value =
        serde_json::from_str(&read_string(merge.workspace.join("keysweep.json"))).expect("json");
    assert_eq!(super::view(&repaired), super::view(&json));

    // A list keysweep cannot read: the scan step fails the shard job (exit 2), unlike exit 1.
    std::fs::write(runner.repo.join("repos.txt"), "a\na\n").expect("broken list");
    let value = runner.matrix("shard").remove(0).expect("a matrix");
    let shard = runner.run_job("shard", Some(&value));
    assert!(shard.failed);
    assert_eq!(shard.failures, ["Scan shard ${{ matrix.shard }}"]);
}
