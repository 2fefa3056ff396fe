//! `keysweep git --repos FILE --shard I/N` and `keysweep merge`: real repositories made with
//! git, shards run as separate processes, merged, and compared with one unsharded run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::jose::sha256;
use crate::support::{Ks, Repo, hs_jwt, jsonl_records, p256_pem, random_secret};

/// The shard (1-based) a repository name falls in, as documented: the first 8 bytes of the
/// name's SHA-256, big endian, modulo N, plus one. Computed here independently of keysweep.
fn documented_shard(name: &str, count: u64) -> u64 {
    let hash = sha256(name.as_bytes());
    u64::from_be_bytes(hash[..8].try_into().unwrap()) % count + 1
}

/// `keysweep git --repos LIST`.
fn git_repos(list: &Path) -> Ks {
    Ks::new("git").arg("--repos").arg(list)
}

fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// What must be equal between a merged and an unsharded report: each finding's identity,
/// verdict, severity and every location (path, line, commit, author, date).
fn comparable(report: &Value) -> BTreeMap<String, Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut locations: Vec<Value> = f["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    json!([
                        l["path"],
                        l["line"],
                        l["commit"],
                        l["author"],
                        l["date"],
                        l["commits"]
                    ])
                })
                .collect();
            locations.sort_by_key(|l| l.to_string());
            let fingerprint = f["fingerprint"].as_str().unwrap().to_string();
            let value = json!({
                "rule": f["rule"], "severity": f["severity"],
                "status": f["verification"]["status"], "key": f["key"],
                "locations": locations,
            });
            (fingerprint, value)
        })
        .collect()
}

/// A repository with one commit of `files`.
fn repo_with(dir: &Path, files: &[(&str, String)]) -> Repo {
    let mut repo = Repo::init(dir);
    for (path, content) in files {
        repo.write(path, content);
    }
    repo.commit("initial");
    repo
}

/// Thirty listed repositories: 23 local work trees with a secret each, five of which also
/// share one signing key; five cloned over `file://` URLs (one of them also holds the shared
/// key); one URL that cannot be cloned; one repository whose commit object is damaged.
struct Org {
    _tmp: TempDir,
    list: PathBuf,
    out: PathBuf,
    shared_key_repos: Vec<String>,
}

fn build_org() -> Org {
    let tmp = TempDir::new().unwrap();
    let root = tmp.path();
    let shared_key = p256_pem();
    let mut lines = vec!["# thirty repositories".to_string()];
    let mut shared_key_repos = Vec::new();
    for i in 0..23 {
        let name = format!("team-{i:02}");
        let mut files = vec![(
            "config/jwt.env",
            format!("JWT_SECRET={}\n", random_secret(32)),
        )];
        if i % 5 == 2 {
            files.push(("deploy/signing.pem", shared_key.clone()));
            shared_key_repos.push(name.clone());
        }
        repo_with(&root.join("work").join(&name), &files);
        // Relative to the list's directory: the list works wherever it is copied with them.
        lines.push(format!("work/{name}"));
    }
    for i in 0..5 {
        let name = format!("org/served-{i}");
        let source = root.join("served").join(format!("served-{i}"));
        let mut files = vec![(
            "src/auth.js",
            format!(
                "var secret = '{}';\njwt.sign(payload, secret);\n",
                random_secret(40)
            ),
        )];
        if i == 0 {
            files.push(("keys/prod.pem", shared_key.clone()));
            shared_key_repos.push(name.clone());
        }
        repo_with(&source, &files);
        lines.push(format!("file://{} {name}", source.display()));
    }
    lines.push(format!(
        "file://{} org/ghost",
        root.join("nowhere/ghost.git").display()
    ));
    let corrupt = repo_with(
        &root.join("work/damaged"),
        &[("a.env", format!("JWT_SECRET={}\n", random_secret(32)))],
    );
    corrupt.damage_loose_object(&corrupt.rev("HEAD"));
    lines.push("work/damaged".to_string());
    assert_eq!(lines.len() - 1, 30);
    let list = root.join("repos.txt");
    std::fs::write(&list, lines.join("\n") + "\n").unwrap();
    let out = root.join("out");
    std::fs::create_dir_all(&out).unwrap();
    Org {
        list,
        out,
        shared_key_repos,
        _tmp: tmp,
    }
}

fn run_shard(org: &Org, index: u32, count: u32) -> PathBuf {
    let path = org.out.join(format!("shard-{index}.jsonl"));
    let run = git_repos(&org.list)
        .args(["--shard", &format!("{index}/{count}"), "--no-config"])
        .format("jsonl")
        .arg("-o")
        .arg(&path)
        .run();
    assert!(
        matches!(run.code, 0 | 1),
        "shard {index}/{count}: exit {}: {}",
        run.code,
        run.stderr_str()
    );
    path
}

#[test]
fn four_shards_merged_equal_one_unsharded_run() {
    let org = build_org();
    let shards: Vec<PathBuf> = (1..=4).map(|i| run_shard(&org, i, 4)).collect();

    // Each shard names itself and the list; together they cover the list once, as documented.
    let mut covered = BTreeSet::new();
    let mut digests = BTreeSet::new();
    for (i, path) in shards.iter().enumerate() {
        let records = jsonl_records(path);
        let header = &records[0];
        assert_eq!(header["type"], "header", "{header}");
        assert_eq!(header["shard"], json!({"index": i + 1, "count": 4}));
        assert_eq!(header["list"]["repositories"], 30);
        assert!(header["tool"]["version"].is_string());
        digests.insert(header["list"]["digest"].as_str().unwrap().to_string());
        for name in header["repositories"].as_array().unwrap() {
            let name = name.as_str().unwrap();
            assert_eq!(documented_shard(name, 4), i as u64 + 1, "{name}");
            assert!(covered.insert(name.to_string()), "{name} in two shards");
        }
        let summary = records.last().unwrap();
        assert_eq!(summary["type"], "summary");
        assert_eq!(summary["completed"], true);
        assert_eq!(
            summary["repositories"].as_array().unwrap().len(),
            header["repositories"].as_array().unwrap().len()
        );
    }
    assert_eq!(covered.len(), 30);
    assert_eq!(digests.len(), 1, "every shard saw the same list");

    let merged_path = org.out.join("merged.json");
    let sarif_path = org.out.join("merged.sarif");
    let merge = Ks::new("merge")
        .args(&shards)
        .args(["--no-config", "--format", "json", "-o"])
        .arg(&merged_path)
        .arg("--report")
        .arg(format!("sarif:{}", sarif_path.display()))
        .run();
    assert_eq!(merge.code, 1, "findings: {}", merge.stderr_str());
    let single_path = org.out.join("single.json");
    let single = git_repos(&org.list)
        .args(["--no-config", "--format", "json", "-o"])
        .arg(&single_path)
        .run();
    assert_eq!(single.code, 1, "{}", single.stderr_str());
    let merged = json_file(&merged_path);
    let single = json_file(&single_path);

    assert_eq!(comparable(&merged), comparable(&single));
    assert_eq!(merged["skipped"], single["skipped"]);
    // 23 + 5 secrets; the damaged repository's secret is never read; one shared key.
    assert_eq!(merged["findings"].as_array().unwrap().len(), 28 + 1);

    // The shared key: one finding, a location in each of its repositories.
    let keys: Vec<&Value> = merged["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("private-key/"))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key_repos: BTreeSet<String> = keys[0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let path = l["path"].as_str().unwrap();
            let repo = if path.starts_with("org/") {
                path.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")
            } else {
                path.split('/').next().unwrap().to_string()
            };
            assert_eq!(l["source"], "git");
            assert!(l["commit"].is_string() && l["author"].is_string(), "{l}");
            repo
        })
        .collect();
    let expected: BTreeSet<String> = org.shared_key_repos.iter().cloned().collect();
    assert_eq!(key_repos, expected);

    // The two failures, each listed once, with their reasons.
    let skipped = merged["skipped"].as_array().unwrap();
    let ghost: Vec<&Value> = skipped
        .iter()
        .filter(|s| s["path"] == "org/ghost")
        .collect();
    assert_eq!(ghost.len(), 1, "{skipped:?}");
    assert!(
        ghost[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("clone failed")
    );
    let damaged: Vec<&Value> = skipped.iter().filter(|s| s["path"] == "damaged").collect();
    assert_eq!(damaged.len(), 1, "{skipped:?}");
    assert!(
        damaged[0]["reason"]
            .as_str()
            .unwrap()
            .contains("history not scanned")
    );
    assert_eq!(skipped.len(), 2, "{skipped:?}");

    // The SARIF of the merge is valid and has one result per location (GitHub's alerts are
    // per place).
    let sarif = json_file(&sarif_path);
    crate::support::assert_valid_sarif(&sarif);
    let locations: usize = merged["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["locations"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        locations
    );
}

#[test]
fn a_dropped_and_a_cut_shard_are_named_and_fail_the_merge() {
    let org = build_org();
    let shards: Vec<PathBuf> = (1..=4).map(|i| run_shard(&org, i, 4)).collect();
    std::fs::remove_file(&shards[1]).unwrap();
    let text = std::fs::read(&shards[2]).unwrap();
    std::fs::write(&shards[2], &text[..text.len() * 2 / 3]).unwrap();
    let merged_path = org.out.join("merged.json");
    let merge = Ks::new("merge")
        .args([&shards[0], &shards[2], &shards[3]])
        .args(["--no-config", "--format", "json", "-o"])
        .arg(&merged_path)
        .run();
    let stderr = merge.stderr_str();
    assert_eq!(merge.code, 2, "{stderr}");
    assert!(
        stderr.contains("shard 2/4") && stderr.contains("missing"),
        "{stderr}"
    );
    assert!(
        stderr.contains("shard 3/4") && stderr.contains("incomplete"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&shards[2].display().to_string()),
        "{stderr}"
    );
    assert!(
        !stderr.contains("shard 1/4") && !stderr.contains("shard 4/4"),
        "{stderr}"
    );
    // Nothing that was read is lost: every finding of the whole shards is in the report.
    let merged = json_file(&merged_path);
    let reported: BTreeSet<&str> = merged["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    let whole: Vec<Value> = [&shards[0], &shards[3]]
        .iter()
        .flat_map(|p| jsonl_records(p))
        .filter(|r| r["type"] == "finding")
        .collect();
    assert!(!whole.is_empty());
    for finding in &whole {
        assert!(reported.contains(finding["fingerprint"].as_str().unwrap()));
    }
}

/// Two names that fall in different shards of two.
fn names_in_two_shards() -> (String, String) {
    let names: Vec<String> = (0..20).map(|i| format!("svc-{i}")).collect();
    let first = names.iter().find(|n| documented_shard(n, 2) == 1).unwrap();
    let second = names.iter().find(|n| documented_shard(n, 2) == 2).unwrap();
    (first.clone(), second.clone())
}

#[test]
fn a_secret_in_one_shard_is_proven_by_a_token_in_another_when_sealed() {
    let tmp = TempDir::new().unwrap();
    let (issuer, client) = names_in_two_shards();
    let secret = random_secret(40);
    let token = hs_jwt(
        "HS256",
        secret.as_bytes(),
        &json!({"sub": "u-1", "iss": "api"}),
    );
    repo_with(
        &tmp.path().join(&issuer),
        &[(
            "reset.js",
            format!(
                "var secret = '{secret}';\nfunction reset(u) {{ return jwt.sign({{}}, secret); }}\n"
            ),
        )],
    );
    repo_with(
        &tmp.path().join(&client),
        &[(
            "fixtures/session.txt",
            format!("Authorization: Bearer {token}\n"),
        )],
    );
    let list = tmp.path().join("list.txt");
    std::fs::write(&list, format!("{issuer}\n{client}\n")).unwrap();
    let shard_key = random_secret(48);

    let run_shards = |key: Option<&str>| -> Vec<PathBuf> {
        (1..=2)
            .map(|i| {
                let path = tmp.path().join(format!("s{i}-{}.jsonl", key.is_some()));
                let mut ks = git_repos(&list)
                    .args(["--no-config", "--format", "jsonl", "-o"])
                    .arg(&path)
                    .env("KEYSWEEP_SHARD", format!("{i}/2"));
                ks = match key {
                    Some(key) => ks.env("KEYSWEEP_SHARD_KEY", key),
                    None => ks.env_remove("KEYSWEEP_SHARD_KEY"),
                };
                let run = ks.run();
                assert_eq!(run.code, 1, "{}", run.stderr_str());
                path
            })
            .collect()
    };
    let merge = |shards: &[PathBuf], key: Option<&str>| -> Value {
        let mut ks = Ks::new("merge")
            .args(shards)
            .args(["--no-config", "--format", "json"]);
        ks = match key {
            Some(key) => ks.env("KEYSWEEP_SHARD_KEY", key),
            None => ks.env_remove("KEYSWEEP_SHARD_KEY"),
        };
        let run = ks.run();
        assert_eq!(run.code, 1, "{}", run.stderr_str());
        serde_json::from_slice(&run.stdout).unwrap()
    };
    let secret_status = |report: &Value| -> Value {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "secret/hmac")
            .map(|f| f["verification"]["status"].clone())
            .unwrap_or_else(|| panic!("no secret in {report}"))
    };

    // Sealed: neither shard file holds the secret or the token in clear, and the merge proves
    // the secret signs the other repository's token.
    let sealed = run_shards(Some(&shard_key));
    for path in &sealed {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            !text.contains(&secret),
            "secret in clear in {}",
            path.display()
        );
        assert!(
            !text.contains(&token),
            "token in clear in {}",
            path.display()
        );
        // Within its own shard, nothing proves the secret.
        assert!(!text.contains("signs-token"), "{text}");
    }
    let proven = merge(&sealed, Some(&shard_key));
    assert_eq!(secret_status(&proven), "signs-token", "{proven:#}");
    assert_eq!(
        proven["findings"][0]["severity"], "critical",
        "proven findings come first: {proven:#}"
    );

    // Another key cannot open the seals: the secret stays unproven, and the merge says why.
    let wrong = Ks::new("merge")
        .args(&sealed)
        .args(["--no-config", "--format", "json"])
        .env("KEYSWEEP_SHARD_KEY", random_secret(48))
        .run();
    let wrong_report: Value = serde_json::from_slice(&wrong.stdout).unwrap();
    assert_ne!(secret_status(&wrong_report), "signs-token");
    assert!(
        wrong.stderr_str().contains("do not open"),
        "{}",
        wrong.stderr_str()
    );

    // Unsealed shards carry no material: the merge cannot prove it, and says how to.
    let plain = run_shards(None);
    let unproven = merge(&plain, None);
    assert_ne!(secret_status(&unproven), "signs-token");
}

#[test]
fn the_shard_comes_from_the_batch_engine_environment() {
    let tmp = TempDir::new().unwrap();
    let names: Vec<String> = (0..8).map(|i| format!("r{i}")).collect();
    for name in &names {
        repo_with(&tmp.path().join(name), &[("README", format!("{name}\n"))]);
    }
    let list = tmp.path().join("list.txt");
    std::fs::write(&list, names.join("\n") + "\n").unwrap();
    let header = |ks: Ks| -> Value {
        let run = ks
            .arg("--repos")
            .arg(&list)
            .args(["--no-config", "--format", "jsonl"])
            .run();
        assert_eq!(run.code, 0, "{}", run.stderr_str());
        serde_json::from_str(run.stdout_str().lines().next().unwrap()).unwrap()
    };
    // Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX is 0-based.
    let k8s = header(
        Ks::new("git")
            .env("JOB_COMPLETION_INDEX", "2")
            .env("KEYSWEEP_SHARD_COUNT", "3"),
    );
    assert_eq!(k8s["shard"], json!({"index": 3, "count": 3}));
    let expected: Vec<&String> = names
        .iter()
        .filter(|n| documented_shard(n, 3) == 3)
        .collect();
    assert_eq!(k8s["repositories"], json!(expected));
    let env = header(Ks::new("git").env("KEYSWEEP_SHARD", "1/2"));
    assert_eq!(env["shard"], json!({"index": 1, "count": 2}));
    // The flag wins over the environment.
    let flag = header(
        Ks::new("git")
            .env("KEYSWEEP_SHARD", "1/2")
            .args(["--shard", "2/2"]),
    );
    assert_eq!(flag["shard"], json!({"index": 2, "count": 2}));
    let unsharded = header(Ks::new("git"));
    assert_eq!(unsharded["shard"], json!({"index": 1, "count": 1}));
    assert_eq!(unsharded["repositories"].as_array().unwrap().len(), 8);

    // A count missing, a shard out of range, a bad list: the run cannot start (exit 2).
    let no_count = git_repos(&list)
        .env("JOB_COMPLETION_INDEX", "0")
        .env_remove("KEYSWEEP_SHARD_COUNT")
        .run();
    assert_eq!(no_count.code, 2);
    assert!(no_count.stderr_str().contains("KEYSWEEP_SHARD_COUNT"));
    let out_of_range = git_repos(&list).args(["--shard", "5/4"]).run();
    assert_eq!(out_of_range.code, 2);
    std::fs::write(&list, "r0 same\nr1 same\n").unwrap();
    let duplicate = git_repos(&list).run();
    assert_eq!(duplicate.code, 2);
    assert!(
        duplicate.stderr_str().contains(":2:"),
        "{}",
        duplicate.stderr_str()
    );
}

#[test]
fn clones_are_removed_unless_kept() {
    let tmp = TempDir::new().unwrap();
    let key = p256_pem();
    let source = tmp.path().join("upstream");
    repo_with(&source, &[("k.pem", key)]);
    let list = tmp.path().join("list.txt");
    std::fs::write(&list, format!("file://{} up\n", source.display())).unwrap();
    let workdir = tmp.path().join("clones");
    let run = |keep: bool| {
        let mut ks = git_repos(&list)
            .args(["--no-config", "--format", "json", "--workdir"])
            .arg(&workdir);
        if keep {
            ks = ks.arg("--keep");
        }
        let out = ks.run();
        assert_eq!(out.code, 1, "{}", out.stderr_str());
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["findings"][0]["locations"][0]["path"], "up/k.pem");
    };
    run(false);
    assert_eq!(std::fs::read_dir(&workdir).unwrap().count(), 0);
    run(true);
    let kept: Vec<PathBuf> = std::fs::read_dir(&workdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].join("HEAD").is_file(), "a bare clone: {kept:?}");
}

#[test]
fn an_interrupted_shard_says_so_and_the_merge_names_it() {
    use std::time::{Duration, Instant};
    let tmp = TempDir::new().unwrap();
    let names: Vec<String> = (0..10).map(|i| format!("r{i}")).collect();
    for name in &names {
        repo_with(
            &tmp.path().join(name),
            &[(".env", format!("JWT_SECRET={}\n", random_secret(32)))],
        );
    }
    let list = tmp.path().join("list.txt");
    std::fs::write(&list, names.join("\n") + "\n").unwrap();
    let out = tmp.path().join("shard.jsonl");
    let mut child = git_repos(&list)
        .args(["--no-config", "--format", "jsonl", "-o"])
        .arg(&out)
        .env("KEYSWEEP_TEST_FILE_DELAY_MS", "300")
        .spawn_with_stderr();
    let deadline = Instant::now() + Duration::from_secs(60);
    let finding_written = || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains(r#""type":"finding""#)
    };
    while !finding_written() {
        assert!(Instant::now() < deadline, "no finding within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a signal to our own child's valid pid.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2));

    let records = jsonl_records(&out);
    let summary = records.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["completed"], false);
    let outcomes = summary["repositories"].as_array().unwrap();
    assert_eq!(outcomes.len(), 10);
    let not_scanned = outcomes
        .iter()
        .filter(|o| o["status"] == "not-scanned")
        .count();
    assert!((1..10).contains(&not_scanned), "{outcomes:?}");

    let merge = Ks::new("merge")
        .arg(&out)
        .args(["--no-config", "--format", "json"])
        .run();
    assert_eq!(merge.code, 2);
    let stderr = merge.stderr_str();
    assert!(
        stderr.contains("shard 1/1") && stderr.contains("interrupted"),
        "{stderr}"
    );
    let merged: Value = serde_json::from_slice(&merge.stdout).unwrap();
    let found = records.iter().filter(|r| r["type"] == "finding").count();
    assert_eq!(merged["findings"].as_array().unwrap().len(), found);
}

#[test]
fn the_merge_fetches_the_key_set_once_and_proves_keys_from_every_shard() {
    use crate::support::{Alg, Curve, Enc, Reply, Server, gen_key, jwks, public_jwk};
    let tmp = TempDir::new().unwrap();
    let (first, second) = names_in_two_shards();
    let live = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let retired = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    repo_with(
        &tmp.path().join(&first),
        &[("deploy/prod.pem", live.pem.clone())],
    );
    repo_with(
        &tmp.path().join(&second),
        &[
            ("deploy/prod.pem", live.pem.clone()),
            ("old/retired.pem", retired.pem.clone()),
        ],
    );
    let list = tmp.path().join("list.txt");
    std::fs::write(&list, format!("{first}\n{second}\n")).unwrap();
    let shards: Vec<PathBuf> = (1..=2)
        .map(|i| {
            let path = tmp.path().join(format!("s{i}.jsonl"));
            let run = git_repos(&list)
                .args(["--no-config", "--offline", "--shard", &format!("{i}/2")])
                .format("jsonl")
                .arg("-o")
                .arg(&path)
                .run();
            assert_eq!(run.code, 1, "{}", run.stderr_str());
            path
        })
        .collect();
    let server = Server::http();
    server.route(
        "/jwks",
        Reply::Json(jwks(&[public_jwk(&live.public, "prod")])),
    );
    let merge = Ks::new("merge")
        .args(&shards)
        .args([
            "--no-config",
            "--format",
            "json",
            "--jwks",
            &server.url("/jwks"),
        ])
        .run();
    assert_eq!(merge.code, 1, "{}", merge.stderr_str());
    assert_eq!(server.hits("/jwks"), 1, "the key set is fetched once");
    let report: Value = serde_json::from_slice(&merge.stdout).unwrap();
    let by_thumbprint = |thumbprint: &str| -> &Value {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"]["thumbprint"] == thumbprint)
            .unwrap_or_else(|| panic!("{thumbprint} not in {report:#}"))
    };
    let proven = by_thumbprint(&live.thumbprint());
    assert_eq!(proven["verification"]["status"], "live");
    assert_eq!(proven["verification"]["kid"], "prod");
    assert_eq!(proven["severity"], "critical");
    let paths: BTreeSet<&str> = proven["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            format!("{first}/deploy/prod.pem").as_str(),
            format!("{second}/deploy/prod.pem").as_str()
        ])
    );
    assert_eq!(
        by_thumbprint(&retired.thumbprint())["verification"]["status"],
        "not-live"
    );
}

#[test]
fn a_shard_where_no_repository_could_be_scanned_fails() {
    let tmp = TempDir::new().unwrap();
    let list = tmp.path().join("list.txt");
    let missing = tmp.path().join("missing");
    std::fs::write(
        &list,
        format!(
            "file://{0}/a.git a\nfile://{0}/b.git b\n",
            missing.display()
        ),
    )
    .unwrap();
    let out = tmp.path().join("s.jsonl");
    let run = git_repos(&list)
        .args(["--no-config", "--format", "jsonl", "-o"])
        .arg(&out)
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr_str());
    assert!(
        run.stderr_str()
            .contains("no repository of shard 1/1 could be scanned"),
        "{}",
        run.stderr_str()
    );
    // The report is whole all the same, with both failures.
    let summary = jsonl_records(&out).pop().unwrap();
    assert_eq!(summary["completed"], true);
    assert_eq!(summary["skipped"].as_array().unwrap().len(), 2);

    // A shard the list leaves empty is not a failure, and says so.
    std::fs::write(&list, "r0\n").unwrap();
    repo_with(&tmp.path().join("r0"), &[("README", "r0\n".to_string())]);
    let empty_shard = (1..=2).find(|&i| documented_shard("r0", 2) != i).unwrap();
    let run = git_repos(&list)
        .args(["--no-config", "--shard", &format!("{empty_shard}/2")])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr_str());
    assert!(
        run.stderr_str()
            .contains("no repository of the list (1) falls in shard"),
        "{}",
        run.stderr_str()
    );
}
