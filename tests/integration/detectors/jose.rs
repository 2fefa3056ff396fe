//! JWKs and JWKS, JWTs, and HMAC signing secrets in config and source files.

use serde_json::json;

use super::scan_one_file;
use crate::support::*;

// ---------------------------------------------------------------------------
// JWK / JWKS
// ---------------------------------------------------------------------------

#[test]
fn jwk_rsa_private_json() {
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let jwk = with(
        &key.jwk,
        json!({"kid": "prod-2025", "alg": "RS256", "use": "sig"}),
    );
    let text = serde_json::to_string_pretty(&jwk).expect("json") + "\n";
    let s = scan_one_file("keys/prod.jwk.json", &text, &[]);
    let f = assert_key_finding(&s, &key.public, false, &[loc("keys/prod.jwk.json", 1)]);
    assert_format(f, 0, &["jwk"]);
}

#[test]
fn jwks_with_private_ec_and_okp_and_a_public_rsa() {
    let ec = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let ed = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let rsa_pub = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let a = with(&ec.jwk, json!({"kid": "ec-1", "use": "sig"}));
    let b = with(&ed.jwk, json!({"kid": "ed-1"}));
    let c = with(&rsa_pub.public.jwk_public(), json!({"kid": "rsa-public"}));
    let text = serde_json::to_string_pretty(&json!({"keys": [a, b, c]})).expect("json") + "\n";
    // Each key object opens with a line that is just `{` (pretty printing): lines of those.
    let brace_lines: Vec<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "{")
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(brace_lines.len(), 4, "{text}");
    let t = Tree::new();
    t.write("auth/jwks.private.json", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(2);
    let f = assert_key_finding(
        &s,
        &ec.public,
        false,
        &[loc("auth/jwks.private.json", brace_lines[1])],
    );
    assert_format(f, 0, &["jwk"]);
    assert_key_finding(
        &s,
        &ed.public,
        false,
        &[loc("auth/jwks.private.json", brace_lines[2])],
    );
    assert!(
        s.with_thumbprint(&rsa_pub.thumbprint()).is_empty(),
        "public-only JWK in the set must not be a finding\n{}",
        s.summary()
    );
}

#[test]
fn jwk_private_rsa_in_typescript_object_literal() {
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let j = &key.jwk;
    let m = |k: &str| j[k].as_str().expect("member").to_string();
    let src = format!(
        "// Local signing key for the dev server.\nimport type {{ JWK }} from 'jose';\n\nexport const devSigningKey: JWK = {{\n  kty: 'RSA',\n  kid: 'dev-1',\n  alg: 'RS256',\n  n: '{}',\n  e: '{}',\n  d: '{}',\n  p: '{}',\n  q: '{}',\n  dp: '{}',\n  dq: '{}',\n  qi: '{}',\n}};\n\nexport default devSigningKey;\n",
        m("n"),
        m("e"),
        m("d"),
        m("p"),
        m("q"),
        m("dp"),
        m("dq"),
        m("qi")
    );
    let s = scan_one_file("src/dev/signing-key.ts", &src, &[]);
    let f = assert_key_finding(&s, &key.public, false, &[loc("src/dev/signing-key.ts", 4)]);
    assert_format(f, 0, &["jwk"]);
}

#[test]
fn jwk_private_ec_p384_in_typescript_with_quoted_and_unquoted_keys() {
    let key = gen_key(Alg::Ec(Curve::P384), Enc::Pkcs8);
    let j = &key.jwk;
    let m = |k: &str| j[k].as_str().expect("member").to_string();
    let src = format!(
        "export const keys = [\n  {{\n    \"kty\": 'EC',\n    crv: 'P-384',\n    x: '{}',\n    'y': '{}',\n    d: \"{}\",\n  }},\n];\n",
        m("x"),
        m("y"),
        m("d")
    );
    let s = scan_one_file("src/keys.ts", &src, &[]);
    assert_key_finding(&s, &key.public, false, &[loc("src/keys.ts", 2)]);
}

#[test]
fn jwks_oct_key_is_hmac_secret() {
    let k = b64url(&random_bytes(32));
    let text = format!(
        "{{\n  \"keys\": [\n    {{\n      \"kty\": \"oct\",\n      \"kid\": \"hs-1\",\n      \"alg\": \"HS256\",\n      \"k\": \"{k}\"\n    }}\n  ]\n}}\n"
    );
    let s = scan_one_file("auth/hmac-keys.json", &text, &[]);
    let f = s.one_with_rule("secret/hmac");
    assert_finding_shape(f);
    assert!(f["key"].is_null(), "key must be null for secret/hmac: {f}");
    let locs = f["locations"].as_array().expect("locations");
    assert_eq!(locs.len(), 1, "{f}");
    assert_eq!(locs[0]["path"], "auth/hmac-keys.json");
    // The contract puts JWKs at their opening `{`, HMAC secrets at the value: accept either.
    let brace = 3;
    let (kline, _) = line_col(&text, &k);
    let line = locs[0]["line"].as_u64().unwrap_or(0);
    assert!(
        line == brace || line == kline,
        "oct JWK location line {line}, expected {brace} (the `{{`) or {kline} (the `k` value)\n{}",
        s.summary()
    );
}

#[test]
fn same_key_as_pem_and_jwk_is_one_finding_with_two_locations() {
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let jwk_text = serde_json::to_string_pretty(&key.jwk).expect("json") + "\n";
    let t = Tree::new();
    t.write("a/key.pem", &key.pem);
    t.write("b/key.jwk.json", &jwk_text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_col("a/key.pem", 1, 1), loc("b/key.jwk.json", 1)],
    );
    assert_format(f, 0, &["pkcs8"]);
    assert_format(f, 1, &["jwk"]);
    assert_ne!(
        f["locations"][0]["format"], f["locations"][1]["format"],
        "the two encodings must have different formats: {f}"
    );
}

#[test]
fn same_ec_key_in_three_encodings_is_one_finding() {
    // One EC key in three encodings: SEC1 file, PKCS#8 escaped inside JSON, JWK in .ts.
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Traditional);
    let json_text = format!(
        "{{\"name\":\"svc\",\"key\":\"{}\"}}\n",
        pem_escaped(&key.pkcs8_pem)
    );
    let j = &key.jwk;
    let ts = format!(
        "export default {{\n  kty: 'EC', crv: 'P-256',\n  x: '{}', y: '{}',\n  d: '{}',\n}};\n",
        j["x"].as_str().expect("x"),
        j["y"].as_str().expect("y"),
        j["d"].as_str().expect("d")
    );
    let t = Tree::new();
    t.write("z/ec.pem", &key.pem);
    t.write("m/svc.json", &json_text);
    t.write("a/key.ts", &ts);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(
        &s,
        &key.public,
        false,
        &[
            loc("a/key.ts", 1),
            loc_of("m/svc.json", &json_text, "-----BEGIN"),
            loc_col("z/ec.pem", 1, 1),
        ],
    );
}

// ---------------------------------------------------------------------------
// JWT
// ---------------------------------------------------------------------------

#[test]
fn jwt_rs256_with_kid_iss_sub_exp() {
    let signer = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let token = make_jwt(
        &json!({"alg":"RS256","typ":"JWT","kid":"prod-2025-01"}),
        &json!({"iss":"https://auth.example.com/","sub":"user-8412","aud":"api","iat":1735689600,"exp":1893456000}),
        |input| rs256_sign(&signer.pem, input),
    );
    let text = format!(
        "### Get the profile\nGET https://api.example.com/v1/me\nAuthorization: Bearer {token}\nAccept: application/json\n"
    );
    let s = scan_one_file("docs/requests/profile.http", &text, &[]);
    let f = s.one_with_rule("jwt/token");
    assert_finding_shape(f);
    assert!(f["key"].is_null(), "key must be null for a JWT: {f}");
    let j = &f["jwt"];
    assert_eq!(j["alg"], "RS256", "jwt: {j}");
    assert_eq!(j["kid"], "prod-2025-01", "jwt: {j}");
    assert_eq!(j["iss"], "https://auth.example.com/", "jwt: {j}");
    assert_eq!(j["sub"], "user-8412", "jwt: {j}");
    assert_eq!(j["exp"], 1893456000, "jwt: {j}");
    assert_locations(
        &s,
        f,
        &[loc_of("docs/requests/profile.http", &text, &token)],
    );
}

#[test]
fn jwt_hs256_without_kid_in_test_fixture() {
    let key = random_secret(40);
    let token = hs_jwt(
        "HS256",
        key.as_bytes(),
        &json!({"iss":"billing","sub":"42","exp":1767225600}),
    );
    let text = format!(
        "import {{ test }} from 'vitest';\n\nconst TOKEN =\n  '{token}';\n\ntest('decodes', () => {{}});\n"
    );
    let s = scan_one_file("web/test/auth.test.ts", &text, &[]);
    let f = s.one_with_rule("jwt/token");
    let j = &f["jwt"];
    assert_eq!(j["alg"], "HS256", "jwt: {j}");
    assert!(j["kid"].is_null(), "no kid in the header: {j}");
    assert_eq!(j["iss"], "billing", "jwt: {j}");
    assert_eq!(j["sub"], "42", "jwt: {j}");
    assert_eq!(j["exp"], 1767225600, "jwt: {j}");
    assert_locations(&s, f, &[loc_of("web/test/auth.test.ts", &text, &token)]);
}

#[test]
fn jwt_in_json_response_fixture() {
    // A 64-byte r||s-shaped signature: the detector parses header and claims, not the signature.
    let token = make_jwt(
        &json!({"alg":"ES256","kid":"ec-7"}),
        &json!({"iss":"https://login.example.org","sub":"svc-batch","exp":2000000000}),
        |_| random_bytes(64),
    );
    let text = format!(
        "{{\n  \"token_type\": \"Bearer\",\n  \"expires_in\": 3600,\n  \"access_token\": \"{token}\"\n}}\n"
    );
    let s = scan_one_file("test/fixtures/token-response.json", &text, &[]);
    let f = s.one_with_rule("jwt/token");
    let j = &f["jwt"];
    assert_eq!(j["alg"], "ES256", "jwt: {j}");
    assert_eq!(j["kid"], "ec-7", "jwt: {j}");
    assert_eq!(j["iss"], "https://login.example.org", "jwt: {j}");
    assert_eq!(j["exp"], 2000000000, "jwt: {j}");
    assert_locations(
        &s,
        f,
        &[loc_of("test/fixtures/token-response.json", &text, &token)],
    );
}

// ---------------------------------------------------------------------------
// HMAC secrets
// ---------------------------------------------------------------------------

/// One file with one HMAC secret: `text` with `@SECRET@` replaced by `secret()`.
struct Hmac {
    name: &'static str,
    path: &'static str,
    secret: fn() -> String,
    text: &'static str,
}

impl Case for Hmac {
    fn name(&self) -> &str {
        self.name
    }
}

const HMAC: &[Hmac] = &[
    Hmac {
        name: "hmac_in_dotenv",
        path: ".env",
        secret: || random_secret(48),
        text: "# API service\nNODE_ENV=production\nPORT=3000\nDATABASE_HOST=db.internal\nJWT_SECRET=@SECRET@\nJWT_EXPIRES_IN=3600\n",
    },
    Hmac {
        name: "hmac_in_spring_application_properties",
        path: "src/main/resources/application.properties",
        secret: || random_secret(44),
        text: "spring.application.name=orders\nserver.port=8080\nspring.datasource.url=jdbc:postgresql://db:5432/orders\n\n# token settings\njwt.secret=@SECRET@\njwt.expiration=86400000\n",
    },
    Hmac {
        name: "hmac_in_spring_application_yml",
        path: "src/main/resources/application.yml",
        secret: || random_secret(44),
        text: "spring:\n  application:\n    name: orders\nserver:\n  port: 8080\njwt:\n  secret: @SECRET@\n  expiration: 86400000\n",
    },
    Hmac {
        name: "hmac_in_django_settings",
        path: "mysite/mysite/settings.py",
        secret: || random_string(50, "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"),
        text: "from pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent.parent\n\n# SECURITY WARNING: keep the secret key used in production secret!\nSECRET_KEY = '@SECRET@'\n\nDEBUG = False\n\nALLOWED_HOSTS = ['example.com']\n",
    },
    Hmac {
        name: "hmac_in_js_jwt_sign_call",
        path: "server/auth/issue.js",
        secret: || random_secret(40),
        text: "const jwt = require('jsonwebtoken');\n\nfunction issue(user) {\n  const payload = { sub: user.id, role: user.role };\n  return jwt.sign(payload, '@SECRET@', { expiresIn: '1h' });\n}\n\nmodule.exports = { issue };\n",
    },
    Hmac {
        name: "hmac_in_python_jwt_encode_call",
        path: "api/tokens.py",
        secret: || random_secret(40),
        text: "import jwt\n\n\ndef make_token(user_id):\n    payload = {\"sub\": user_id}\n    return jwt.encode(payload, \"@SECRET@\", algorithm=\"HS256\")\n",
    },
    Hmac {
        name: "hmac_in_go_signed_string",
        path: "pkg/auth/issue.go",
        secret: || random_secret(40),
        text: "package auth\n\nimport \"github.com/golang-jwt/jwt/v5\"\n\nfunc Issue(sub string) (string, error) {\n\ttoken := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{\"sub\": sub})\n\treturn token.SignedString([]byte(\"@SECRET@\"))\n}\n",
    },
    Hmac {
        name: "hmac_in_java_sign_with_literal",
        path: "src/main/java/com/example/auth/TokenService.java",
        secret: || random_secret(64),
        text: "package com.example.auth;\n\nimport io.jsonwebtoken.Jwts;\nimport io.jsonwebtoken.SignatureAlgorithm;\n\npublic class TokenService {\n    public String issue(String subject) {\n        return Jwts.builder()\n            .setSubject(subject)\n            .signWith(SignatureAlgorithm.HS512, \"@SECRET@\")\n            .compact();\n    }\n}\n",
    },
];

#[test]
fn hmac_secrets_in_config_and_code() {
    run_table(HMAC, |case| {
        let value = (case.secret)();
        let text = case.text.replace("@SECRET@", &value);
        let s = scan_one_file(case.path, &text, &["--show-secrets"]);
        let f = s.one_with_rule("secret/hmac");
        assert_finding_shape(f);
        assert!(f["key"].is_null(), "key must be null for secret/hmac: {f}");
        assert_eq!(
            f["secret"],
            value,
            "with --show-secrets, secret is the full value\n{}",
            s.summary()
        );
        assert_locations(&s, f, &[loc_of(case.path, &text, &value)]);
    });
}

#[test]
fn same_hmac_secret_in_two_files_is_one_finding() {
    let v = random_secret(48);
    let env = format!("JWT_SECRET={v}\n");
    let props = format!("server.port=8080\njwt.secret={v}\n");
    let t = Tree::new();
    t.write(".env", &env);
    t.write("src/main/resources/application.properties", &props);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = s.one_with_rule("secret/hmac");
    assert_locations(
        &s,
        f,
        &[
            loc_of(".env", &env, &v),
            loc_of("src/main/resources/application.properties", &props, &v),
        ],
    );
}
