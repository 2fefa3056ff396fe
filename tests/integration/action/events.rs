//! The range the action scans for each event, shallow checkouts, and loud failures.

use super::*;

#[test]
fn pull_request_in_a_shallow_clone_deepens_and_scans_base_to_head() {
    let origin = origin();
    let runner = Runner::shallow(&origin.repo, "feat");
    assert!(runner.is_shallow());
    assert!(
        !runner.has_commit(&origin.base),
        "the depth-1 clone must lack the base for this test to mean anything"
    );

    let event = pull_request(&origin.base, &origin.head, "acme/app");
    let run = runner.run("pull_request", &event, &[]);
    run.assert_exit(1);

    // The range: what the pull request adds, not the key committed before the base.
    assert!(runner.has_commit(&origin.base), "base fetched");
    assert!(
        run.stdout.contains("deepening"),
        "the script deepened the checkout\n{}",
        run.context()
    );
    run.assert_scanned(
        &["deploy/new.pem", "src/app.env"],
        &origin.base,
        &origin.head,
    );

    // SARIF: valid, one run, the diff category, the same findings.
    let sarif = assert_one_sarif_run(&run, "keysweep/diff/");
    assert_eq!(sarif_uris(&sarif), ["deploy/new.pem", "src/app.env"]);

    // Outputs.
    assert_eq!(run.output("findings"), "2");
    assert_eq!(run.output("live"), "0");
    assert_eq!(run.output("exit-code"), "1");
    assert_eq!(run.output("upload"), "true");
    assert!(run.output("sarif-file").ends_with("keysweep.sarif"));
    assert!(run.output("json-file").ends_with("keysweep.json"));
    assert_eq!(
        Path::new(run.output("checkout-path"))
            .canonicalize()
            .unwrap(),
        runner.workspace.canonicalize().unwrap()
    );

    // Summary: a table row per finding with rule, status, path:line and the short commit.
    let s = &run.summary;
    assert!(s.starts_with("## keysweep\n"), "{}", run.context());
    assert!(s.contains("**2 findings** (0 proven live)"), "{s}");
    assert!(
        s.contains("fail-on: `any` — failed: 2 at or above it."),
        "{s}"
    );
    assert!(
        s.contains("| # | rule | severity | status | location | commit |"),
        "{s}"
    );
    let head7 = &origin.head[..7];
    let feat7 = &origin.feat1[..7];
    assert!(
        s.contains(&format!(
            "| 1 | private-key/ec | critical | unverified | deploy/new.pem:1 | [`{head7}`](https://github.com/acme/app/commit/{}) |",
            origin.head
        )),
        "{s}"
    );
    assert!(
        s.contains(&format!(
            "| 2 | secret/hmac | high | unverified | src/app.env:1 | [`{feat7}`]"
        )),
        "{s}"
    );

    // Annotations: the critical key first, with file, line and column.
    let ann = run.annotations();
    assert_eq!(ann.len(), 2, "{}", run.context());
    assert!(
        ann[0].starts_with("::error file=deploy/new.pem,line=1,col=1,title=keysweep%3A "),
        "{}",
        ann[0]
    );
    assert!(
        ann[0].contains(&format!("introduced in commit {head7}")),
        "{}",
        ann[0]
    );
    assert!(
        ann[1].starts_with("::error file=src/app.env,line=1,"),
        "{}",
        ann[1]
    );
    // keysweep's own output is fenced so repository text cannot act as a workflow command.
    assert!(
        run.stdout.contains("::stop-commands::"),
        "{}",
        run.context()
    );
    assert_redacted(&run, &origin);
}

#[test]
fn pull_request_from_a_fork_is_scanned_but_not_uploaded() {
    let origin = origin();
    let runner = Runner::full(&origin.repo);
    let event = pull_request(&origin.base, &origin.head, "someone/app");
    let run = runner.run("pull_request", &event, &[]);
    run.assert_exit(1);
    assert_eq!(run.paths(), ["deploy/new.pem", "src/app.env"]);
    assert_eq!(run.output("upload"), "false");
    assert!(
        run.summary
            .contains("SARIF not uploaded: a pull request from a fork"),
        "{}",
        run.summary
    );
    assert_eq!(run.output("upload-ref"), "");
    // pull_request_target runs on the base branch with a token that can write: upload, to the
    // pull request's head (not to the base branch's alerts).
    let run = runner.run("pull_request_target", &event, &[]);
    run.assert_exit(1);
    assert_eq!(run.output("upload"), "true");
    assert_eq!(run.output("upload-ref"), "refs/pull/7/head");
    assert_eq!(run.output("upload-sha"), origin.head);
    // A pull_request from the same repository: upload-sarif's defaults are right.
    let event = pull_request(&origin.base, &origin.head, "acme/app");
    let run = runner.run("pull_request", &event, &[]);
    assert_eq!(run.output("upload"), "true");
    assert_eq!(run.output("upload-ref"), "");
    assert_eq!(run.output("upload-sha"), "");
    // upload-sarif off: no upload either, no note.
    let event = pull_request(&origin.base, &origin.head, "acme/app");
    let run = runner.run("pull_request", &event, &[("upload-sarif", "false")]);
    assert_eq!(run.output("upload"), "false");
}

#[test]
fn push_scans_before_to_after() {
    let origin = origin();
    let runner = Runner::shallow(&origin.repo, "feat");
    let event = push(
        "refs/heads/feat",
        &origin.feat1,
        &origin.head,
        &[&origin.head],
    );
    let run = runner.run("push", &event, &[]);
    run.assert_exit(1);
    run.assert_scanned(&["deploy/new.pem"], &origin.feat1, &origin.head);
    assert_one_sarif_run(&run, "keysweep/diff/");
    assert_eq!(run.annotations().len(), 1);
}

#[test]
fn new_branch_push_scans_what_it_adds_to_the_default_branch() {
    let origin = origin();
    // A single-branch shallow clone: the default branch is not there and must be fetched.
    let runner = Runner::shallow(&origin.repo, "feat");
    assert!(
        !runner
            .git(&["rev-parse", "--verify", "-q", "refs/remotes/origin/main"])
            .0
    );
    let event = push("refs/heads/feat", ZERO, &origin.head, &[&origin.head]);
    let run = runner.run("push", &event, &[]);
    run.assert_exit(1);
    run.assert_scanned(
        &["deploy/new.pem", "src/app.env"],
        &origin.base,
        &origin.head,
    );
    assert_one_sarif_run(&run, "keysweep/diff/");
}

/// A payload as a repository without a known default branch sends it.
fn without_default_branch(mut event: Value) -> Value {
    if let Some(repository) = event["repository"].as_object_mut() {
        repository.remove("default_branch");
    }
    event
}

#[test]
fn new_branch_push_without_a_default_branch_scans_the_pushed_commits() {
    let origin = origin();
    let runner = Runner::shallow(&origin.repo, "feat");
    let event =
        without_default_branch(push("refs/heads/feat", ZERO, &origin.head, &[&origin.head]));
    let run = runner.run("push", &event, &[]);
    run.assert_exit(1);
    run.assert_scanned(&["deploy/new.pem"], &origin.feat1, &origin.head);

    // Both feat commits pushed: the base is the parent of the oldest.
    let event = without_default_branch(push(
        "refs/heads/feat",
        ZERO,
        &origin.head,
        &[&origin.feat1, &origin.head],
    ));
    let run = runner.run("push", &event, &[]);
    run.assert_exit(1);
    run.assert_scanned(
        &["deploy/new.pem", "src/app.env"],
        &origin.base,
        &origin.head,
    );
}

#[test]
fn push_with_before_equal_to_after_passes_with_a_one_line_note() {
    let origin = origin();
    let runner = Runner::shallow(&origin.repo, "feat");
    let event = push("refs/heads/feat", &origin.head, &origin.head, &[]);
    let run = runner.run("push", &event, &[]);
    run.assert_exit(0);
    let notes: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(notes.len(), 1, "one line\n{}", run.context());
    assert!(
        notes[0].contains("before == after") && notes[0].contains("nothing to scan"),
        "{}",
        notes[0]
    );
    assert_eq!(run.output("findings"), "0");
    assert_eq!(run.output("exit-code"), "0");
    assert_eq!(run.output("sarif-file"), "");
    assert_eq!(run.output("upload"), "false");
    assert_eq!(run.output("range"), "");
    assert!(run.summary.contains("nothing to scan"), "{}", run.summary);
    assert!(run.annotations().is_empty());

    // A deleted branch: nothing to scan either.
    let mut event = push("refs/heads/gone", &origin.head, ZERO, &[]);
    event["deleted"] = json!(true);
    runner.run("push", &event, &[]).assert_exit(0);
}

#[test]
fn schedule_scans_the_whole_history_of_a_shallow_clone() {
    let origin = origin();
    let runner = Runner::shallow(&origin.repo, "feat");
    let event = json!({"schedule": "17 3 * * *", "repository": {"full_name": "acme/app", "default_branch": "main"}});
    let run = runner.run("schedule", &event, &[]);
    run.assert_exit(1);
    assert!(!runner.is_shallow(), "unshallowed\n{}", run.context());
    assert_eq!(
        run.paths(),
        ["config/old.pem", "deploy/new.pem", "src/app.env"],
        "{}",
        run.context()
    );
    assert_eq!(run.output("range"), "full history");
    let sarif = assert_one_sarif_run(&run, "keysweep/history/");
    assert_eq!(sarif_uris(&sarif).len(), 3);
    let old7 = &origin.old_commit[..7];
    assert!(
        run.summary
            .contains(&format!("config/old.pem:1 | [`{old7}`]")),
        "{}",
        run.summary
    );
    assert_redacted(&run, &origin);

    // workflow_dispatch is a full scan too; the category input renames the SARIF run.
    let run = runner.run(
        "workflow_dispatch",
        &json!({"inputs": {}}),
        &[("category", "keysweep-nightly")],
    );
    run.assert_exit(1);
    assert_one_sarif_run(&run, "keysweep-nightly/");
    assert_eq!(run.paths().len(), 3);
}

#[test]
fn a_range_that_cannot_be_resolved_fails_loudly() {
    let origin = origin();
    let runner = Runner::shallow(&origin.repo, "feat");
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let event = pull_request(missing, &origin.head, "acme/app");
    let run = runner.run("pull_request", &event, &[]);
    run.assert_exit(2);
    let errors: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.context());
    assert!(
        errors[0].contains(missing) && errors[0].contains("could not be fetched"),
        "{}",
        errors[0]
    );
    assert_eq!(run.output("exit-code"), "2");
    assert_eq!(run.output("sarif-file"), "");
    assert!(
        run.summary.contains("Could not run") && run.summary.contains(missing),
        "{}",
        run.summary
    );

    // A push whose `before` is gone (and not forced) fails the same way.
    let event = push("refs/heads/feat", missing, &origin.head, &[&origin.head]);
    let run = runner.run("push", &event, &[]);
    run.assert_exit(2);
    assert!(run.stdout.contains(missing), "{}", run.context());

    // mode: diff on an event without a range.
    let run = runner.run("schedule", &json!({}), &[("mode", "diff")]);
    run.assert_exit(2);
    assert!(run.stdout.contains("mode: diff"), "{}", run.context());

    // A clone without a remote cannot fetch what it lacks.
    let lone = Runner::shallow(&origin.repo, "feat");
    assert!(lone.git(&["remote", "remove", "origin"]).0);
    let event = pull_request(&origin.base, &origin.head, "acme/app");
    let run = lone.run("pull_request", &event, &[]);
    run.assert_exit(2);
    assert!(
        run.stdout.contains(&origin.base) && run.stdout.contains("no remote"),
        "{}",
        run.context()
    );
}
