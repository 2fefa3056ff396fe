//! The exit gate, annotations, summary, cache key and the checks on action.yml itself.

use super::*;

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
