//! One test per detector shape: the built binary on a tree the test writes, with keys generated
//! at test time, asserting the exact findings (rule, path, line, column where the contract fixes
//! it, and the RFC 7638 thumbprint computed here independently).

mod common;

use common::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

/// For a PEM that is a whole file: the region ends on the `-----END` line, one past its last char.
fn assert_pem_file_region(f: &Value, i: usize, text: &str) {
    let end_line_no = text
        .lines()
        .position(|l| l.starts_with("-----END"))
        .expect("END line") as u64
        + 1;
    let end_line = text.lines().nth(end_line_no as usize - 1).unwrap_or("");
    let l = &f["locations"][i];
    assert_eq!(l["line"], 1, "PEM file starts on line 1: {l}");
    assert_eq!(l["column"], 1, "PEM file starts on column 1: {l}");
    assert_eq!(
        l["end_line"], end_line_no,
        "end_line = the -----END line: {l}"
    );
    assert_eq!(
        l["end_column"],
        end_line.len() as u64 + 1,
        "end_column = one past the end of the -----END line: {l}"
    );
}

/// A finding without a thumbprint (DSA, PGP, encrypted): identified by its one location.
fn assert_opaque_key(scan: &Scan, rule: &str, ktype: &str, encrypted: Option<bool>, at: Loc) {
    let fs = scan.at_path(&at.path);
    assert_eq!(
        fs.len(),
        1,
        "expected one finding in {}\n{}",
        at.path,
        scan.summary()
    );
    let f = fs[0];
    assert_finding_shape(f);
    assert_eq!(f["rule"], rule, "rule\n{}", scan.summary());
    assert_eq!(f["key"]["type"], ktype, "key.type: {}", f["key"]);
    assert!(
        f["key"]["thumbprint"].is_null(),
        "thumbprint must be null for {rule}: {}",
        f["key"]
    );
    if let Some(e) = encrypted {
        assert_eq!(f["key"]["encrypted"], e, "key.encrypted: {}", f["key"]);
    }
    assert_locations(scan, f, &[at]);
}

fn single_pem_file_case(path: &str, key: &GenKey, formats: &[&str]) {
    let t = Tree::new();
    t.write(path, &key.pem);
    // Public half next to it: never a finding.
    t.write(&format!("{path}.pub"), &key.public_pem);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = assert_key_finding(&s, &key.public, false, &[loc_col(path, 1, 1)]);
    assert_format(f, 0, formats);
    assert_pem_file_region(f, 0, &key.pem);
}

// ---------------------------------------------------------------------------
// PEM files
// ---------------------------------------------------------------------------

#[test]
fn pem_pkcs1_rsa() {
    let key = gen_key(Alg::Rsa(2048), Enc::Traditional);
    assert!(key.pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let t = Tree::new();
    t.write("deploy/a.pem", &key.pem);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = assert_key_finding(&s, &key.public, false, &[loc_col("deploy/a.pem", 1, 1)]);
    assert_eq!(f["locations"][0]["format"], "pem-pkcs1", "format: {f}");
    assert_eq!(f["title"], "RSA private key");
    assert_eq!(f["severity"], "critical");
    assert_pem_file_region(f, 0, &key.pem);
    let secret = f["secret"].as_str().expect("secret string");
    assert!(
        secret.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "redacted secret keeps the marker: {secret}"
    );
    assert!(secret.contains("redacted"), "secret is redacted: {secret}");
}

#[test]
fn pem_pkcs1_rsa_4096_in_dot_ssh() {
    let key = gen_key(Alg::Rsa(4096), Enc::Traditional);
    let t = Tree::new();
    t.write(".ssh/id_rsa", &key.pem);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = assert_key_finding(&s, &key.public, false, &[loc_col(".ssh/id_rsa", 1, 1)]);
    assert_eq!(f["key"]["bits"], 4096);
    assert_eq!(f["locations"][0]["format"], "pem-pkcs1");
}

#[test]
fn pem_pkcs8_rsa() {
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    assert!(key.pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    single_pem_file_case("config/tls/server.key", &key, &["pkcs8"]);
}

#[test]
fn pem_pkcs8_ec_p256() {
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    single_pem_file_case("certs/p256.pem", &key, &["pkcs8"]);
}

#[test]
fn pem_pkcs8_ec_p384() {
    let key = gen_key(Alg::Ec(Curve::P384), Enc::Pkcs8);
    single_pem_file_case("certs/p384.pem", &key, &["pkcs8"]);
}

#[test]
fn pem_pkcs8_ec_p521() {
    let key = gen_key(Alg::Ec(Curve::P521), Enc::Pkcs8);
    single_pem_file_case("certs/p521.pem", &key, &["pkcs8"]);
}

#[test]
fn pem_pkcs8_ed25519() {
    let key = gen_key(Alg::Ed25519, Enc::Pkcs8);
    single_pem_file_case("signing/ed25519.pem", &key, &["pkcs8"]);
}

#[test]
fn pem_sec1_ec_p256_with_parameters_block() {
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Traditional);
    assert!(key.pem.starts_with("-----BEGIN EC PRIVATE KEY-----"));
    // What `openssl ecparam -genkey` writes: an EC PARAMETERS block first.
    let text = format!(
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
        key.pem
    );
    let t = Tree::new();
    t.write("ec/prime256v1.pem", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_col("ec/prime256v1.pem", 4, 1)],
    );
    assert_format(f, 0, &["sec1"]);
}

#[test]
fn pem_sec1_ec_p384() {
    let key = gen_key(Alg::Ec(Curve::P384), Enc::Traditional);
    assert!(key.pem.starts_with("-----BEGIN EC PRIVATE KEY-----"));
    single_pem_file_case("ec/secp384r1.key", &key, &["sec1"]);
}

// ---------------------------------------------------------------------------
// OpenSSH
// ---------------------------------------------------------------------------

fn openssh_case(kind: &str, bits: Option<u32>, pass: &str) {
    let k = gen_ssh(kind, bits, pass);
    assert!(k.private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    let t = Tree::new();
    let name = format!("home/ci/.ssh/id_{kind}");
    t.write(&name, &k.private);
    t.write(&format!("{name}.pub"), format!("{}\n", k.public_line));
    t.write(
        "home/ci/.ssh/authorized_keys",
        format!("{}\n", k.public_line),
    );
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = assert_key_finding(&s, &k.public, !pass.is_empty(), &[loc_col(&name, 1, 1)]);
    assert_format(f, 0, &["openssh"]);
    assert_pem_file_region(f, 0, &k.private);
}

#[test]
fn openssh_rsa() {
    openssh_case("rsa", Some(2048), "");
}

#[test]
fn openssh_ecdsa_p256() {
    openssh_case("ecdsa", Some(256), "");
}

#[test]
fn openssh_ecdsa_p384() {
    openssh_case("ecdsa", Some(384), "");
}

#[test]
fn openssh_ecdsa_p521() {
    openssh_case("ecdsa", Some(521), "");
}

/// Length of the private scalar mpint in an unencrypted OpenSSH ECDSA private key (parsed here).
fn openssh_ecdsa_scalar_len(private: &str) -> usize {
    let body: String = pem_body_lines(private).concat();
    let b = b64_decode(&body);
    let magic = b"openssh-key-v1\0";
    assert!(b.starts_with(magic));
    let mut i = magic.len();
    let string = |b: &[u8], i: &mut usize| -> Vec<u8> {
        let n = u32::from_be_bytes(b[*i..*i + 4].try_into().expect("len")) as usize;
        let v = b[*i + 4..*i + 4 + n].to_vec();
        *i += 4 + n;
        v
    };
    assert_eq!(string(&b, &mut i), b"none", "unencrypted key");
    string(&b, &mut i); // kdf
    string(&b, &mut i); // kdf options
    i += 4; // number of keys
    string(&b, &mut i); // public key
    let private = string(&b, &mut i);
    let mut j = 8; // two check ints
    string(&private, &mut j); // key type
    string(&private, &mut j); // curve
    string(&private, &mut j); // public point
    string(&private, &mut j).len()
}

/// Generates OpenSSH ECDSA keys until `want(scalar mpint length)` holds.
fn gen_ssh_ecdsa_where(bits: u32, want: impl Fn(usize) -> bool, tries: usize) -> SshKey {
    for _ in 0..tries {
        let k = gen_ssh("ecdsa", Some(bits), "");
        if want(openssh_ecdsa_scalar_len(&k.private)) {
            return k;
        }
    }
    panic!("no ECDSA P-{bits} key with the wanted scalar length in {tries} tries");
}

#[test]
fn openssh_ecdsa_p521_short_and_full_length_scalars() {
    // OpenSSH stores the private scalar as an mpint: without leading zero bytes. A P-521 scalar is
    // shorter than 66 bytes in about a third of keys; both lengths must be found.
    let short = gen_ssh_ecdsa_where(521, |n| n < 66, 64);
    let full = gen_ssh_ecdsa_where(521, |n| n == 66, 64);
    let t = Tree::new();
    t.write("keys/short", &short.private);
    t.write("keys/full", &full.private);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(2);
    assert_key_finding(&s, &short.public, false, &[loc_col("keys/short", 1, 1)]);
    assert_key_finding(&s, &full.public, false, &[loc_col("keys/full", 1, 1)]);
}

#[test]
fn openssh_ecdsa_p256_short_scalar() {
    // A P-256 scalar below 2^248 (1 key in 256) is a 31-byte mpint.
    let short = gen_ssh_ecdsa_where(256, |n| n < 32, 4000);
    let t = Tree::new();
    t.write("keys/id_ecdsa", &short.private);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(&s, &short.public, false, &[loc_col("keys/id_ecdsa", 1, 1)]);
}

#[test]
fn openssh_ed25519() {
    openssh_case("ed25519", None, "");
}

#[test]
fn openssh_ed25519_encrypted_still_has_thumbprint() {
    openssh_case("ed25519", None, "correct horse battery staple");
}

// ---------------------------------------------------------------------------
// DSA, PGP, encrypted
// ---------------------------------------------------------------------------

#[test]
fn dsa_traditional_and_pkcs8() {
    let trad = gen_dsa(true);
    assert!(
        trad.starts_with("-----BEGIN DSA PRIVATE KEY-----"),
        "{trad}"
    );
    let p8 = gen_dsa(false);
    assert!(p8.starts_with("-----BEGIN PRIVATE KEY-----"), "{p8}");
    let t = Tree::new();
    t.write("legacy/dsa.pem", &trad);
    t.write("legacy/dsa-pkcs8.pem", &p8);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(2);
    assert_opaque_key(
        &s,
        "private-key/dsa",
        "DSA",
        Some(false),
        loc_col("legacy/dsa.pem", 1, 1),
    );
    assert_opaque_key(
        &s,
        "private-key/dsa",
        "DSA",
        Some(false),
        loc_col("legacy/dsa-pkcs8.pem", 1, 1),
    );
}

#[test]
fn pgp_private_key_block() {
    let block = gen_pgp_block();
    let text = format!("Backup of the release signing key. Do not commit.\n\n{block}");
    let t = Tree::new();
    t.write("release/signing-key.asc", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_opaque_key(
        &s,
        "private-key/pgp",
        "PGP",
        None,
        loc_col("release/signing-key.asc", 3, 1),
    );
}

#[test]
fn encrypted_pkcs8() {
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let enc = encrypt_pkcs8(&key, "s3cret-pass");
    let t = Tree::new();
    t.write("keys/enc.pem", &enc);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_opaque_key(
        &s,
        "private-key/encrypted",
        "unknown",
        Some(true),
        loc_col("keys/enc.pem", 1, 1),
    );
}

#[test]
fn legacy_encrypted_pem_is_rsa() {
    let pem = gen_rsa_legacy_encrypted(2048, "s3cret-pass");
    let t = Tree::new();
    t.write("keys/legacy-enc.pem", &pem);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_opaque_key(
        &s,
        "private-key/rsa",
        "RSA",
        Some(true),
        loc_col("keys/legacy-enc.pem", 1, 1),
    );
}

// ---------------------------------------------------------------------------
// PuTTY
// ---------------------------------------------------------------------------

fn ppk_case(kind: &str, bits: Option<u32>, version: u32, pass: &str) {
    let k = gen_ppk(kind, bits, version, pass);
    let t = Tree::new();
    let path = format!("putty/{kind}-v{version}.ppk");
    t.write(&path, &k.ppk);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = assert_key_finding(&s, &k.public, !pass.is_empty(), &[loc_col(&path, 1, 1)]);
    assert_format(f, 0, &["ppk", "putty"]);
}

#[test]
fn ppk_v2_rsa() {
    ppk_case("rsa", Some(2048), 2, "");
}

#[test]
fn ppk_v3_ed25519() {
    ppk_case("ed25519", None, 3, "");
}

#[test]
fn ppk_v3_ecdsa_p256() {
    ppk_case("ecdsa", Some(256), 3, "");
}

#[test]
fn ppk_v2_ed25519_encrypted() {
    ppk_case("ed25519", None, 2, "hunter2-but-longer");
}

#[test]
fn ppk_v3_ecdsa_p384_encrypted() {
    ppk_case("ecdsa", Some(384), 3, "hunter2-but-longer");
}

// ---------------------------------------------------------------------------
// PEM inside source code
// ---------------------------------------------------------------------------

#[test]
fn pem_in_go_raw_string() {
    let key = gen_key(Alg::Rsa(2048), Enc::Traditional);
    let src = format!(
        "package auth\n\nimport \"crypto/x509\"\n\n// testKey signs local tokens.\nconst testKey = `{}`\n\nvar _ = x509.ParsePKCS1PrivateKey\n",
        key.pem.trim_end()
    );
    let t = Tree::new();
    t.write("internal/auth/key.go", &src);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_of("internal/auth/key.go", &src, "-----BEGIN")],
    );
}

#[test]
fn pem_in_python_triple_quoted_string() {
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let src = format!(
        "import jwt\n\nSIGNING_KEY = \"\"\"{}\"\"\"\n\n\ndef issue(claims):\n    return jwt.encode(claims, SIGNING_KEY, algorithm=\"ES256\")\n",
        key.pem
    );
    let t = Tree::new();
    t.write("app/keys.py", &src);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_of("app/keys.py", &src, "-----BEGIN")],
    );
}

#[test]
fn pem_in_java_string_concatenation() {
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
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
    let t = Tree::new();
    t.write("src/main/java/com/example/auth/Keys.java", &src);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_of(
            "src/main/java/com/example/auth/Keys.java",
            &src,
            "-----BEGIN",
        )],
    );
}

#[test]
fn pem_escaped_in_json() {
    let key = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let text = format!(
        "{{\n  \"service\": \"billing\",\n  \"signing\": {{\n    \"alg\": \"EdDSA\",\n    \"privateKey\": \"{}\"\n  }}\n}}\n",
        pem_escaped(&key.pem)
    );
    // It is valid JSON and decodes to the PEM.
    let v: Value = serde_json::from_str(&text).expect("valid json");
    assert_eq!(v["signing"]["privateKey"], key.pem.as_str());
    let t = Tree::new();
    t.write("config/billing.json", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_of("config/billing.json", &text, "-----BEGIN")],
    );
}

#[test]
fn pem_escaped_in_js_string() {
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Traditional);
    let src = format!(
        "'use strict';\nconst crypto = require('crypto');\n\nconst PRIVATE_KEY = \"{}\";\n\nmodule.exports = {{ sign: (d) => crypto.sign('sha256', d, PRIVATE_KEY) }};\n",
        pem_escaped(&key.pem)
    );
    let t = Tree::new();
    t.write("lib/sign.js", &src);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_of("lib/sign.js", &src, "-----BEGIN")],
    );
}

#[test]
fn pem_base64_in_kubernetes_secret() {
    let key = gen_key(Alg::Rsa(2048), Enc::Traditional);
    let b = pem_base64(&key.pem);
    assert!(b.starts_with("LS0tLS1CRUdJTi"));
    let text = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api-signing\n  namespace: prod\ntype: Opaque\ndata:\n  username: YWRtaW4=\n  tls.key: {b}\n"
    );
    let t = Tree::new();
    t.write("k8s/prod/secret.yaml", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_of("k8s/prod/secret.yaml", &text, &b)],
    );
}

#[test]
fn pem_base64_in_env_value() {
    let key = gen_key(Alg::Ec(Curve::P384), Enc::Pkcs8);
    let b = pem_base64(&key.pem);
    let text = format!("NODE_ENV=production\nPORT=8080\nJWT_PRIVATE_KEY_B64={b}\nLOG_LEVEL=info\n");
    let t = Tree::new();
    t.write("services/api/.env", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_of("services/api/.env", &text, &b)],
    );
}

#[test]
fn gcp_service_account_json() {
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
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
    let t = Tree::new();
    t.write("infra/gcp/acme-prod-123456-3f2a.json", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_of(
            "infra/gcp/acme-prod-123456-3f2a.json",
            &text,
            "-----BEGIN",
        )],
    );
}

// ---------------------------------------------------------------------------
// JWK / JWKS
// ---------------------------------------------------------------------------

#[test]
fn jwk_rsa_private_json() {
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let mut jwk = key.jwk.clone();
    jwk["kid"] = json!("prod-2025");
    jwk["alg"] = json!("RS256");
    jwk["use"] = json!("sig");
    let text = serde_json::to_string_pretty(&jwk).expect("json") + "\n";
    let t = Tree::new();
    t.write("keys/prod.jwk.json", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = assert_key_finding(&s, &key.public, false, &[loc("keys/prod.jwk.json", 1)]);
    assert_format(f, 0, &["jwk"]);
}

#[test]
fn jwks_with_private_ec_and_okp_and_a_public_rsa() {
    let ec = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let ed = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let rsa_pub = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let mut a = ec.jwk.clone();
    a["kid"] = json!("ec-1");
    a["use"] = json!("sig");
    let mut b = ed.jwk.clone();
    b["kid"] = json!("ed-1");
    let mut c = rsa_pub.public.jwk_public();
    c["kid"] = json!("rsa-public");
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
    let t = Tree::new();
    t.write("src/dev/signing-key.ts", &src);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
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
    let t = Tree::new();
    t.write("src/keys.ts", &src);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(&s, &key.public, false, &[loc("src/keys.ts", 2)]);
}

#[test]
fn jwks_oct_key_is_hmac_secret() {
    let k = b64url(&random_bytes(32));
    let text = format!(
        "{{\n  \"keys\": [\n    {{\n      \"kty\": \"oct\",\n      \"kid\": \"hs-1\",\n      \"alg\": \"HS256\",\n      \"k\": \"{k}\"\n    }}\n  ]\n}}\n"
    );
    let t = Tree::new();
    t.write("auth/hmac-keys.json", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
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
    let t = Tree::new();
    t.write("docs/requests/profile.http", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
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
    let token = make_jwt(
        &json!({"alg":"HS256","typ":"JWT"}),
        &json!({"iss":"billing","sub":"42","exp":1767225600}),
        |input| hmac_sha256(key.as_bytes(), input).to_vec(),
    );
    let text = format!(
        "import {{ test }} from 'vitest';\n\nconst TOKEN =\n  '{token}';\n\ntest('decodes', () => {{}});\n"
    );
    let t = Tree::new();
    t.write("web/test/auth.test.ts", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = s.one_with_rule("jwt/token");
    let j = &f["jwt"];
    assert_eq!(j["alg"], "HS256", "jwt: {j}");
    assert!(j["kid"].is_null(), "no kid in the header: {j}");
    assert_eq!(j["iss"], "billing", "jwt: {j}");
    assert_eq!(j["sub"], "42", "jwt: {j}");
    assert_eq!(j["exp"], 1767225600, "jwt: {j}");
    assert_locations(&s, f, &[loc_of("web/test/auth.test.ts", &text, &token)]);
}

// ---------------------------------------------------------------------------
// HMAC secrets
// ---------------------------------------------------------------------------

/// One file with one HMAC secret `value`: exactly one `secret/hmac` finding at the value.
fn hmac_case(path: &str, text: &str, value: &str) {
    let t = Tree::new();
    t.write(path, text);
    let s = t.scan(&["--show-secrets"]);
    s.assert_exit(1);
    s.assert_count(1);
    let f = s.one_with_rule("secret/hmac");
    assert_finding_shape(f);
    assert!(f["key"].is_null(), "key must be null for secret/hmac: {f}");
    assert_eq!(
        f["secret"],
        value,
        "with --show-secrets, secret is the full value\n{}",
        s.summary()
    );
    assert_locations(&s, f, &[loc_of(path, text, value)]);
}

#[test]
fn hmac_in_dotenv() {
    let v = random_secret(48);
    let text = format!(
        "# API service\nNODE_ENV=production\nPORT=3000\nDATABASE_HOST=db.internal\nJWT_SECRET={v}\nJWT_EXPIRES_IN=3600\n"
    );
    hmac_case(".env", &text, &v);
}

#[test]
fn hmac_in_spring_application_properties() {
    let v = random_secret(44);
    let text = format!(
        "spring.application.name=orders\nserver.port=8080\nspring.datasource.url=jdbc:postgresql://db:5432/orders\n\n# token settings\njwt.secret={v}\njwt.expiration=86400000\n"
    );
    hmac_case("src/main/resources/application.properties", &text, &v);
}

#[test]
fn hmac_in_spring_application_yml() {
    let v = random_secret(44);
    let text = format!(
        "spring:\n  application:\n    name: orders\nserver:\n  port: 8080\njwt:\n  secret: {v}\n  expiration: 86400000\n"
    );
    hmac_case("src/main/resources/application.yml", &text, &v);
}

#[test]
fn hmac_in_django_settings() {
    let v = random_string(50, "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)");
    let text = format!(
        "from pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent.parent\n\n# SECURITY WARNING: keep the secret key used in production secret!\nSECRET_KEY = '{v}'\n\nDEBUG = False\n\nALLOWED_HOSTS = ['example.com']\n"
    );
    hmac_case("mysite/mysite/settings.py", &text, &v);
}

#[test]
fn hmac_in_js_jwt_sign_call() {
    let v = random_secret(40);
    let text = format!(
        "const jwt = require('jsonwebtoken');\n\nfunction issue(user) {{\n  const payload = {{ sub: user.id, role: user.role }};\n  return jwt.sign(payload, '{v}', {{ expiresIn: '1h' }});\n}}\n\nmodule.exports = {{ issue }};\n"
    );
    hmac_case("server/auth/issue.js", &text, &v);
}

#[test]
fn hmac_in_python_jwt_encode_call() {
    let v = random_secret(40);
    let text = format!(
        "import jwt\n\n\ndef make_token(user_id):\n    payload = {{\"sub\": user_id}}\n    return jwt.encode(payload, \"{v}\", algorithm=\"HS256\")\n"
    );
    hmac_case("api/tokens.py", &text, &v);
}

#[test]
fn hmac_in_go_signed_string() {
    let v = random_secret(40);
    let text = format!(
        "package auth\n\nimport \"github.com/golang-jwt/jwt/v5\"\n\nfunc Issue(sub string) (string, error) {{\n\ttoken := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{{\"sub\": sub}})\n\treturn token.SignedString([]byte(\"{v}\"))\n}}\n"
    );
    hmac_case("pkg/auth/issue.go", &text, &v);
}

#[test]
fn hmac_in_java_sign_with_literal() {
    let v = random_secret(64);
    let text = format!(
        "package com.example.auth;\n\nimport io.jsonwebtoken.Jwts;\nimport io.jsonwebtoken.SignatureAlgorithm;\n\npublic class TokenService {{\n    public String issue(String subject) {{\n        return Jwts.builder()\n            .setSubject(subject)\n            .signWith(SignatureAlgorithm.HS512, \"{v}\")\n            .compact();\n    }}\n}}\n"
    );
    hmac_case(
        "src/main/java/com/example/auth/TokenService.java",
        &text,
        &v,
    );
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

#[test]
fn pem_with_crlf_line_endings() {
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let crlf = key.pem.replace('\n', "\r\n");
    let text = format!("# checked in from a Windows machine\r\n{crlf}");
    let t = Tree::new();
    t.write("win/signing.pem", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
    assert_key_finding(&s, &key.public, false, &[loc_col("win/signing.pem", 2, 1)]);
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
    let t = Tree::new();
    t.write("test/fixtures/token-response.json", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(1);
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
