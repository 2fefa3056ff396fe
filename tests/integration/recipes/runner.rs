//! A small stand-in for GitHub's runner, enough to run docs/recipes/org-sweep-github-actions.yml.
//!
//! A job runs once per matrix value, each time in a fresh workspace, HOME and runner temp.
//! `run:` steps run as GitHub runs them (`bash --noprofile --norc -eo pipefail`, the
//! workflow's, job's and step's `env:`, GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY; a
//! failed step skips the following ones unless their `if:` has a status function). The
//! actions the workflow uses are played by their documented behaviour: checkout copies the
//! repository (which holds repos.txt), cache misses, upload-artifact/download-artifact move
//! files through an artifact store (unique names unless overwrite, patterns, merge-multiple,
//! if-no-files-found), upload-sarif checks its file. `cargo install` (no network here) is a
//! stand-in that records its arguments and installs the keysweep under test where `--root`
//! says. Expressions are the few the workflow uses; any other fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::actions::WORKFLOW;
use super::{SHARD_KEY, run_clean, system_path, yaml_documents};
use crate::support::*;

/// One job's run.
#[derive(Default)]
pub(super) struct JobRun {
    pub(super) failed: bool,
    /// The names (or `uses`) of the steps that ran and failed, in order.
    pub(super) failures: Vec<String>,
    pub(super) summary: String,
    pub(super) home: PathBuf,
    pub(super) workspace: PathBuf,
    pub(super) outputs: BTreeMap<String, BTreeMap<String, String>>,
    pub(super) sarif_uploaded: Vec<PathBuf>,
}

pub(super) struct Runner {
    pub(super) workflow: Value,
    /// The repository the workflow lives in (what actions/checkout checks out).
    pub(super) repo: PathBuf,
    pub(super) artifacts: PathBuf,
    /// Holds the `cargo` stand-in.
    tools: PathBuf,
    pub(super) cargo_log: PathBuf,
    secrets: BTreeMap<String, String>,
    root: PathBuf,
    runs: usize,
}

impl Runner {
    pub(super) fn new(root: &Path, list: &str) -> Runner {
        let path = Path::new(super::RECIPES).join(WORKFLOW);
        let workflow = yaml_documents(&path).remove(0);
        let repo = root.join("repository");
        std::fs::create_dir_all(&repo).expect("mkdir");
        std::fs::write(repo.join("repos.txt"), list).expect("write list");
        let tools = root.join("tools");
        std::fs::create_dir_all(&tools).expect("mkdir");
        let cargo_log = root.join("cargo-args");
        let cargo = tools.join("cargo");
        std::fs::write(
            &cargo,
            format!(
                "#!/bin/bash\n# cargo install, without the network: records its arguments and links\n# the keysweep under test into --root.\nprintf '%s\\n' \"$@\" > '{log}'\nroot=\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --root ]; then root=$2; shift; fi; shift; done\n[ -n \"$root\" ] || {{ echo 'cargo stand-in: no --root' >&2; exit 101; }}\nmkdir -p \"$root/bin\" && ln -s '{bin}' \"$root/bin/keysweep\"\n",
                log = cargo_log.display(),
                bin = crate::support::ks::BIN
            ),
        )
        .expect("write cargo");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let secrets = BTreeMap::from([("KEYSWEEP_SHARD_KEY".to_string(), SHARD_KEY.to_string())]);
        Runner {
            workflow,
            repo,
            artifacts: root.join("artifacts"),
            tools,
            cargo_log,
            secrets,
            root: root.to_path_buf(),
            runs: 0,
        }
    }

    fn job(&self, id: &str) -> &Value {
        &self.workflow["jobs"][id]
    }

    /// The matrix values of a job (one run without a matrix).
    pub(super) fn matrix(&self, id: &str) -> Vec<Option<(String, Value)>> {
        let Some(matrix) = self.job(id)["strategy"]["matrix"].as_object() else {
            return vec![None];
        };
        assert_eq!(matrix.len(), 1, "one matrix dimension: {matrix:?}");
        let (key, values) = matrix.iter().next().expect("a dimension");
        values
            .as_array()
            .expect("matrix values")
            .iter()
            .map(|v| Some((key.clone(), v.clone())))
            .collect()
    }

    /// Run job `id` once (for one matrix value).
    pub(super) fn run_job(&mut self, id: &str, matrix: Option<&(String, Value)>) -> JobRun {
        self.runs += 1;
        let base = self.root.join(format!("run-{}-{id}", self.runs));
        let mut run = JobRun {
            home: base.join("home"),
            workspace: base.join("workspace"),
            ..JobRun::default()
        };
        let temp = base.join("temp");
        for dir in [&run.home, &run.workspace, &temp] {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        let job = self.job(id).clone();
        let ctx = Context {
            runner: self,
            matrix,
            temp: &temp,
            workspace: run.workspace.clone(),
        };
        let mut env = BTreeMap::new();
        for scope in [&self.workflow["env"], &job["env"]] {
            for (k, v) in scope.as_object().into_iter().flatten() {
                env.insert(k.clone(), ctx.expand(&scalar(v), &run));
            }
        }
        if let Some(cond) = job["if"].as_str() {
            assert!(ctx.condition(cond, &run), "job {id} would not run");
        }
        let summary_file = temp.join("step-summary.md");
        let mut path_dirs: Vec<String> = Vec::new();
        for step in job["steps"].as_array().expect("steps") {
            let runs = match step["if"].as_str() {
                Some(cond) => ctx.condition(cond, &run),
                None => !run.failed,
            };
            if !runs {
                continue;
            }
            let ok = if let Some(action) = step["uses"].as_str() {
                self.action(action, step, &ctx, &mut run)
            } else {
                let script = step["run"].as_str().expect("a step runs or uses");
                let mut step_env = env.clone();
                for (k, v) in step["env"].as_object().into_iter().flatten() {
                    step_env.insert(k.clone(), ctx.expand(&scalar(v), &run));
                }
                self.run_step(
                    script,
                    step_env,
                    &temp,
                    &summary_file,
                    &mut path_dirs,
                    &mut run,
                    step,
                )
            };
            if !ok {
                run.failures.push(step_name(step));
                if step["continue-on-error"] != true {
                    run.failed = true;
                }
            }
        }
        run.summary = std::fs::read_to_string(&summary_file).unwrap_or_default();
        run
    }

    /// A `run:` step; false when it failed.
    #[allow(clippy::too_many_arguments)]
    fn run_step(
        &self,
        script: &str,
        step_env: BTreeMap<String, String>,
        temp: &Path,
        summary: &Path,
        path_dirs: &mut Vec<String>,
        run: &mut JobRun,
        step: &Value,
    ) -> bool {
        let script_file = temp.join("step.sh");
        std::fs::write(&script_file, script).expect("write script");
        let output = temp.join("output");
        let github_path = temp.join("path");
        std::fs::write(&output, "").expect("output file");
        std::fs::write(&github_path, "").expect("path file");
        let mut env = step_env;
        let mut path = path_dirs.iter().rev().cloned().collect::<Vec<_>>();
        path.push(self.tools.display().to_string());
        path.push(system_path());
        for (k, v) in [
            ("PATH", path.join(":")),
            ("HOME", run.home.display().to_string()),
            ("CI", "true".into()),
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_WORKSPACE", run.workspace.display().to_string()),
            ("RUNNER_TEMP", temp.display().to_string()),
            ("GITHUB_OUTPUT", output.display().to_string()),
            ("GITHUB_PATH", github_path.display().to_string()),
            ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ] {
            env.insert(k.to_string(), v);
        }
        let script_path = script_file.display().to_string();
        let out = run_clean(
            "bash",
            &["--noprofile", "--norc", "-eo", "pipefail", &script_path],
            &env,
            &run.workspace,
        );
        eprintln!(
            "step {:?}: exit {}\n{}{}",
            step_name(step),
            out.code,
            out.stdout_str(),
            out.stderr_str()
        );
        for line in read_string(&github_path).lines() {
            path_dirs.push(line.to_string());
        }
        if let Some(id) = step["id"].as_str() {
            let outputs = read_string(&output)
                .lines()
                .map(|l| {
                    assert!(
                        !l.contains("<<"),
                        "multi-line outputs are not supported: {l}"
                    );
                    let (k, v) = l.split_once('=').expect("NAME=VALUE");
                    (k.to_string(), v.to_string())
                })
                .collect();
            run.outputs.insert(id.to_string(), outputs);
        }
        out.code == 0
    }

    /// A `uses:` step, played by the action's documented behaviour; false when it failed.
    fn action(&self, uses: &str, step: &Value, ctx: &Context<'_>, run: &mut JobRun) -> bool {
        let (name, pin) = uses.split_once('@').expect("uses NAME@REF");
        assert!(
            pin.len() == 40 && pin.chars().all(|c| c.is_ascii_hexdigit()),
            "{uses}: not pinned to a commit"
        );
        let with = |key: &str| step["with"][key].as_str().map(|v| ctx.expand(v, run));
        match name {
            "actions/checkout" => {
                copy_dir(&self.repo, &run.workspace);
                true
            }
            "actions/cache" => {
                let id = step["id"].as_str().expect("the cache step has an id");
                let miss = BTreeMap::from([("cache-hit".to_string(), "false".to_string())]);
                run.outputs.insert(id.to_string(), miss);
                true
            }
            "actions/upload-artifact" => {
                let artifact = with("name").expect("artifact name");
                let paths = with("path").expect("artifact path");
                let files: Vec<PathBuf> = paths
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| run.workspace.join(l.trim()))
                    .filter(|p| p.symlink_metadata().is_ok())
                    .collect();
                if files.is_empty() {
                    return with("if-no-files-found").as_deref() != Some("error");
                }
                let into = self.artifacts.join(&artifact);
                if into.exists() {
                    // Names are unique in a run (a re-run included): 409 unless overwrite.
                    if step["with"]["overwrite"] != true {
                        return false;
                    }
                    std::fs::remove_dir_all(&into).expect("overwrite");
                }
                std::fs::create_dir_all(&into).expect("mkdir");
                for file in files {
                    copy_entry(&file, &into.join(file.file_name().expect("file name")));
                }
                true
            }
            "actions/download-artifact" => {
                let path = run.workspace.join(with("path").unwrap_or_default());
                let names: Vec<String> = match (with("name"), with("pattern")) {
                    (Some(name), None) => vec![name],
                    (None, Some(pattern)) => {
                        let prefix = pattern.strip_suffix('*').expect("pattern PREFIX*");
                        let mut names: Vec<String> = std::fs::read_dir(&self.artifacts)
                            .into_iter()
                            .flatten()
                            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                            .filter(|n| n.starts_with(prefix))
                            .collect();
                        names.sort();
                        names
                    }
                    other => panic!("download-artifact with {other:?}"),
                };
                let merge = step["with"]["merge-multiple"] == true;
                for name in names {
                    let from = self.artifacts.join(&name);
                    if !from.is_dir() {
                        return false; // "Artifact not found"
                    }
                    let into = if merge || with("name").is_some() {
                        path.clone()
                    } else {
                        path.join(&name)
                    };
                    copy_dir(&from, &into);
                }
                true
            }
            "github/codeql-action/upload-sarif" => {
                let file = run.workspace.join(with("sarif_file").expect("sarif_file"));
                let sarif: Value = serde_json::from_str(&read_string(&file)).expect("SARIF json");
                assert_eq!(sarif["version"], "2.1.0");
                assert!(with("category").is_some(), "a category for the org sweep");
                run.sarif_uploaded.push(file);
                true
            }
            other => panic!("the test runner does not know the action {other}"),
        }
    }
}

/// What `${{ … }}` can refer to in one job.
struct Context<'a> {
    runner: &'a Runner,
    matrix: Option<&'a (String, Value)>,
    temp: &'a Path,
    workspace: PathBuf,
}

impl Context<'_> {
    fn lookup(&self, expr: &str, run: &JobRun) -> String {
        let expr = expr.trim();
        let parts: Vec<&str> = expr.split('.').collect();
        match parts.as_slice() {
            ["matrix", key] => {
                let (name, value) = self.matrix.expect("a matrix job");
                assert_eq!(name, key, "matrix.{key}");
                scalar(value)
            }
            ["env", key] => {
                let workflow = &self.runner.workflow["env"][key];
                assert!(!workflow.is_null(), "env.{key} is not set in the workflow");
                scalar(workflow)
            }
            ["secrets", key] => self.runner.secrets.get(*key).cloned().unwrap_or_default(),
            ["runner", "temp"] => self.temp.display().to_string(),
            ["runner", "os"] => "Linux".into(),
            ["runner", "arch"] => "X64".into(),
            ["github", "workspace"] => self.workspace.display().to_string(),
            ["steps", id, "outputs", name] => run
                .outputs
                .get(*id)
                .and_then(|o| o.get(*name))
                .cloned()
                .unwrap_or_default(),
            _ => panic!("the test runner does not know the expression {expr}"),
        }
    }

    /// Every `${{ EXPR }}` in `text` replaced.
    fn expand(&self, text: &str, run: &JobRun) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("an expression ends") + start;
            out.push_str(&self.lookup(&rest[start + 3..end], run));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// An `if:`: a status function, or one comparison (implicitly after success()).
    fn condition(&self, text: &str, run: &JobRun) -> bool {
        let text = text.trim();
        let expr = text
            .strip_prefix("${{")
            .and_then(|t| t.strip_suffix("}}"))
            .unwrap_or(text)
            .trim();
        match expr {
            "always()" | "!cancelled()" => true,
            "success()" => !run.failed,
            "failure()" => run.failed,
            _ => {
                let (left, equal, right) = if let Some((l, r)) = expr.split_once(" != ") {
                    (l, false, r)
                } else if let Some((l, r)) = expr.split_once(" == ") {
                    (l, true, r)
                } else {
                    panic!("the test runner does not know the condition {expr}")
                };
                let right = right.trim().trim_matches('\'');
                !run.failed && ((self.lookup(left, run) == right) == equal)
            }
        }
    }
}

/// A YAML scalar as the text GitHub sees.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other}"),
    }
}

fn step_name(step: &Value) -> String {
    step["name"]
        .as_str()
        .or(step["uses"].as_str())
        .or(step["run"].as_str())
        .unwrap_or("?")
        .to_string()
}

/// Copy a file or a symbolic link (kept as a link: the keysweep binary is not copied around).
fn copy_entry(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    let meta = from.symlink_metadata().expect("stat");
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(from).expect("readlink");
        let _ = std::fs::remove_file(to);
        std::os::unix::fs::symlink(target, to).expect("symlink");
    } else {
        std::fs::copy(from, to).expect("copy");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            copy_entry(&entry.path(), &target);
        }
    }
}
