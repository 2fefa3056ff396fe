//! `keysweep jwks audit`: every defect on key sets built in the test, a clean set passes, the
//! RFC 7517 A.2 private set is flagged; files, HTTPS URLs and issuers; human, JSON and SARIF.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::*;

struct Keys {
    rsa: GenKey,
    ec: GenKey,
    ed: GenKey,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            rsa: gen_key(Alg::Rsa(2048), Enc::Pkcs8),
            ec: gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8),
            ed: gen_key(Alg::Ed25519, Enc::Pkcs8),
        }
    }

    /// A clean set: public halves, unique kids, fitting algs.
    fn clean(&self) -> Vec<Value> {
        vec![
            with(
                &self.rsa.public.jwk_public(),
                json!({"kid": "rsa-1", "alg": "RS256", "use": "sig"}),
            ),
            with(
                &self.ec.public.jwk_public(),
                json!({"kid": "ec-1", "alg": "ES256", "use": "sig"}),
            ),
            with(
                &self.ed.public.jwk_public(),
                json!({"kid": "ed-1", "alg": "EdDSA", "use": "sig"}),
            ),
        ]
    }
}

struct Audit {
    code: i32,
    json: Value,
    stdout: String,
}

fn audit(source: impl AsRef<std::ffi::OsStr>, extra: &[&str]) -> Audit {
    let run = Ks::new("jwks")
        .arg("audit")
        .arg(source)
        .format("json")
        .args(extra)
        .run();
    Audit {
        code: run.code,
        json: run.json(),
        stdout: run.stdout_str(),
    }
}

/// A tree holding `jwks.json` with `keys` (pretty printed).
fn set_file(keys: &[Value]) -> Tree {
    let t = Tree::new();
    t.write(
        "jwks.json",
        serde_json::to_string_pretty(&json!({"keys": keys})).expect("json"),
    );
    t
}

fn audit_set(keys: &[Value], extra: &[&str]) -> Audit {
    let t = set_file(keys);
    audit(t.root().join("jwks.json"), extra)
}

fn codes(audit: &Audit) -> Vec<(String, u64)> {
    audit.json["defects"]
        .as_array()
        .expect("defects")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().expect("code").to_string(),
                d["key_index"].as_u64().expect("index"),
            )
        })
        .collect()
}

fn assert_defects(audit: &Audit, expected: &[(&str, u64)]) {
    let mut got = codes(audit);
    got.sort();
    let mut want: Vec<(String, u64)> = expected.iter().map(|(c, i)| (c.to_string(), *i)).collect();
    want.sort();
    assert_eq!(got, want, "{:#}", audit.json);
    assert_eq!(
        audit.code,
        i32::from(!expected.is_empty()),
        "{:#}",
        audit.json
    );
    assert_eq!(audit.json["ok"], json!(expected.is_empty()));
}

#[test]
fn a_clean_set_passes() {
    let keys = Keys::new();
    let result = audit_set(&keys.clean(), &[]);
    assert_defects(&result, &[]);
    assert_eq!(result.json["keys"].as_array().expect("keys").len(), 3);
    assert_eq!(result.json["keys"][0]["bits"], 2048);
    assert_eq!(
        result.json["keys"][0]["thumbprint"],
        json!(keys.rsa.thumbprint())
    );
}

#[test]
fn private_members_are_flagged_without_showing_them() {
    let keys = Keys::new();
    let mut set = keys.clean();
    set[0] = with(&keys.rsa.jwk, json!({"kid": "rsa-1", "alg": "RS256"}));
    set[1] = with(&keys.ec.jwk, json!({"kid": "ec-1", "alg": "ES256"}));
    let result = audit_set(&set, &[]);
    assert_defects(&result, &[("private-members", 0), ("private-members", 1)]);
    let message = result.json["defects"][0]["message"]
        .as_str()
        .expect("message");
    for member in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(message.contains(member), "{message}");
    }
    for member in ["d", "p", "q", "dp", "dq", "qi"] {
        for key in [&keys.rsa, &keys.ec] {
            if let Some(value) = key.jwk[member].as_str() {
                assert!(!result.stdout.contains(value), "{member} leaked");
            }
        }
    }
}

#[test]
fn symmetric_keys_are_flagged() {
    let keys = Keys::new();
    let mut set = keys.clean();
    set.push(json!({"kty": "oct", "kid": "hmac", "alg": "HS256", "k": b64url(&random_bytes(32))}));
    let result = audit_set(&set, &[]);
    assert_defects(&result, &[("symmetric-key", 3)]);
}

#[test]
fn short_rsa_keys_are_flagged() {
    let keys = Keys::new();
    let short = gen_key(Alg::Rsa(1024), Enc::Pkcs8);
    let mut set = keys.clean();
    set.push(with(
        &short.public.jwk_public(),
        json!({"kid": "old", "alg": "RS256"}),
    ));
    let result = audit_set(&set, &[]);
    assert_defects(&result, &[("weak-rsa", 3)]);
    assert!(
        result.json["defects"][0]["message"]
            .as_str()
            .expect("message")
            .contains("1024")
    );
}

#[test]
fn missing_and_duplicate_kids_are_flagged() {
    let keys = Keys::new();
    let mut set = keys.clean();
    set[0].as_object_mut().expect("obj").remove("kid");
    set[2]["kid"] = json!("ec-1");
    let result = audit_set(&set, &[]);
    // One defect per duplicated kid (on its first key), naming how many keys share it.
    assert_defects(&result, &[("missing-kid", 0), ("duplicate-kid", 1)]);
    let duplicate = result.json["defects"]
        .as_array()
        .expect("defects")
        .iter()
        .find(|d| d["code"] == "duplicate-kid")
        .expect("duplicate-kid defect");
    let message = duplicate["message"].as_str().unwrap_or("");
    assert!(
        message.contains("used by 2 keys") && message.contains("#2"),
        "{message}"
    );
}

#[test]
fn alg_kty_mismatches_are_flagged() {
    let keys = Keys::new();
    let mut set = keys.clean();
    set[0]["alg"] = json!("ES256"); // RSA key
    set[1]["alg"] = json!("ES384"); // P-256 key
    set[2]["alg"] = json!("RS256"); // OKP key
    let result = audit_set(&set, &[]);
    assert_defects(
        &result,
        &[
            ("alg-mismatch", 0),
            ("alg-mismatch", 1),
            ("alg-mismatch", 2),
        ],
    );
}

#[test]
fn unpinned_keys_are_flagged() {
    let keys = Keys::new();
    let set = keys.clean();
    let rsa = keys.rsa.thumbprint();
    let ec = keys.ec.thumbprint();
    let ed = keys.ed.thumbprint();
    let result = audit_set(&set, &["--pin", &rsa, "--pin", &ec]);
    assert_defects(&result, &[("unpinned-key", 2)]);
    let result = audit_set(&set, &["--pin", &rsa, "--pin", &ec, "--pin", &ed]);
    assert_defects(&result, &[]);
}

#[test]
fn rfc7517_a2_private_set_is_flagged() {
    // The vector files hold one key each; the RFC's A.2 set holds both.
    let mut keys = Vec::new();
    for name in [
        "rfc7517-A.2-ec-p256-private.json",
        "rfc7517-A.2-rsa-private.json",
    ] {
        let text = std::fs::read_to_string(Path::new(VECTORS).join(name)).expect("vector");
        keys.push(serde_json::from_str::<Value>(&text).expect("json"));
    }
    let result = audit_set(&keys, &[]);
    let got = codes(&result);
    assert!(got.contains(&("private-members".to_string(), 0)), "{got:?}");
    assert!(got.contains(&("private-members".to_string(), 1)), "{got:?}");
    assert_eq!(result.code, 1);
    // The single-key file directly, too.
    let result = audit(Path::new(VECTORS).join("rfc7517-A.2-rsa-private.json"), &[]);
    assert!(codes(&result).contains(&("private-members".to_string(), 0)));
    // The public A.1 set is clean.
    let result = audit(Path::new(VECTORS).join("rfc7517-A.1-jwks.json"), &[]);
    assert_defects(&result, &[]);
}

#[test]
fn urls_and_issuers_over_https() {
    let keys = Keys::new();
    let ca = TestCa::new();
    let server = Server::https(&ca);
    let certs = Tree::new();
    let ca_path = ca.write_pem(&certs);
    let mut bad = keys.clean();
    bad.push(json!({"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"}));
    server.route("/jwks", Reply::Json(jwks(&bad)));
    let issuer = server.url("/realm");
    server.route(
        "/realm/.well-known/openid-configuration",
        Reply::Json(json!({"issuer": issuer, "jwks_uri": server.url("/jwks")}).to_string()),
    );
    let result = audit(server.url("/jwks"), &["--ca-cert", &ca_path]);
    assert_defects(&result, &[("symmetric-key", 3), ("missing-kid", 3)]);
    let result = audit(&issuer, &["--ca-cert", &ca_path]);
    assert_defects(&result, &[("symmetric-key", 3), ("missing-kid", 3)]);
    assert_eq!(result.json["jwks"], json!(server.url("/jwks")));
    // An unreachable source is an error (exit 2), not a clean pass.
    let run = Ks::new("jwks").arg("audit").arg(server.url("/jwks")).run();
    run.assert_exit(2);
    assert!(
        run.stderr_str()
            .to_ascii_lowercase()
            .contains("certificate")
    );
}

#[test]
fn human_and_sarif_output() {
    let keys = Keys::new();
    let mut set = keys.clean();
    set[0] = with(&keys.rsa.jwk, json!({"kid": "rsa-1"}));
    let t = set_file(&set);
    let path = t.root().join("jwks.json");

    let run = Ks::new("jwks")
        .arg("audit")
        .arg(&path)
        .args(["--color", "never"])
        .run();
    assert_eq!(run.code, 1);
    let text = run.stdout_str();
    assert!(text.contains("private-members"), "{text}");
    assert!(text.contains("[critical]"), "{text}");
    assert!(!text.contains(keys.rsa.jwk["d"].as_str().expect("d")));

    let run = Ks::new("jwks")
        .arg("audit")
        .arg(&path)
        .format("sarif")
        .run();
    assert_eq!(run.code, 1);
    let sarif = run.json();
    assert_valid_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "jwks/private-members");
    assert_eq!(results[0]["level"], "error");
    // Placed on the line of the key in the file.
    let line = results[0]["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .expect("line");
    assert!(line > 1, "{line}");
    assert!(
        !run.stdout_str()
            .contains(keys.rsa.jwk["d"].as_str().expect("d"))
    );
}
