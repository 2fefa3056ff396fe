//! HMAC secrets against JWTs, guessable secrets and `alg: none`, known example keys, the
//! verification in every output format, and exposure windows from git history.

use std::path::Path;

use serde_json::{Value, json};

use super::{Fixture, detail, status};
use crate::support::*;

// ---------------------------------------------------------------------------
// HMAC secrets against JWTs; guessable secrets; alg none
// ---------------------------------------------------------------------------

#[test]
fn env_secret_that_signs_a_token_elsewhere_is_signs_token() {
    let tree = Tree::new();
    let secret = random_secret(32);
    tree.write("service/.env", format!("JWT_SECRET={secret}\n"));
    let token = hs_jwt(
        "HS384",
        secret.as_bytes(),
        &json!({"iss": "https://auth.example.org", "sub": "admin", "exp": 4102444800u64}),
    );
    tree.write(
        "docs/api.md",
        format!("curl -H 'Authorization: Bearer {token}'\n"),
    );
    let unrelated = random_secret(32);
    tree.write("other/.env", format!("SESSION_SECRET={unrelated}\n"));

    let scan = tree.scan(&[]);
    scan.assert_exit(1);
    let secrets = scan.with_rule("secret/hmac");
    assert_eq!(secrets.len(), 2, "{}", scan.summary());
    let signing = scan.at_path("service/.env")[0];
    assert_eq!(status(signing), "signs-token", "{}", scan.pretty());
    assert_eq!(signing["severity"], "critical");
    let token_ref = &signing["verification"]["token"];
    assert_eq!(token_ref["location"], "docs/api.md:1");
    assert_eq!(token_ref["alg"], "HS384");
    assert_eq!(token_ref["iss"], "https://auth.example.org");
    assert_eq!(token_ref["sub"], "admin");
    assert!(detail(signing).contains("docs/api.md:1"));
    let other = scan.at_path("other/.env")[0];
    assert_eq!(status(other), "unverified", "{}", scan.pretty());
    // The secret never appears in the report.
    assert!(!scan.pretty().contains(&secret));
}

#[test]
fn base64_stored_spring_secret_signs_token() {
    let tree = Tree::new();
    let (bytes, text) = random_b64_secret(64);
    tree.write(
        "src/main/resources/application.properties",
        format!("server.port=8080\njwt.secret={text}\n"),
    );
    // Signed with the decoded bytes, as Spring's Decoders.BASE64 does.
    let token = hs_jwt("HS512", &bytes, &json!({"sub": "42", "iss": "spring-app"}));
    tree.write("src/test/resources/token.txt", &token);
    let scan = tree.scan(&[]);
    let secret = scan.one_with_rule("secret/hmac");
    assert_eq!(status(secret), "signs-token", "{}", scan.pretty());
    assert_eq!(
        secret["verification"]["token"]["location"],
        "src/test/resources/token.txt:1"
    );
    assert_eq!(secret["verification"]["token"]["iss"], "spring-app");
}

#[test]
fn given_tokens_are_tried_too() {
    let tree = Tree::new();
    let secret = random_secret(32);
    tree.write("config/app.yml", format!("jwt:\n  secret: {secret}\n"));
    let first = hs_jwt(
        "HS256",
        b"some-other-key-entirely-0123456789",
        &json!({"sub": "x"}),
    );
    let token = hs_jwt(
        "HS256",
        secret.as_bytes(),
        &json!({"iss": "prod", "sub": "root"}),
    );
    let scan = tree.scan(&["--token", &first, "--token", &token]);
    let finding = scan.one_with_rule("secret/hmac");
    assert_eq!(status(finding), "signs-token", "{}", scan.pretty());
    assert_eq!(finding["verification"]["token"]["location"], "--token 2");
    assert_eq!(finding["verification"]["token"]["iss"], "prod");

    let files = Tree::new();
    let list = files
        .write("tokens.txt", format!("# captured\n{first}\n\n{token}\n"))
        .display()
        .to_string();
    let scan = tree.scan(&["--tokens-file", &list]);
    let finding = scan.one_with_rule("secret/hmac");
    assert_eq!(status(finding), "signs-token", "{}", scan.pretty());
    assert_eq!(
        finding["verification"]["token"]["location"],
        json!(format!("{list}:4"))
    );
}

#[test]
fn tokens_with_guessable_secrets_and_alg_none_are_flagged() {
    let tree = Tree::new();
    let weak = hs_jwt(
        "HS256",
        b"your-256-bit-secret",
        &json!({"sub": "1234567890"}),
    );
    let weak512 = hs_jwt("HS512", b"changeme", &json!({"sub": "a"}));
    let none = make_jwt(
        &json!({"alg": "none", "typ": "JWT"}),
        &json!({"sub": "admin"}),
        |_| Vec::new(),
    );
    let strong = hs_jwt("HS256", random_secret(40).as_bytes(), &json!({"sub": "b"}));
    tree.write("a.txt", format!("token={weak}\n"));
    tree.write("b.txt", format!("token={weak512}\n"));
    tree.write("c.txt", format!("token={none}\n"));
    tree.write("d.txt", format!("token={strong}\n"));
    let scan = tree.scan(&[]);
    for path in ["a.txt", "b.txt"] {
        let f = scan.at_path(path)[0];
        assert_eq!(status(f), "weak-secret", "{path}\n{}", scan.pretty());
        assert!(detail(f).contains("weak-secret list"), "{}", detail(f));
        // The secret itself is not printed.
        assert!(!scan.pretty().contains("your-256-bit-secret"));
    }
    let f = scan.at_path("c.txt")[0];
    assert_eq!(status(f), "weak-secret", "{}", scan.pretty());
    assert!(detail(f).contains("alg: none"));
    assert_eq!(status(scan.at_path("d.txt")[0]), "unverified");

    // A given token with a guessable secret becomes a finding of its own.
    let scan = Tree::new().scan(&["--token", &weak]);
    scan.assert_exit(1);
    let f = scan.one_with_rule("jwt/token");
    assert_eq!(status(f), "weak-secret");
    assert_eq!(f["locations"][0]["path"], "--token");
}

#[test]
fn a_found_secret_makes_the_tokens_it_signs_weak() {
    let tree = Tree::new();
    let secret = random_secret(24);
    tree.write(".env", format!("TOKEN_SECRET={secret}\n"));
    let token = hs_jwt("HS256", secret.as_bytes(), &json!({"sub": "z"}));
    tree.write("t.txt", &token);
    let scan = tree.scan(&[]);
    let jwt = scan.one_with_rule("jwt/token");
    assert_eq!(status(jwt), "weak-secret", "{}", scan.pretty());
    assert!(detail(jwt).contains(".env:1"), "{}", detail(jwt));
}

// ---------------------------------------------------------------------------
// known example keys
// ---------------------------------------------------------------------------

#[test]
fn known_example_keys_table_matches_the_vectors() {
    let table: toml::Value = toml::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/rules/known-example-keys.toml"
        ))
        .expect("read table"),
    )
    .expect("toml");
    let keys = table["key"].as_array().expect("keys");
    let mut checked = 0;
    for key in keys {
        let source = key["source"].as_str().expect("source");
        let path = Path::new(VECTORS).join(source);
        if !source.ends_with(".json") {
            continue;
        }
        let jwk: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("vector")).expect("json");
        assert_eq!(
            jwk_thumbprint(&jwk),
            key["thumbprint"].as_str().expect("thumbprint"),
            "{source}"
        );
        checked += 1;
    }
    assert!(checked >= 11, "{checked}");
    // Every private example in the vectors is in the table.
    let thumbprints: Vec<&str> = keys
        .iter()
        .filter_map(|k| k["thumbprint"].as_str())
        .collect();
    for entry in std::fs::read_dir(VECTORS).expect("vectors") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".json") || name.contains("jwks") {
            continue;
        }
        let jwk: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert!(
            thumbprints.contains(&jwk_thumbprint(&jwk).as_str()),
            "{name} is not in known-example-keys.toml"
        );
    }
}

#[test]
fn rfc_example_keys_are_known_examples_unless_a_jwks_holds_them() {
    let tree = Tree::new();
    let rsa = std::fs::read_to_string(Path::new(VECTORS).join("rfc7517-A.2-rsa-private.json"))
        .expect("vector");
    tree.write("vendor/jose/tests/rsa.json", &rsa);
    let ed = std::fs::read_to_string(Path::new(VECTORS).join("rfc8037-A.1-ed25519-private.json"))
        .expect("vector");
    tree.write("vendor/jose/tests/ed.json", &ed);
    let rsa_tp = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    let ed_tp = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    let scan = tree.scan(&[]);
    for tp in [rsa_tp, ed_tp] {
        let f = scan.one_with_thumbprint(tp);
        assert_eq!(status(f), "known-example", "{}", scan.pretty());
        assert_eq!(f["severity"], "low");
    }

    // Production publishes the RFC RSA key: live wins.
    let server = Server::http();
    let public =
        std::fs::read_to_string(Path::new(VECTORS).join("rfc7517-A.1-jwks.json")).expect("vector");
    server.route("/jwks", Reply::Json(public));
    let scan = tree.scan(&["--jwks", &server.url("/jwks")]);
    let f = scan.one_with_thumbprint(rsa_tp);
    assert_eq!(status(f), "live", "{}", scan.pretty());
    assert_eq!(f["verification"]["kid"], "2011-04-29");
    assert_eq!(f["severity"], "critical");
    let f = scan.one_with_thumbprint(ed_tp);
    assert_eq!(status(f), "known-example");
}

// ---------------------------------------------------------------------------
// every output format carries the verification
// ---------------------------------------------------------------------------

#[test]
fn sarif_and_human_output_carry_the_verification() {
    let fx = Fixture::new();
    let server = Server::http();
    server.route("/jwks", Reply::Json(fx.jwks()));
    let url = server.url("/jwks");
    let scan = || Ks::new("scan").arg(fx.tree.root()).args(["--jwks", &url]);
    let run = scan().format("sarif").run();
    assert_eq!(run.code, 1, "{}", run.stderr_str());
    let sarif = run.json();
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let live: Vec<&Value> = results
        .iter()
        .filter(|r| r["properties"]["verification"]["status"] == "live")
        .collect();
    assert_eq!(live.len(), 1, "{sarif:#}");
    assert_eq!(live[0]["level"], "error");
    assert_eq!(live[0]["properties"]["verification"]["kid"], "prod-ec");
    assert_eq!(live[0]["properties"]["verification"]["source"], json!(url));
    let signs: Vec<&Value> = results
        .iter()
        .filter(|r| r["properties"]["verification"]["status"] == "signs-token")
        .collect();
    assert_eq!(signs.len(), 1);
    assert_eq!(signs[0]["level"], "error");
    assert!(!run.stdout_str().contains(&fx.secret));

    let run = scan().args(["--color", "never"]).run();
    let text = run.stdout_str();
    assert!(
        text.contains(&format!("live (kid prod-ec) via {url}")),
        "{text}"
    );
    assert!(text.contains("signs-token"), "{text}");
    assert!(!text.contains(&fx.secret));
}

// ---------------------------------------------------------------------------
// exposure window from git history
// ---------------------------------------------------------------------------

#[test]
fn live_keys_and_signing_secrets_in_history_report_their_exposure_window() {
    let dir = Tree::new();
    let mut repo = Repo::init(dir.root());
    let secret = random_secret(32);
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    repo.write(".env", &format!("JWT_SECRET={secret}\n"));
    let first = repo.commit_at("change", "2021-03-04T05:06:07+02:00");
    repo.write("deploy/key.pem", &key.pem);
    let key_commit = repo.commit_at("change", "2022-06-01T12:00:00+00:00");
    let token = hs_jwt("HS256", secret.as_bytes(), &json!({"sub": "svc"}));
    repo.write("config/app.env", &format!("JWT_SECRET={secret}\n"));
    repo.write("test/token.txt", &token);
    repo.commit_at("change", "2023-01-01T00:00:00+00:00");
    let server = Server::http();
    server.route("/jwks", Reply::Json(jwks(&[public_jwk(&key.public, "k1")])));
    let json = Ks::new("git")
        .arg(&repo.dir)
        .format("json")
        .args(["--jwks", &server.url("/jwks")])
        .run()
        .json();
    let findings = json["findings"].as_array().expect("findings");
    let secret_finding = findings
        .iter()
        .find(|f| f["rule"] == "secret/hmac")
        .expect("secret finding");
    assert_eq!(status(secret_finding), "signs-token", "{json:#}");
    assert_eq!(
        secret_finding["verification"]["exposed_since"], "2021-03-04T05:06:07+02:00",
        "{json:#}"
    );
    assert_eq!(
        secret_finding["verification"]["introduced_in"],
        json!(first)
    );
    let key_finding = findings
        .iter()
        .find(|f| f["key"]["thumbprint"] == json!(key.thumbprint()))
        .expect("key finding");
    assert_eq!(status(key_finding), "live", "{json:#}");
    // UTC may be written as Z or +00:00.
    let since = key_finding["verification"]["exposed_since"]
        .as_str()
        .expect("exposed_since");
    assert!(since.starts_with("2022-06-01T12:00:00"), "{since}");
    assert_eq!(
        key_finding["verification"]["introduced_in"],
        json!(key_commit)
    );
    assert!(detail(key_finding).contains("exposed since 2022-06-01"));
}
