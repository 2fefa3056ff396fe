//! The published JOSE RFC vectors in tests/data/jose: private JWKs are found with the
//! right thumbprints, public JWKs and the public JWKS are not, and the RFC 7638 §3.1 thumbprint
//! comes out exactly as the RFC states.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::*;

/// Thumbprints from the vectors' README (bold ones are printed in the RFCs).
const README_THUMBPRINTS: &[(&str, &str)] = &[
    (
        "rfc7517-A.2-ec-p256-private.json",
        "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s",
    ),
    (
        "rfc7517-A.2-rsa-private.json",
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
    ),
    (
        "rfc7517-C.1-rsa-private.json",
        "D8R4-FeTJfzuDUy8bZ0c4hcwpul-Q11gCPs3mw6-R9Q",
    ),
    (
        "rfc7520-3.2-ec-p521-private.json",
        "dHri3SADZkrush5HU_50AoRhcKFryN-PI6jPBtPL55M",
    ),
    (
        "rfc7520-3.4-rsa-private.json",
        "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI",
    ),
    (
        "rfc8037-A.1-ed25519-private.json",
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    ),
];

fn load(name: &str) -> Value {
    let p = Path::new(VECTORS).join(name);
    serde_json::from_str(&read_string(&p)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json_files() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(VECTORS)
        .unwrap_or_else(|e| panic!("vectors dir {VECTORS}: {e}"))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    v.sort();
    assert!(v.len() >= 15, "expected the JOSE vectors, found {v:?}");
    v
}

fn is_private(jwk: &Value) -> bool {
    jwk.get("d").is_some() || jwk.get("k").is_some()
}

fn rule_for(jwk: &Value) -> &'static str {
    let kty = jwk["kty"].as_str().expect("kty");
    // An `oct` key that encrypts (`"use":"enc"` or a JWE algorithm) is its own kind.
    let encrypts = jwk["use"] == "enc"
        || jwk["alg"]
            .as_str()
            .is_some_and(|a| a == "dir" || a.starts_with("A1") || a.starts_with("A2"));
    match (kty, jwk["crv"].as_str()) {
        ("oct", _) if encrypts => "secret/jwk-enc",
        ("RSA", _) => "private-key/rsa",
        ("EC", _) => "private-key/ec",
        ("OKP", Some("Ed25519")) => "private-key/ed25519",
        ("OKP", _) => "private-key/okp",
        ("oct", _) => "secret/hmac",
        (k, _) => panic!("kty {k}"),
    }
}

#[test]
fn rfc_vectors_private_jwks_found_public_not() {
    // --no-config: the vectors live in this repository, whose own settings allow them.
    let s = Ks::new("scan")
        .arg(VECTORS)
        .arg("--no-config")
        .format("json")
        .run()
        .scan();
    s.assert_exit(1);
    let mut private_files = 0;
    for name in json_files() {
        let v = load(&name);
        let here = s.at_path(&name);
        if v.get("keys").is_some() {
            assert!(
                v["keys"]
                    .as_array()
                    .expect("keys")
                    .iter()
                    .all(|k| !is_private(k)),
                "{name}: the only JWKS in the vectors is public"
            );
            assert!(
                here.is_empty(),
                "public JWKS {name} must not be a finding\n{}",
                s.summary()
            );
            continue;
        }
        if !is_private(&v) {
            assert!(
                here.is_empty(),
                "public JWK {name} must not be a finding\n{}",
                s.summary()
            );
            continue;
        }
        private_files += 1;
        assert_eq!(
            here.len(),
            1,
            "private JWK {name} must be exactly one finding\n{}",
            s.summary()
        );
        let kty = v["kty"].as_str().expect("kty");
        let f = here[0];
        assert_finding_shape(f);
        assert_eq!(f["rule"], rule_for(&v), "{name}\n{}", s.summary());
        // The location in this file is the JWK's opening brace on line 1.
        let l = f["locations"]
            .as_array()
            .expect("locations")
            .iter()
            .find(|l| l["path"] == name.as_str())
            .expect("location");
        assert_eq!(
            l["line"], 1,
            "{name}: location line (the opening brace): {l}"
        );
        if kty == "oct" {
            assert!(f["key"].is_null(), "{name}: key must be null for oct: {f}");
            continue;
        }
        let tp = jwk_thumbprint(&v);
        assert_eq!(f["key"]["thumbprint"], tp.as_str(), "{name}: thumbprint");
        if let Some((_, readme_tp)) = README_THUMBPRINTS.iter().find(|(n, _)| *n == name) {
            assert_eq!(
                tp, *readme_tp,
                "independent computation vs README for {name}"
            );
        }
        let pj = &f["key"]["public_jwk"];
        for m in ["kty", "n", "e", "crv", "x", "y"] {
            if v.get(m).is_some() {
                assert_eq!(pj[m], v[m], "{name}: public_jwk.{m}");
            }
        }
        let (ty, bits, curve) = match (kty, v["crv"].as_str()) {
            ("RSA", _) => ("RSA", json!(2048), Value::Null),
            ("EC", Some("P-256")) => ("EC", json!(256), json!("P-256")),
            ("EC", Some("P-521")) => ("EC", json!(521), json!("P-521")),
            ("OKP", Some("Ed25519")) => ("Ed25519", json!(256), Value::Null),
            ("OKP", Some("X25519")) => ("X25519", json!(256), Value::Null),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(f["key"]["type"], ty, "{name}: key.type");
        assert_eq!(f["key"]["bits"], bits, "{name}: key.bits");
        assert_eq!(f["key"]["curve"], curve, "{name}: key.curve");
    }
    assert_eq!(private_files, 12, "private JWK files in the vectors");

    // Each key once: RFC 7638 §3.1 / RFC 8037 A.3 thumbprints.
    for (_, tp) in README_THUMBPRINTS {
        assert_eq!(
            s.with_thumbprint(tp).len(),
            1,
            "one finding for thumbprint {tp}\n{}",
            s.summary()
        );
    }
    // The RFC 7517 A.3 HMAC key and the RFC 7515 A.1 key are the same `k`: one finding, both files.
    let hmac = s.at_path("rfc7515-A.1-oct-hs256.json");
    assert_eq!(hmac.len(), 1);
    let paths: Vec<&str> = hmac[0]["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| l["path"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        paths,
        vec!["rfc7515-A.1-oct-hs256.json", "rfc7517-A.3-oct-hmac.json"],
        "same oct k in two files: one finding, locations sorted by path\n{}",
        s.summary()
    );

    // The RFC 7515 A.1 JWS is a JWT (HS256, iss joe, exp 1300819380).
    let jws = s.at_path("rfc7515-A.1-jws-compact.txt");
    assert_eq!(jws.len(), 1, "RFC 7515 A.1 JWT\n{}", s.summary());
    assert_eq!(jws[0]["rule"], "jwt/token");
    assert_eq!(jws[0]["jwt"]["alg"], "HS256");
    assert_eq!(jws[0]["jwt"]["iss"], "joe");
    assert_eq!(jws[0]["jwt"]["exp"], 1300819380);
    assert_eq!(jws[0]["locations"][0]["line"], 1);
    assert_eq!(jws[0]["locations"][0]["column"], 1);
    for f in s.at_path("rfc8037-A.4-jws-compact.txt") {
        assert_eq!(
            f["rule"], "jwt/token",
            "only a token can be found in a JWS file: {f}"
        );
    }
    // Only the kinds the vectors contain are reported (nothing else from the README, say).
    for f in s.findings() {
        let r = f["rule"].as_str().unwrap_or("");
        assert!(
            matches!(
                r,
                "private-key/rsa"
                    | "private-key/ec"
                    | "private-key/ed25519"
                    | "private-key/okp"
                    | "secret/hmac"
                    | "secret/jwk-enc"
                    | "jwt/token"
            ),
            "unexpected finding kind in the vectors: {f}"
        );
    }
}

#[test]
fn rfc7638_section_3_1_thumbprint() {
    let mut jwk = load("rfc7638-3.1-rsa-public.json");
    assert!(!is_private(&jwk));
    // A private member added to the RFC's public key (any base64url value will do for `d`).
    jwk["d"] = json!(b64url(&random_bytes(256)));
    let text = serde_json::to_string_pretty(&jwk).expect("json");
    let t = Tree::new();
    t.write("rfc7638.json", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = s.one_with_rule("private-key/rsa");
    assert_eq!(
        f["key"]["thumbprint"],
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
        "RFC 7638 §3.1\n{}",
        s.summary()
    );
    assert_eq!(
        jwk_thumbprint(&jwk),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    assert_eq!(f["key"]["bits"], 2048);
    assert_locations(&s, f, &[loc("rfc7638.json", 1)]);
}

#[test]
fn rfc7638_public_only_is_not_a_finding() {
    let t = Tree::new();
    t.write(
        "jwks.json",
        read_string(Path::new(VECTORS).join("rfc7517-A.1-jwks.json")),
    );
    t.write(
        "key.json",
        read_string(Path::new(VECTORS).join("rfc7638-3.1-rsa-public.json")),
    );
    t.write(
        "x5c.json",
        read_string(Path::new(VECTORS).join("rfc7517-B-rsa-public-x5c.json")),
    );
    t.write(
        "ed.json",
        read_string(Path::new(VECTORS).join("rfc8037-A.2-ed25519-public.json")),
    );
    let s = t.scan(&[]);
    s.assert_count(0);
    s.assert_exit(0);
}

#[test]
fn rfc8037_ed25519_private_in_typescript() {
    // The RFC 8037 A.1 private key pasted into a .ts object literal.
    let v = load("rfc8037-A.1-ed25519-private.json");
    let src = format!(
        "export const key = {{\n  kty: 'OKP',\n  crv: 'Ed25519',\n  d: '{}',\n  x: '{}',\n}} as const;\n",
        v["d"].as_str().expect("d"),
        v["x"].as_str().expect("x")
    );
    let t = Tree::new();
    t.write("src/key.ts", &src);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = s.one_with_rule("private-key/ed25519");
    assert_eq!(
        f["key"]["thumbprint"],
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    assert_locations(&s, f, &[loc("src/key.ts", 1)]);
}
