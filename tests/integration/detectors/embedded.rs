//! Private keys embedded in source and config files: PEM in string literals, escaped, base64.

use serde_json::Value;

use super::scan_one_file;
use crate::support::*;

/// A key of `alg`/`enc` embedded in the file `path`; `build` returns the file's text and the
/// needle whose first occurrence is the finding's location (and checks the embedding itself).
struct Embedded {
    name: &'static str,
    alg: Alg,
    enc: Enc,
    path: &'static str,
    build: fn(&GenKey) -> (String, String),
}

impl Case for Embedded {
    fn name(&self) -> &str {
        self.name
    }
}

const BEGIN: &str = "-----BEGIN";

fn go_raw_string(key: &GenKey) -> (String, String) {
    let src = format!(
        "package auth\n\nimport \"crypto/x509\"\n\n// testKey signs local tokens.\nconst testKey = `{}`\n\nvar _ = x509.ParsePKCS1PrivateKey\n",
        key.pem.trim_end()
    );
    (src, BEGIN.into())
}

fn python_triple_quoted_string(key: &GenKey) -> (String, String) {
    let src = format!(
        "import jwt\n\nSIGNING_KEY = \"\"\"{}\"\"\"\n\n\ndef issue(claims):\n    return jwt.encode(claims, SIGNING_KEY, algorithm=\"ES256\")\n",
        key.pem
    );
    (src, BEGIN.into())
}

fn java_string_concatenation(key: &GenKey) -> (String, String) {
    let mut body = String::new();
    let lines: Vec<&str> = key.pem.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        body.push_str(&format!(
            "        \"{l}\\n\"{}\n",
            if last { ";" } else { " +" }
        ));
    }
    let src = format!(
        "package com.example.auth;\n\npublic final class Keys {{\n    static final String PRIVATE_KEY =\n{body}\n    private Keys() {{}}\n}}\n"
    );
    (src, BEGIN.into())
}

fn escaped_in_json(key: &GenKey) -> (String, String) {
    let text = format!(
        "{{\n  \"service\": \"billing\",\n  \"signing\": {{\n    \"alg\": \"EdDSA\",\n    \"privateKey\": \"{}\"\n  }}\n}}\n",
        pem_escaped(&key.pem)
    );
    // It is valid JSON and decodes to the PEM.
    let v: Value = serde_json::from_str(&text).expect("valid json");
    assert_eq!(v["signing"]["privateKey"], key.pem.as_str());
    (text, BEGIN.into())
}

fn escaped_in_js_string(key: &GenKey) -> (String, String) {
    let src = format!(
        "'use strict';\nconst crypto = require('crypto');\n\nconst PRIVATE_KEY = \"{}\";\n\nmodule.exports = {{ sign: (d) => crypto.sign('sha256', d, PRIVATE_KEY) }};\n",
        pem_escaped(&key.pem)
    );
    (src, BEGIN.into())
}

fn base64_in_kubernetes_secret(key: &GenKey) -> (String, String) {
    let b = pem_base64(&key.pem);
    assert!(b.starts_with("LS0tLS1CRUdJTi"));
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api-signing\n  namespace: prod\ntype: Opaque\ndata:\n  username: YWRtaW4=\n  tls.key: {b}\n"
    );
    (text, b)
}

fn base64_in_env_value(key: &GenKey) -> (String, String) {
    let b = pem_base64(&key.pem);
    let text = format!("NODE_ENV=production\nPORT=8080\nJWT_PRIVATE_KEY_B64={b}\nLOG_LEVEL=info\n");
    (text, b)
}

fn gcp_service_account_json(key: &GenKey) -> (String, String) {
    let key_id: String = random_string(40, "0123456789abcdef");
    let text = format!(
        r#"{{
  "type": "service_account",
  "project_id": "acme-prod-123456",
  "private_key_id": "{key_id}",
  "private_key": "{}",
  "client_email": "deployer@acme-prod-123456.iam.gserviceaccount.com",
  "client_id": "113948572039485720394",
  "auth_uri": "https://accounts.google.com/o/oauth2/auth",
  "token_uri": "https://oauth2.googleapis.com/token",
  "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
  "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/deployer%40acme-prod-123456.iam.gserviceaccount.com",
  "universe_domain": "googleapis.com"
}}
"#,
        pem_escaped(&key.pem)
    );
    serde_json::from_str::<Value>(&text).expect("valid json");
    (text, BEGIN.into())
}

#[rustfmt::skip]
const EMBEDDED: &[Embedded] = &[
    Embedded { name: "pem_in_go_raw_string", alg: Alg::Rsa(2048), enc: Enc::Traditional, path: "internal/auth/key.go", build: go_raw_string },
    Embedded { name: "pem_in_python_triple_quoted_string", alg: Alg::Ec(Curve::P256), enc: Enc::Pkcs8, path: "app/keys.py", build: python_triple_quoted_string },
    Embedded { name: "pem_in_java_string_concatenation", alg: Alg::Rsa(2048), enc: Enc::Pkcs8, path: "src/main/java/com/example/auth/Keys.java", build: java_string_concatenation },
    Embedded { name: "pem_escaped_in_json", alg: Alg::Ed25519, enc: Enc::Pkcs8, path: "config/billing.json", build: escaped_in_json },
    Embedded { name: "pem_escaped_in_js_string", alg: Alg::Ec(Curve::P256), enc: Enc::Traditional, path: "lib/sign.js", build: escaped_in_js_string },
    Embedded { name: "pem_base64_in_kubernetes_secret", alg: Alg::Rsa(2048), enc: Enc::Traditional, path: "k8s/prod/secret.yaml", build: base64_in_kubernetes_secret },
    Embedded { name: "pem_base64_in_env_value", alg: Alg::Ec(Curve::P384), enc: Enc::Pkcs8, path: "services/api/.env", build: base64_in_env_value },
    Embedded { name: "gcp_service_account_json", alg: Alg::Rsa(2048), enc: Enc::Pkcs8, path: "infra/gcp/acme-prod-123456-3f2a.json", build: gcp_service_account_json },
];

#[test]
fn keys_embedded_in_files() {
    run_table(EMBEDDED, |case| {
        let key = gen_key(case.alg, case.enc);
        let (text, needle) = (case.build)(&key);
        let s = scan_one_file(case.path, &text, &[]);
        assert_key_finding(&s, &key.public, false, &[loc_of(case.path, &text, &needle)]);
    });
}
