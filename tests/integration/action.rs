//! The GitHub Action (action.yml + action/*.py), run outside GitHub.
//!
//! Each test builds an "origin" repository with the real `git`, clones it the way
//! actions/checkout does (`git clone --depth 1 file://…`), writes a real event payload JSON file,
//! and runs `python3 action/main.py scan` with the environment a runner gives a step
//! (GITHUB_EVENT_NAME/PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, INPUT_*), with
//! keysweep from this build. Asserted: the range scanned, the SARIF and JSON reports, the job
//! summary, the annotations, the step outputs and the exit gate.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TIMEOUT: Duration = Duration::from_secs(120);
const ZERO: &str = "0000000000000000000000000000000000000000";

fn action_main() -> PathBuf {
    Path::new(ROOT).join("action/main.py")
}

/// What one run of the action's script left behind.
struct ActionRun {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
}

impl ActionRun {
    fn context(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- outputs\n{:?}\n--- summary\n{}",
            self.code, self.stdout, self.stderr, self.outputs, self.summary
        )
    }

    fn assert_exit(&self, code: i32) -> &ActionRun {
        assert_eq!(self.code, code, "exit code\n{}", self.context());
        self
    }

    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("no output {name}\n{}", self.context()))
    }

    /// The `::error file=…` workflow commands the step printed.
    fn annotations(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("::error file="))
            .collect()
    }

    fn read_json(&self, output: &str) -> Value {
        let path = self.output(output);
        assert!(
            !path.is_empty(),
            "output {output} is empty\n{}",
            self.context()
        );
        serde_json::from_str(&read_string(path))
            .unwrap_or_else(|e| panic!("{path} is not JSON: {e}\n{}", self.context()))
    }

    fn report(&self) -> Value {
        self.read_json("json-file")
    }

    fn sarif(&self) -> Value {
        self.read_json("sarif-file")
    }

    /// The path of every location of every finding in the JSON report, sorted.
    fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.report()["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .flat_map(|f| f["locations"].as_array().expect("locations").iter())
            .map(|l| l["path"].as_str().expect("path").to_string())
            .collect();
        paths.sort();
        paths
    }
}

/// A simulated runner: a workspace (the checkout) and the files a step is given.
struct Runner {
    tmp: TempDir,
    workspace: PathBuf,
}

impl Runner {
    /// A runner whose workspace is `git clone --depth 1 --branch BRANCH file://ORIGIN`.
    fn shallow(origin: &Repo, branch: &str) -> Runner {
        Runner::clone_with(origin, &["--depth", "1", "--branch", branch])
    }

    /// A runner whose workspace is a complete clone of ORIGIN (fetch-depth: 0).
    fn full(origin: &Repo) -> Runner {
        Runner::clone_with(origin, &[])
    }

    fn clone_with(origin: &Repo, opts: &[&str]) -> Runner {
        let tmp = TempDir::new().expect("tmp");
        let workspace = tmp.path().join("work");
        let url = format!("file://{}", origin.dir.display());
        let mut args = vec!["clone", "-q"];
        args.extend_from_slice(opts);
        args.push(&url);
        let ws = workspace.display().to_string();
        args.push(&ws);
        tool("git", &args, Some(tmp.path()));
        Runner { tmp, workspace }
    }

    fn git(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.workspace)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.tmp.path())
            .stdin(Stdio::null())
            .output()
            .expect("git");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )
    }

    fn has_commit(&self, sha: &str) -> bool {
        self.git(&["cat-file", "-e", &format!("{sha}^{{commit}}")])
            .0
    }

    fn is_shallow(&self) -> bool {
        self.git(&["rev-parse", "--is-shallow-repository"]).1 == "true"
    }

    /// Runs `python3 action/main.py scan` for EVENT_NAME with PAYLOAD and INPUTS (names as in
    /// action.yml).
    fn run(&self, event_name: &str, payload: &Value, inputs: &[(&str, &str)]) -> ActionRun {
        self.run_env(event_name, payload, inputs, &[])
    }

    fn run_env(
        &self,
        event_name: &str,
        payload: &Value,
        inputs: &[(&str, &str)],
        extra_env: &[(&str, &str)],
    ) -> ActionRun {
        let step = TempDir::new_in(self.tmp.path()).expect("step dir");
        let event = step.path().join("event.json");
        std::fs::write(&event, serde_json::to_vec_pretty(payload).expect("json")).expect("event");
        let output = step.path().join("output");
        let summary = step.path().join("summary.md");
        let runner_temp = step.path().join("runner-temp");
        std::fs::create_dir(&runner_temp).expect("runner temp");
        std::fs::write(&output, "").expect("output file");
        std::fs::write(&summary, "").expect("summary file");

        let mut cmd = python3();
        cmd.arg(action_main()).arg("scan");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", step.path())
            .env("LANG", "C.UTF-8")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", event_name)
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_WORKSPACE", &self.workspace)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "acme/app")
            .env("RUNNER_TEMP", &runner_temp)
            .env("KEYSWEEP_BIN", ks::BIN)
            .current_dir(&self.workspace);
        for (name, value) in inputs {
            cmd.env(
                format!("INPUT_{}", name.to_ascii_uppercase().replace('-', "_")),
                value,
            );
        }
        for (name, value) in extra_env {
            cmd.env(name, value);
        }
        let (code, stdout, stderr) = run_with_timeout(cmd);
        let outputs = parse_outputs(&read_string(&output));
        let summary = read_string(&summary);
        // The reports live in RUNNER_TEMP: keep them for the assertions by leaking the step dir.
        let _ = step.keep();
        ActionRun {
            code,
            stdout,
            stderr,
            outputs,
            summary,
        }
    }
}

/// `python3`, which the action needs; its absence fails the test (never a silent skip).
fn python3() -> Command {
    if tools::which("python3").is_none() {
        panic!(
            "python3 is not on PATH: the GitHub Action's scripts (action/*.py) need it and these \
             tests must not be skipped. Install it: apt-get install -y python3"
        );
    }
    Command::new("python3")
}

fn run_with_timeout(mut cmd: Command) -> (i32, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let mut so = child.stdout.take().expect("stdout");
    let mut se = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("action/main.py did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = t_out.join().expect("stdout thread");
    let stderr = t_err.join().expect("stderr thread");
    let code = status
        .code()
        .unwrap_or_else(|| panic!("action/main.py killed by a signal: {status:?}\n{stderr}"));
    (code, stdout, stderr)
}

/// `$GITHUB_OUTPUT`: `name=value` lines and `name<<DELIM` … `DELIM` blocks.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        } else if !line.is_empty() {
            panic!("malformed $GITHUB_OUTPUT line {line:?} in:\n{text}");
        }
    }
    out
}

/// The origin repository every scenario starts from:
///
/// ```text
/// main:  init ─ old key (config/old.pem) ─ n0 … n4 = BASE
/// feat:                                            └─ app.env (JWT_SECRET) = FEAT1 ─ deploy/new.pem = HEAD
/// ```
struct Origin {
    _tmp: TempDir,
    repo: Repo,
    old_key: String,
    new_key: String,
    secret: String,
    old_commit: String,
    base: String,
    feat1: String,
    head: String,
}

fn origin() -> Origin {
    let tmp = TempDir::new().expect("tmp");
    let mut repo = Repo::init(&tmp.path().join("origin"));
    repo.write("README.md", "app\n");
    repo.commit("init");
    let old_key = p256_pem();
    repo.write("config/old.pem", &old_key);
    let old_commit = repo.commit("old key, before the base");
    for i in 0..5 {
        repo.write(&format!("notes/{i}.txt"), &format!("note {i}\n"));
        repo.commit(&format!("note {i}"));
    }
    let base = repo.rev("HEAD");
    repo.git(&["checkout", "-q", "-b", "feat"]);
    let secret = random_secret(32);
    repo.write("src/app.env", &format!("JWT_SECRET={secret}\n"));
    let feat1 = repo.commit("app config");
    let new_key = p256_pem();
    repo.write("deploy/new.pem", &new_key);
    let head = repo.commit("deploy key");
    repo.git(&["checkout", "-q", "main"]);
    Origin {
        _tmp: tmp,
        repo,
        old_key,
        new_key,
        secret,
        old_commit,
        base,
        feat1,
        head,
    }
}

/// A `pull_request` payload (the fields GitHub sends that the action reads, and a few more).
fn pull_request(base: &str, head: &str, head_repo: &str) -> Value {
    json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"ref": "main", "sha": base, "repo": {"full_name": "acme/app", "fork": false}},
            "head": {"ref": "feat", "sha": head, "repo": {"full_name": head_repo, "fork": head_repo != "acme/app"}},
        },
        "repository": {"full_name": "acme/app", "default_branch": "main"},
    })
}

/// A `push` payload.
fn push(reference: &str, before: &str, after: &str, commits: &[&str]) -> Value {
    json!({
        "ref": reference,
        "before": before,
        "after": after,
        "created": before == ZERO,
        "deleted": false,
        "forced": false,
        "commits": commits.iter().map(|id| json!({"id": id, "distinct": true})).collect::<Vec<_>>(),
        "head_commit": {"id": after},
        "repository": {"full_name": "acme/app", "default_branch": "main"},
    })
}

fn pem_lines(pem: &str) -> Vec<String> {
    pem_body_lines(pem)
}

/// Nothing secret in what the step printed or wrote to the summary.
fn assert_redacted(run: &ActionRun, origin: &Origin) {
    for (what, text) in [("summary", &run.summary), ("stdout", &run.stdout)] {
        assert!(
            !text.contains(&origin.secret),
            "the HMAC secret leaked into the {what}\n{}",
            run.context()
        );
        for key in [&origin.new_key, &origin.old_key] {
            for line in pem_lines(key).iter().skip(1) {
                assert!(
                    !text.contains(line.as_str()),
                    "key material leaked into the {what}\n{}",
                    run.context()
                );
            }
        }
    }
}

fn assert_one_sarif_run(run: &ActionRun, id: &str) -> Value {
    let sarif = run.sarif();
    assert_valid_sarif(&sarif);
    let runs = sarif["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "one SARIF run per file: {sarif:#}");
    assert_eq!(
        runs[0]["automationDetails"]["id"], id,
        "automationDetails.id"
    );
    assert_eq!(runs[0]["tool"]["driver"]["name"], "keysweep");
    assert_eq!(run.output("category"), id, "category output");
    sarif
}

fn sarif_uris(sarif: &Value) -> Vec<String> {
    let mut uris: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("uri")
                .to_string()
        })
        .collect();
    uris.sort();
    uris
}

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
    assert_eq!(run.paths(), ["deploy/new.pem", "src/app.env"]);
    assert_eq!(
        run.output("range"),
        format!("{}..{}", origin.base, origin.head)
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
    assert_eq!(
        run.paths(),
        ["deploy/new.pem"],
        "only the pushed commit\n{}",
        run.context()
    );
    assert_eq!(
        run.output("range"),
        format!("{}..{}", origin.feat1, origin.head)
    );
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
    assert_eq!(
        run.paths(),
        ["deploy/new.pem", "src/app.env"],
        "{}",
        run.context()
    );
    assert_eq!(
        run.output("range"),
        format!("{}..{}", origin.base, origin.head)
    );
    assert_one_sarif_run(&run, "keysweep/diff/");
}

#[test]
fn new_branch_push_without_a_default_branch_scans_the_pushed_commits() {
    let origin = origin();
    let runner = Runner::shallow(&origin.repo, "feat");
    let mut event = push("refs/heads/feat", ZERO, &origin.head, &[&origin.head]);
    event["repository"]
        .as_object_mut()
        .unwrap()
        .remove("default_branch");
    let run = runner.run("push", &event, &[]);
    run.assert_exit(1);
    assert_eq!(run.paths(), ["deploy/new.pem"], "{}", run.context());
    assert_eq!(
        run.output("range"),
        format!("{}..{}", origin.feat1, origin.head)
    );

    // Both feat commits pushed: the base is the parent of the oldest.
    let event = {
        let mut e = push(
            "refs/heads/feat",
            ZERO,
            &origin.head,
            &[&origin.feat1, &origin.head],
        );
        e["repository"]
            .as_object_mut()
            .unwrap()
            .remove("default_branch");
        e
    };
    let run = runner.run("push", &event, &[]);
    run.assert_exit(1);
    assert_eq!(
        run.paths(),
        ["deploy/new.pem", "src/app.env"],
        "{}",
        run.context()
    );
    assert_eq!(
        run.output("range"),
        format!("{}..{}", origin.base, origin.head)
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

/// A range with a live key (its public half in a JWKS file), an HMAC secret (high) and a JWT
/// (medium); the exit gate for every fail-on value.
#[test]
fn fail_on_gates_the_exit_code() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("origin"));
    repo.write("README.md", "app\n");
    let base = repo.commit("init");
    repo.write(
        "src/app.env",
        &format!("JWT_SECRET={}\n", random_secret(32)),
    );
    let other = random_secret(40);
    let jwt = hs_jwt("HS256", other.as_bytes(), &json!({"sub": "svc"}));
    repo.write("docs/token.txt", &format!("token: {jwt}\n"));
    let mid = repo.commit("secret and token");
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    repo.write("deploy/live.pem", &key.pem);
    let head = repo.commit("live key");
    let jwks_file = tmp.path().join("jwks.json");
    std::fs::write(&jwks_file, jwks(&[public_jwk(&key.public, "k1")])).unwrap();
    let jwks_path = jwks_file.display().to_string();
    let runner = Runner::full(&repo);
    let dispatch = json!({"inputs": {}});

    // base..mid: secret/hmac high unverified, jwt/token medium unverified.
    let cases_mid = [
        ("any", 1),
        ("never", 0),
        ("low", 1),
        ("medium", 1),
        ("high", 1),
        ("critical", 0),
        ("weak-secret", 0),
        ("signs-token", 0),
        ("proven", 0),
        ("live", 0),
        ("unverified", 1),
    ];
    let mut failures = Vec::new();
    for (fail_on, want) in cases_mid {
        let run = runner.run(
            "workflow_dispatch",
            &dispatch,
            &[("base", &base), ("head", &mid), ("fail-on", fail_on)],
        );
        if run.code != want {
            failures.push(format!(
                "base..mid fail-on {fail_on}: exit {} want {want}\n{}",
                run.code,
                run.context()
            ));
        }
        assert_eq!(run.output("findings"), "2", "{}", run.context());
        assert_eq!(
            run.output("exit-code"),
            "1",
            "keysweep's own code, whatever the gate"
        );
        let expect = if want == 1 { "failed" } else { "passed" };
        assert!(
            run.summary
                .contains(&format!("fail-on: `{fail_on}` — {expect}"))
                || fail_on == "proven",
            "{}",
            run.summary
        );
    }

    // base..head with the JWKS: the key is live (critical).
    let cases_head = [
        ("critical", 1),
        ("live", 1),
        ("signs-token", 1),
        ("proven", 1),
        ("never", 0),
    ];
    for (fail_on, want) in cases_head {
        let run = runner.run(
            "workflow_dispatch",
            &dispatch,
            &[
                ("base", &base),
                ("head", &head),
                ("fail-on", fail_on),
                ("jwks", &jwks_path),
            ],
        );
        if run.code != want {
            failures.push(format!(
                "base..head fail-on {fail_on}: exit {} want {want}\n{}",
                run.code,
                run.context()
            ));
        }
        assert_eq!(run.output("findings"), "3", "{}", run.context());
        assert_eq!(run.output("live"), "1", "{}", run.context());
        // The live key is the first annotation and the first summary row.
        let ann = run.annotations();
        assert!(
            ann[0].starts_with("::error file=deploy/live.pem,line=1,"),
            "{}",
            run.context()
        );
        assert!(ann[0].contains("status live"), "{}", ann[0]);
        assert!(
            run.summary
                .contains("| 1 | private-key/ec | critical | live | deploy/live.pem:1 |"),
            "{}",
            run.summary
        );
    }
    // Without the JWKS the same key is unverified: `live` passes.
    let run = runner.run(
        "workflow_dispatch",
        &dispatch,
        &[("base", &base), ("head", &head), ("fail-on", "live")],
    );
    if run.code != 0 {
        failures.push(format!(
            "no jwks, fail-on live: exit {}\n{}",
            run.code,
            run.context()
        ));
    }
    assert_eq!(run.output("live"), "0");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // An unknown fail-on is an error before anything is scanned.
    let run = runner.run("workflow_dispatch", &dispatch, &[("fail-on", "sometimes")]);
    run.assert_exit(2);
    assert!(
        run.stdout.contains("input fail-on: 'sometimes'"),
        "{}",
        run.context()
    );
}

#[test]
fn annotations_are_limited_to_ten_most_urgent_first_and_the_summary_is_truncated_with_a_count() {
    let tmp = TempDir::new().unwrap();
    let mut repo = Repo::init(&tmp.path().join("origin"));
    repo.write("README.md", "app\n");
    let base = repo.commit("init");
    let mut env = String::new();
    for i in 0..14 {
        env.push_str(&format!("SVC{i}_JWT_SECRET={}\n", random_secret(32)));
    }
    repo.write("a/secrets.env", &env);
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    repo.write("z/live.pem", &key.pem);
    let head = repo.commit("many");
    let jwks_file = tmp.path().join("jwks.json");
    std::fs::write(&jwks_file, jwks(&[public_jwk(&key.public, "k1")])).unwrap();
    let runner = Runner::full(&repo);
    let event = push("refs/heads/main", &base, &head, &[&head]);
    let jwks_path = jwks_file.display().to_string();
    let run = runner.run_env(
        "push",
        &event,
        &[("jwks", &jwks_path), ("fail-on", "live")],
        &[("KEYSWEEP_SUMMARY_LIMIT", "1500")],
    );
    run.assert_exit(1);
    assert_eq!(run.output("findings"), "15");
    assert_eq!(run.output("live"), "1");
    let ann = run.annotations();
    assert_eq!(
        ann.len(),
        10,
        "GitHub shows 10 error annotations per step\n{}",
        run.context()
    );
    assert!(
        ann[0].starts_with("::error file=z/live.pem,"),
        "live first: {}",
        ann[0]
    );
    assert!(
        ann[1..]
            .iter()
            .all(|a| a.starts_with("::error file=a/secrets.env,"))
    );
    assert!(
        run.stdout
            .contains("15 findings; the 10 most urgent are annotated"),
        "{}",
        run.context()
    );

    let s = &run.summary;
    assert!(
        s.len() <= 1500,
        "summary of {} bytes over the limit\n{s}",
        s.len()
    );
    let rows = s
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .count();
    assert!((1..15).contains(&rows), "{rows} rows\n{s}");
    assert!(
        s.contains(&format!("… and {} more findings not shown", 15 - rows)),
        "{s}"
    );
    assert!(
        s.contains("| 1 | private-key/ec | critical | live | z/live.pem:1 |"),
        "{s}"
    );

    // With the default limit (under GitHub's 1 MiB) every finding has a row.
    let run = runner.run(
        "push",
        &event,
        &[("jwks", &jwks_path), ("fail-on", "never")],
    );
    run.assert_exit(0);
    let rows = run
        .summary
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .count();
    assert_eq!(rows, 15, "{}", run.summary);
    assert!(!run.summary.contains("more findings not shown"));
}

#[test]
fn cache_key_names_the_ref_and_the_lock_file() {
    use sha2::{Digest, Sha256};
    let tmp = TempDir::new().unwrap();
    let output = tmp.path().join("output");
    std::fs::write(&output, "").unwrap();
    let mut cmd = python3();
    cmd.arg(action_main())
        .arg("cache-key")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_ACTION_PATH", ROOT)
        .env("GITHUB_OUTPUT", &output)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", tmp.path())
        .env("KS_ACTION_REF", "v1.2.3");
    let (code, stdout, stderr) = run_with_timeout(cmd);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let outputs = parse_outputs(&read_string(&output));
    let lock = Sha256::digest(std::fs::read(Path::new(ROOT).join("Cargo.lock")).unwrap());
    let lock_hex: String = lock.iter().map(|b| format!("{b:02x}")).collect();
    let key = &outputs["key"];
    assert!(key.starts_with("keysweep-Linux-X64-"), "{key}");
    assert!(key.contains("-v1.2.3-"), "{key}");
    assert!(key.contains(&format!("-lock{}-", &lock_hex[..16])), "{key}");
    assert_eq!(
        Path::new(&outputs["root"]),
        tmp.path().join("keysweep-action")
    );
}

/// action.yml declares every input the scripts read (with the same default), hands each to the
/// scan step through `env:`, splices nothing into `run:` text, and pins every `uses:` to a full
/// commit SHA with a version comment.
#[test]
fn action_yml_declares_every_input_and_pins_every_action() {
    let yml = read_string(Path::new(ROOT).join("action.yml"));
    let script = read_string(action_main());

    // The inputs the script reads: the INPUTS table in action/main.py.
    let table = script
        .split_once("INPUTS = {")
        .and_then(|(_, rest)| rest.split_once('}'))
        .expect("INPUTS table in action/main.py")
        .0;
    let read: Vec<(String, String)> = table
        .lines()
        .filter_map(|l| {
            let (name, default) = l.trim().trim_end_matches(',').split_once(':')?;
            Some((
                name.trim().trim_matches('"').to_string(),
                default.trim().trim_matches('"').to_string(),
            ))
        })
        .collect();
    assert!(read.len() >= 12, "{read:?}");
    for name in [
        "path",
        "mode",
        "base",
        "head",
        "jwks",
        "issuer",
        "config",
        "sarif-file",
        "upload-sarif",
        "fail-on",
        "args",
    ] {
        assert!(
            read.iter().any(|(n, _)| n == name),
            "the script reads no input {name}"
        );
    }

    // The inputs action.yml declares, with their defaults (two-space keys under `inputs:`).
    let declared = yaml_section(&yml, "inputs");
    for (name, default) in &read {
        let body = declared
            .get(name)
            .unwrap_or_else(|| panic!("action.yml does not declare input {name}"));
        let yml_default = body
            .iter()
            .find_map(|l| l.trim().strip_prefix("default:"))
            .map(|d| d.trim().trim_matches('"').to_string())
            .unwrap_or_default();
        assert_eq!(&yml_default, default, "default of input {name}");
        let env = format!(
            "INPUT_{}: ${{{{ inputs.{name} }}}}",
            name.to_ascii_uppercase().replace('-', "_")
        );
        assert!(yml.contains(&env), "the scan step does not pass {env}");
    }
    for name in declared.keys() {
        assert!(
            read.iter().any(|(n, _)| n == name),
            "action.yml declares input {name} that the script never reads"
        );
    }
    // No other INPUT_ variable is read anywhere in action/.
    for entry in std::fs::read_dir(Path::new(ROOT).join("action")).unwrap() {
        let path = entry.unwrap().path();
        let text = read_string(&path);
        for (i, _) in text.match_indices("INPUT_") {
            let name: String = text[i + 6..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            assert!(
                name.is_empty()
                    || read
                        .iter()
                        .any(|(n, _)| n.to_ascii_uppercase().replace('-', "_") == name),
                "{} reads INPUT_{name}, which is not an input",
                path.display()
            );
        }
    }

    // Outputs map to what the scan step writes.
    let outputs = yaml_section(&yml, "outputs");
    for name in ["findings", "live", "sarif-file", "exit-code"] {
        let body = outputs
            .get(name)
            .unwrap_or_else(|| panic!("action.yml does not declare output {name}"));
        assert!(
            body.iter()
                .any(|l| l.contains(&format!("${{{{ steps.scan.outputs.{name} }}}}"))),
            "output {name}: {body:?}"
        );
        assert!(
            script.contains(&format!("\"{name}\":")),
            "the script never sets output {name}"
        );
    }

    assert!(yml.contains("\nbranding:\n"), "branding (Marketplace)");
    assert!(yml.contains("using: composite"), "composite action");

    // Every `uses:` pinned to a 40-hex SHA with a `# vX` comment; expressions never in `run:`.
    let mut uses = 0;
    for line in yml.lines() {
        let t = line.trim_start().trim_start_matches("- ");
        if let Some(rest) = t.strip_prefix("uses:") {
            uses += 1;
            let (target, comment) = rest.split_once('#').unwrap_or((rest, ""));
            let (_, sha) = target
                .trim()
                .split_once('@')
                .unwrap_or_else(|| panic!("uses without a ref: {line}"));
            assert!(
                sha.len() == 40
                    && sha
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "not pinned to a full commit SHA: {line}"
            );
            assert!(
                comment.trim().starts_with('v'),
                "no version comment: {line}"
            );
        }
        if let Some(run) = t.strip_prefix("run:") {
            assert!(
                !run.contains("${{"),
                "an expression spliced into a run: script: {line}"
            );
        }
    }
    assert!(uses >= 3, "cache restore/save and upload-sarif");
    assert!(yml.contains("github/codeql-action/upload-sarif@"));
    assert!(
        yml.contains("cargo install")
            || read_string(Path::new(ROOT).join("action/install.sh"))
                .contains("cargo install --locked --path \"$GITHUB_ACTION_PATH\"")
    );
}

/// The entries of a top-level YAML mapping (`inputs:`/`outputs:`): name → its indented lines.
fn yaml_section(yml: &str, section: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut inside = false;
    let mut current: Option<String> = None;
    for line in yml.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            inside = line.trim_end().strip_suffix(':') == Some(section);
            current = None;
            continue;
        }
        if !inside {
            continue;
        }
        if line.starts_with("  ") && !line.starts_with("   ") {
            let name = line.trim().trim_end_matches(':').to_string();
            out.insert(name.clone(), Vec::new());
            current = Some(name);
        } else if let Some(name) = &current {
            out.get_mut(name).expect("entry").push(line.to_string());
        }
    }
    out
}
