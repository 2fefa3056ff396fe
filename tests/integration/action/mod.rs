//! The GitHub Action (action.yml + action/*.py), run outside GitHub.
//!
//! Each test builds an "origin" repository with the real `git`, clones it the way
//! actions/checkout does (`git clone --depth 1 file://…`), writes a real event payload JSON file,
//! and runs `python3 action/main.py scan` with the environment a runner gives a step
//! (GITHUB_EVENT_NAME/PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, INPUT_*), with
//! keysweep from this build. Asserted: the range scanned, the SARIF and JSON reports, the job
//! summary, the annotations, the step outputs and the exit gate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
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

    /// The step scanned `base..head` and found keys exactly at `paths`.
    fn assert_scanned(&self, paths: &[&str], base: &str, head: &str) {
        assert_eq!(self.paths(), paths, "{}", self.context());
        assert_eq!(self.output("range"), format!("{base}..{head}"));
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

/// Run a command to completion (bounded), as strings: exit code, stdout, stderr.
fn run_with_timeout(cmd: Command) -> (i32, String, String) {
    let outcome = ks::run_with_timeout(cmd, "action/main.py");
    (outcome.code, outcome.stdout_str(), outcome.stderr_str())
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

mod events;
mod reports;
