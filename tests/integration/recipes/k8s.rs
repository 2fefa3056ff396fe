//! docs/recipes/org-sweep-k8s.yaml (ConfigMap, volume claim, Indexed Job) and
//! org-sweep-k8s-merge.yaml (the merge Job), run: each container's command and args with its
//! `env:` (values, Secret references, and JOB_COMPLETION_INDEX 0..completions-1 as the Job
//! controller sets it), Kubernetes' `$(VAR)` expansion, and its volumes mapped to temporary
//! directories (the ConfigMap's keys as files, one directory per claim shared by both Jobs,
//! a fresh one per emptyDir, an empty one for an optional Secret).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{SHARD_KEY, Sweep, check_split, keysweep_dir, run_clean, system_path, yaml_documents};
use crate::support::*;

pub const SHARDS_MANIFEST: &str = "org-sweep-k8s.yaml";
pub const MERGE_MANIFEST: &str = "org-sweep-k8s-merge.yaml";

fn manifest(name: &str) -> Vec<Value> {
    yaml_documents(&Path::new(super::RECIPES).join(name))
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

/// The one container of a Job.
fn container(job: &Value) -> &Value {
    let containers = job["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 1);
    &containers[0]
}

/// A value of the container's `env:`.
fn env_value<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no env {name}"))
}

/// Runs a Job's container in the test's stand-ins for its volumes and secrets.
struct Cluster {
    root: PathBuf,
    /// Directory per persistent volume claim.
    claims: BTreeMap<String, PathBuf>,
    /// ConfigMaps by name: key -> content.
    config_maps: BTreeMap<String, BTreeMap<String, String>>,
    /// Secrets by name: key -> value.
    secrets: BTreeMap<String, BTreeMap<String, String>>,
    keysweep: PathBuf,
    pods: usize,
}

impl Cluster {
    /// Runs the container of `job` with `extra` environment (the Job controller's); returns
    /// its exit code and output.
    fn run_pod(&mut self, job: &Value, extra: &[(&str, String)]) -> Outcome {
        self.pods += 1;
        let pod = self.root.join(format!("pod-{}", self.pods));
        let spec = &job["spec"]["template"]["spec"];
        assert_eq!(spec["restartPolicy"], "Never");
        let container = container(job);
        // Volumes: mountPath -> directory here.
        let mut mounts: Vec<(String, PathBuf)> = Vec::new();
        for mount in container["volumeMounts"].as_array().expect("volumeMounts") {
            let name = mount["name"].as_str().expect("mount name");
            let volume = spec["volumes"]
                .as_array()
                .expect("volumes")
                .iter()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("no volume {name}"));
            let dir = if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
                self.claims
                    .get(claim)
                    .unwrap_or_else(|| panic!("no claim {claim}"))
                    .clone()
            } else if let Some(map) = volume["configMap"]["name"].as_str() {
                let dir = pod.join(name);
                std::fs::create_dir_all(&dir).expect("mkdir");
                let data = self
                    .config_maps
                    .get(map)
                    .unwrap_or_else(|| panic!("no ConfigMap {map}"));
                for (key, content) in data {
                    std::fs::write(dir.join(key), content).expect("write key");
                }
                dir
            } else if volume.get("emptyDir").is_some() || volume["secret"]["optional"] == true {
                // An optional Secret that does not exist is an empty directory.
                pod.join(name)
            } else {
                panic!("the test does not know the volume {volume}")
            };
            std::fs::create_dir_all(&dir).expect("mkdir");
            let path = mount["mountPath"].as_str().expect("mountPath").to_string();
            mounts.push((path, dir));
        }
        mounts.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        let map_paths = |text: &str| map_mounts(text, &mounts);
        // The environment as the container sees it (paths inside the pod).
        let mut env = BTreeMap::new();
        for (name, value) in extra {
            env.insert(name.to_string(), value.clone());
        }
        for var in container["env"].as_array().expect("env") {
            let name = var["name"].as_str().expect("name").to_string();
            let value = if let Some(value) = var["value"].as_str() {
                value.to_string()
            } else if let Some(secret) = var["valueFrom"].get("secretKeyRef") {
                let (name, key) = (
                    secret["name"].as_str().unwrap(),
                    secret["key"].as_str().unwrap(),
                );
                self.secrets[name][key].clone()
            } else {
                panic!("the test does not know the env value {var}")
            };
            env.insert(name, value);
        }
        // Kubernetes expands $(VAR) in the pod's terms; then everything is mapped to here.
        let mut argv: Vec<String> = Vec::new();
        for part in ["command", "args"] {
            for arg in container[part].as_array().into_iter().flatten() {
                argv.push(map_paths(&expand_k8s(
                    arg.as_str().expect("a string"),
                    &env,
                )));
            }
        }
        let mut env: BTreeMap<String, String> =
            env.iter().map(|(k, v)| (k.clone(), map_paths(v))).collect();
        env.insert(
            "PATH".into(),
            format!("{}:{}", self.keysweep.display(), system_path()),
        );
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        std::fs::create_dir_all(&pod).expect("mkdir");
        run_clean(&argv[0], &args, &env, &pod)
    }
}

/// Absolute paths under a mount point (`/results/x`, `/work`) made paths under its directory
/// here, in one pass (a mapped path is not mapped again).
fn map_mounts(text: &str, mounts: &[(String, PathBuf)]) -> String {
    let mut out = String::new();
    let mut i = 0;
    'scan: while i < text.len() {
        let starts_path =
            i == 0 || !text[..i].ends_with(|c: char| c.is_alphanumeric() || "/._-$".contains(c));
        if starts_path {
            for (path, dir) in mounts {
                let rest = &text[i..];
                if rest.starts_with(path.as_str())
                    && rest[path.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| c == '/' || !(c.is_alphanumeric() || "._-".contains(c)))
                {
                    out.push_str(&dir.display().to_string());
                    i += path.len();
                    continue 'scan;
                }
            }
        }
        let c = text[i..].chars().next().expect("a char");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Kubernetes' expansion of command and args: `$(NAME)` of a variable in the container's
/// environment is replaced, `$$` is `$`; anything else is left for the shell.
fn expand_k8s(text: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$$") {
            out.push('$');
            rest = after;
        } else if let Some(inner) = tail.strip_prefix("$(")
            && let Some(end) = inner.find(')')
            && let Some(value) = env.get(&inner[..end])
        {
            out.push_str(value);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The manifests' shape: an Indexed Job whose completions, parallelism and
/// KEYSWEEP_SHARD_COUNT agree; the list from the ConfigMap; the shard key from a Secret in
/// both Jobs; both Jobs on the same claim and image; the image built by docs/recipes/Dockerfile.
#[test]
fn manifests_have_the_documented_shape() {
    let docs = manifest(SHARDS_MANIFEST);
    let job = of_kind(&docs, "Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let completions = spec["completions"].as_u64().expect("completions");
    assert_eq!(spec["parallelism"].as_u64(), Some(completions));
    let c = container(job);
    assert_eq!(
        env_value(c, "KEYSWEEP_SHARD_COUNT")["value"],
        completions.to_string()
    );
    assert!(
        c["env"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] != "JOB_COMPLETION_INDEX"),
        "Kubernetes sets JOB_COMPLETION_INDEX"
    );
    let config_map = of_kind(&docs, "ConfigMap");
    assert!(config_map["data"]["repos.txt"].is_string());
    let claim = of_kind(&docs, "PersistentVolumeClaim");
    let volumes = &spec["template"]["spec"]["volumes"];
    assert!(
        volumes
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["configMap"]["name"] == config_map["metadata"]["name"])
    );
    let merge_docs = manifest(MERGE_MANIFEST);
    let merge = of_kind(&merge_docs, "Job");
    for job in [job, merge] {
        let key = &env_value(container(job), "KEYSWEEP_SHARD_KEY")["valueFrom"]["secretKeyRef"];
        assert_eq!(key["name"], "keysweep-shard-key");
        let vols = job["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .unwrap();
        assert!(
            vols.iter()
                .any(|v| v["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"])
        );
    }
    assert_eq!(container(job)["image"], container(merge)["image"]);
    let image = container(job)["image"].as_str().expect("image");
    assert!(
        image.ends_with(&format!(":{}", env!("CARGO_PKG_VERSION"))),
        "the image of this release: {image}"
    );
    let dockerfile = read_string(Path::new(super::RECIPES).join("Dockerfile"));
    assert!(dockerfile.contains("cargo install --locked --path . --root /out"));
    assert!(dockerfile.contains("COPY --from=build /out/bin/keysweep /usr/local/bin/keysweep"));
    assert!(
        !dockerfile.contains("ENTRYPOINT"),
        "the manifests' command runs as given"
    );
}

/// Every index of the Indexed Job, then the merge Job; a pod whose list is broken; the merge
/// with one shard gone.
#[test]
fn jobs_run_as_written() {
    let sweep = Sweep::new();
    let root = sweep.dir("k8s");
    let docs = manifest(SHARDS_MANIFEST);
    let job = of_kind(&docs, "Job");
    let merge_job = of_kind(&manifest(MERGE_MANIFEST), "Job").clone();
    let claim = of_kind(&docs, "PersistentVolumeClaim")["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let results = root.join("claim");
    std::fs::create_dir_all(&results).expect("mkdir");
    let map_name = of_kind(&docs, "ConfigMap")["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let mut cluster = Cluster {
        root: root.clone(),
        claims: BTreeMap::from([(claim, results.clone())]),
        // The test's repositories instead of the example list.
        config_maps: BTreeMap::from([(
            map_name,
            BTreeMap::from([("repos.txt".to_string(), sweep.list.clone())]),
        )]),
        secrets: BTreeMap::from([(
            "keysweep-shard-key".to_string(),
            BTreeMap::from([("key".to_string(), SHARD_KEY.to_string())]),
        )]),
        keysweep: keysweep_dir(&root),
        pods: 0,
    };
    let completions = job["spec"]["completions"].as_u64().expect("completions");
    let mut files = Vec::new();
    for index in 0..completions {
        let out = cluster.run_pod(job, &[("JOB_COMPLETION_INDEX", index.to_string())]);
        assert_eq!(out.code, 0, "index {index}: {}", out.stderr_str());
        files.push(results.join(format!("shard-{index}.jsonl")));
    }
    check_split(&files, completions);

    let out = cluster.run_pod(&merge_job, &[]);
    assert_eq!(
        out.code,
        0,
        "findings do not fail the merge pod: {}",
        out.stderr_str()
    );
    assert!(
        out.stdout_str().contains("deploy/deploy/signing.pem"),
        "the human report in the log"
    );
    let json: Value =
        serde_json::from_str(&read_string(results.join("keysweep.json"))).expect("json");
    let sarif: Value =
        serde_json::from_str(&read_string(results.join("keysweep.sarif"))).expect("sarif");
    sweep.check_merged(&json, &sarif, &files);

    // A list keysweep cannot read fails the pod (Kubernetes retries the index); findings did not.
    let map = cluster
        .config_maps
        .values_mut()
        .next()
        .expect("the ConfigMap");
    map.insert("repos.txt".to_string(), "a\na\n".to_string());
    let out = cluster.run_pod(job, &[("JOB_COMPLETION_INDEX", "0".to_string())]);
    assert_eq!(out.code, 2, "{}", out.stderr_str());

    std::fs::remove_file(&files[1]).expect("drop shard 2");
    let out = cluster.run_pod(&merge_job, &[]);
    assert_eq!(out.code, 2, "a missing shard fails the merge pod");
    assert!(
        out.stderr_str()
            .contains(&format!("shard 2/{completions} of list")),
        "{}",
        out.stderr_str()
    );
}
