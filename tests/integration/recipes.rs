//! The org-sweep recipes in docs/recipes run as written.
//!
//! Each YAML file is parsed with PyYAML (the pre-commit virtualenv the test set-up installs)
//! into JSON, its structure checked, and the commands it runs are run: the GitHub Actions
//! workflow's jobs by a small runner that follows GitHub's rules for the few actions the
//! workflow uses (`actions`), the Kubernetes Jobs' containers with their environment and
//! volumes mapped to temporary directories (`k8s`). Both sweep the same repositories, built
//! with `git` here: a private key in one, an HMAC secret in a second and a token it signs in a
//! third (in another shard, so the merge must open the sealed values to prove it), and clean
//! ones. The merged report must hold what a single unsharded `keysweep git --repos` run finds.

mod actions;
mod k8s;
mod runner;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::ks::{BIN, run_with_timeout};
use crate::support::*;

/// The recipes' directory.
const RECIPES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/recipes");

/// The shard key the recipes' secrets hold in these runs.
const SHARD_KEY: &str = "5f0c4bd1a6e27f9983c2e1d04b7a66f1c0de9a8b7f6e5d4c3b2a190817263544";

/// Every YAML file of docs/recipes parses, and each is one the tests below run.
#[test]
fn every_recipe_parses_and_is_run_here() {
    let mut yaml = Vec::new();
    for entry in std::fs::read_dir(RECIPES).expect("docs/recipes") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".yml") || name.ends_with(".yaml") {
            let docs = yaml_documents(&path);
            assert!(!docs.is_empty(), "{name} holds no YAML document");
            yaml.push(name);
        }
    }
    yaml.sort();
    let mut run = [actions::WORKFLOW, k8s::SHARDS_MANIFEST, k8s::MERGE_MANIFEST];
    run.sort();
    assert_eq!(yaml, run, "a recipe that no test runs");
}

/// The documents of a YAML file as JSON, parsed by PyYAML (`safe_load_all`).
fn yaml_documents(path: &Path) -> Vec<Value> {
    let python = venv_python();
    let out = Command::new(&python)
        .args([
            "-c",
            "import json, sys, yaml\njson.dump(list(yaml.safe_load_all(open(sys.argv[1], encoding='utf-8'))), sys.stdout)",
        ])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{} is not valid YAML:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Value = serde_json::from_slice(&out.stdout).expect("json from python");
    docs.as_array().expect("a list of documents").clone()
}

/// The Python of the virtualenv that holds pre-commit (which depends on PyYAML): the one
/// .ci/install-test-deps makes, or the one beside KEYSWEEP_PRE_COMMIT.
fn venv_python() -> PathBuf {
    let pre_commit = std::env::var_os("KEYSWEEP_PRE_COMMIT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-tools/venv/bin/pre-commit"),
        PathBuf::from,
    );
    let python = pre_commit.with_file_name("python");
    assert!(
        python.is_file(),
        "no Python with PyYAML at {}; this test must not be skipped. Run .ci/install-test-deps",
        python.display()
    );
    python
}

/// A directory holding `keysweep` (a link to the binary under test), for PATH.
fn keysweep_dir(tmp: &Path) -> PathBuf {
    let dir = tmp.join("keysweep-bin");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::os::unix::fs::symlink(BIN, dir.join("keysweep")).expect("link keysweep");
    dir
}

/// The system PATH without any directory that holds another `keysweep`, so that only what a
/// recipe puts on PATH is found.
fn system_path() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|d| !d.join("keysweep").exists())
        .collect();
    std::env::join_paths(dirs)
        .expect("PATH")
        .to_string_lossy()
        .into_owned()
}

/// Runs `program args` with exactly `env` (nothing inherited) in `cwd`.
fn run_clean(program: &str, args: &[&str], env: &BTreeMap<String, String>, cwd: &Path) -> Outcome {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(cwd).env_clear().envs(env);
    run_with_timeout(cmd, &format!("{program} {args:?}"))
}

/// The repositories both recipes sweep, and what is planted in them.
struct Sweep {
    tmp: TempDir,
    /// The list's text: one absolute path per line.
    list: String,
    /// The planted private key (in `deploy`).
    key: GenKey,
    /// The HMAC secret (in `auth-service`) and the token it signs (in `web`).
    secret: String,
    token: String,
}

/// Repositories named so that the key, the secret and the token each land in another shard of
/// four (checked from the shard headers), plus two clean ones.
const REPOSITORIES: [&str; 5] = ["deploy", "auth-service", "web", "billing", "mobile"];

impl Sweep {
    fn new() -> Sweep {
        let tmp = TempDir::new().expect("tmp");
        let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
        let secret = random_secret(40);
        let token = hs_jwt(
            "HS256",
            secret.as_bytes(),
            &json!({"iss": "https://auth.example.org", "sub": "admin"}),
        );
        let mut list = String::from("# the organisation's repositories\n");
        for name in REPOSITORIES {
            let mut repo = Repo::init(&tmp.path().join("repos").join(name));
            repo.write("README.md", &format!("# {name}\n"));
            repo.commit("initial");
            match name {
                "deploy" => repo.write("deploy/signing.pem", &key.pem),
                "auth-service" => repo.write(".env", &format!("JWT_SECRET={secret}\n")),
                "web" => repo.write(
                    "docs/api.md",
                    &format!("curl -H 'Authorization: Bearer {token}' https://api.example.org\n"),
                ),
                _ => repo.write("src/main.rs", "fn main() {}\n"),
            }
            repo.commit("work");
            list.push_str(&format!("{}\n", repo.dir.display()));
        }
        Sweep {
            tmp,
            list,
            key,
            secret,
            token,
        }
    }

    /// A fresh directory under the sweep's temporary directory.
    fn dir(&self, name: &str) -> PathBuf {
        let dir = self.tmp.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    /// One unsharded `keysweep git --repos` run over the same list: what the merge must equal.
    fn unsharded(&self) -> Value {
        let dir = self.dir("unsharded");
        std::fs::write(dir.join("repos.txt"), &self.list).expect("write list");
        let out = Ks::new("git")
            .args(["--repos", "repos.txt", "--format", "json"])
            .current_dir(&dir)
            .env_remove("KEYSWEEP_SHARD")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("KEYSWEEP_SHARD_KEY")
            .run();
        assert_eq!(out.code, 1, "unsharded run: {}", out.stderr_str());
        serde_json::from_slice(&out.stdout).expect("unsharded json")
    }

    /// The merged JSON and SARIF reports hold each planted finding once, at its repository's
    /// path, verified across shards, exactly as the unsharded run found them; and no report or
    /// shard file holds the secret or the token in clear.
    fn check_merged(&self, json: &Value, sarif: &Value, shard_files: &[PathBuf]) {
        let findings = json["findings"].as_array().expect("findings");
        let key: Vec<&Value> = findings
            .iter()
            .filter(|f| f["key"]["thumbprint"] == self.key.thumbprint().as_str())
            .collect();
        assert_eq!(key.len(), 1, "the planted key once: {json:#}");
        let paths: Vec<&str> = key[0]["locations"]
            .as_array()
            .expect("locations")
            .iter()
            .map(|l| l["path"].as_str().expect("path"))
            .collect();
        assert_eq!(paths, ["deploy/deploy/signing.pem"], "{json:#}");

        let secret = findings
            .iter()
            .find(|f| f["rule"] == "secret/hmac")
            .unwrap_or_else(|| panic!("no HMAC secret: {json:#}"));
        assert_eq!(secret["locations"][0]["path"], "auth-service/.env");
        assert_eq!(
            secret["verification"]["status"], "signs-token",
            "the secret proven against the token of another shard: {json:#}"
        );
        let token_at = secret["verification"]["token"]["location"]
            .as_str()
            .expect("token");
        assert!(token_at.starts_with("web/docs/api.md:1 "), "{token_at}");

        assert_valid_sarif(sarif);
        let uris: Vec<&str> = sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .flat_map(|r| r["locations"].as_array().expect("locations"))
            .map(|l| {
                l["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .expect("uri")
            })
            .collect();
        assert_eq!(
            uris.iter()
                .filter(|u| **u == "deploy/deploy/signing.pem")
                .count(),
            1,
            "{uris:?}"
        );

        assert_eq!(
            view(json),
            view(&self.unsharded()),
            "the merged shards differ from one unsharded run"
        );

        let mut texts = vec![json.to_string(), sarif.to_string()];
        texts.extend(shard_files.iter().map(read_string));
        for text in texts {
            assert!(!text.contains(&self.secret), "the secret in clear");
            assert!(!text.contains(&self.token), "the token in clear");
        }
    }
}

/// What two reports must agree on: each finding's rule, fingerprint, verification, severity
/// and locations.
fn view(report: &Value) -> Vec<Value> {
    let mut findings: Vec<Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let mut locations: Vec<Value> = f["locations"]
                .as_array()
                .expect("locations")
                .iter()
                .map(|l| json!([l["path"], l["line"], l["column"], l["commit"], l["blob"]]))
                .collect();
            locations.sort_by_key(Value::to_string);
            json!({
                "rule": f["rule"],
                "fingerprint": f["fingerprint"],
                "status": f["verification"]["status"],
                "severity": f["severity"],
                "locations": locations,
            })
        })
        .collect();
    findings.sort_by_key(|f| f["fingerprint"].to_string());
    findings
}

/// Which repositories each shard file's header names, by shard index.
fn shard_contents(files: &[PathBuf]) -> BTreeMap<u64, Vec<String>> {
    let mut shards = BTreeMap::new();
    for file in files {
        let text = read_string(file);
        let header: Value =
            serde_json::from_str(text.lines().next().expect("a header line")).expect("header");
        assert_eq!(header["type"], "header", "{}", file.display());
        let names = header["repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .map(|n| n.as_str().expect("name").to_string())
            .collect();
        let index = header["shard"]["index"].as_u64().expect("index");
        assert!(shards.insert(index, names).is_none(), "shard {index} twice");
    }
    shards
}

/// The shards cover every repository once, and the key, the secret and the token are each in
/// another shard (so the merge, not one shard, brings them together).
fn check_split(files: &[PathBuf], count: u64) {
    let shards = shard_contents(files);
    assert_eq!(
        shards.keys().copied().collect::<Vec<_>>(),
        (1..=count).collect::<Vec<_>>()
    );
    let mut all: Vec<&str> = shards.values().flatten().map(String::as_str).collect();
    all.sort();
    let mut expected = REPOSITORIES.to_vec();
    expected.sort();
    assert_eq!(all, expected, "every repository in exactly one shard");
    let shard_of = |name: &str| {
        shards
            .iter()
            .find(|(_, names)| names.iter().any(|n| n == name))
            .map(|(i, _)| *i)
    };
    let planted = [
        shard_of("deploy"),
        shard_of("auth-service"),
        shard_of("web"),
    ];
    assert!(
        planted[0] != planted[1] && planted[1] != planted[2] && planted[0] != planted[2],
        "the planted repositories share a shard: {shards:?}"
    );
}
