//! Verification end to end: the keysweep binary against real HTTP and HTTPS servers on
//! 127.0.0.1 started inside each test, with keys and certificates generated at test time.
//!
//! Run: `cargo test --test verify`

mod common;
mod verify_support;

use std::path::Path;
use std::time::Duration;

use common::{Alg, Curve, Enc, GenKey, Scan, b64, b64url, gen_key, gen_ssh, make_jwt, scan_json};
use serde_json::{Value, json};
use tempfile::TempDir;
use verify_support::{Reply, Server, TestCa, hex, hmac_sha2, jwks};

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn status(f: &Value) -> &str {
    f["verification"]["status"].as_str().unwrap_or("?")
}

fn detail(f: &Value) -> &str {
    f["verification"]["detail"].as_str().unwrap_or("")
}

/// A public JWK with a kid (and alg/use, as real sets have).
fn public_jwk(key: &common::PublicKey, kid: &str) -> Value {
    let mut jwk = key.jwk_public();
    jwk["kid"] = json!(kid);
    jwk["use"] = json!("sig");
    jwk
}

/// Words the hmac detector treats as placeholders: a random test secret must not contain them.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "your", "xxx", "todo", "fixme", "dummy", "example", "insert", "replace", "change",
];

/// A random alphanumeric secret the detector will report.
fn random_secret(n: usize) -> String {
    loop {
        let s = common::random_secret(n);
        let lower = s.to_ascii_lowercase();
        if !PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m)) {
            return s;
        }
    }
}

/// Random bytes whose standard base64 the detector will report (no leading `/`, no markers).
fn random_b64_secret(n: usize) -> (Vec<u8>, String) {
    loop {
        let bytes = common::random_bytes(n);
        let text = b64(&bytes);
        let lower = text.to_ascii_lowercase();
        if !text.starts_with('/')
            && !text.starts_with('+')
            && !PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m))
        {
            return (bytes, text);
        }
    }
}

/// An HS* JWT signed with `key`.
fn hs_jwt(alg: &str, key: &[u8], claims: &Value) -> String {
    make_jwt(&json!({"alg": alg, "typ": "JWT"}), claims, |input| {
        hmac_sha2(alg, key, input)
    })
}

/// The tree most fault tests share: an RSA private key whose public half is served, a `.env`
/// secret and a token it signs.
struct Fixture {
    dir: TempDir,
    key: GenKey,
    secret: String,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = TempDir::new().expect("tmp");
        let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
        write(dir.path(), "deploy/signing.pem", &key.pem);
        let secret = random_secret(32);
        write(dir.path(), ".env", &format!("JWT_SECRET={secret}\n"));
        let token = hs_jwt(
            "HS256",
            secret.as_bytes(),
            &json!({"iss": "https://auth.internal", "sub": "svc-1"}),
        );
        write(
            dir.path(),
            "fixtures/session.txt",
            &format!("Authorization: Bearer {token}\n"),
        );
        Fixture { dir, key, secret }
    }

    fn jwks(&self) -> String {
        jwks(&[public_jwk(&self.key.public, "prod-ec")])
    }

    fn scan(&self, extra: &[&str]) -> Scan {
        scan_json(self.dir.path(), extra)
    }

    /// The scan's other results are intact: the secret still proves the token.
    fn assert_other_results(&self, scan: &Scan) {
        let secret = scan.one_with_rule("secret/hmac");
        assert_eq!(status(secret), "signs-token", "{}", scan.pretty());
        let token = scan.one_with_rule("jwt/token");
        assert_eq!(status(token), "weak-secret", "{}", scan.pretty());
        assert!(!self.secret.is_empty());
    }

    /// The key finding is `error`, never `live`, with a readable detail naming `url`.
    fn assert_error(&self, scan: &Scan, url: &str, words: &[&str]) {
        let finding = scan.one_with_thumbprint(&self.key.thumbprint());
        assert_eq!(status(finding), "error", "{}", scan.pretty());
        let text = detail(finding);
        assert!(text.contains(url), "detail {text:?} should name {url}");
        for word in words {
            assert!(
                text.to_ascii_lowercase()
                    .contains(&word.to_ascii_lowercase()),
                "detail {text:?} should mention {word:?}"
            );
        }
        self.assert_other_results(scan);
    }
}

fn ca_file(dir: &Path, ca: &TestCa) -> String {
    let path = dir.join("test-ca.pem");
    std::fs::write(&path, &ca.ca_pem).expect("write CA");
    path.display().to_string()
}

// ---------------------------------------------------------------------------
// private key → live key
// ---------------------------------------------------------------------------

#[test]
fn private_keys_in_every_format_match_a_live_https_jwks() {
    let tree = TempDir::new().expect("tmp");
    let root = tree.path();
    let mut served = Vec::new();
    // (file, kid, thumbprint) that must come out live.
    let mut live: Vec<(String, String, String)> = Vec::new();
    let mut add_live = |file: &str, text: &str, public: &common::PublicKey, live: &mut Vec<_>| {
        let kid = format!("kid-{}", file.replace(['/', '.'], "-"));
        write(root, file, text);
        served.push(public_jwk(public, &kid));
        live.push((file.to_string(), kid, public.thumbprint()));
    };
    let rsa1 = gen_key(Alg::Rsa(2048), Enc::Traditional);
    assert!(rsa1.pem.contains("BEGIN RSA PRIVATE KEY"));
    add_live("keys/rsa-pkcs1.pem", &rsa1.pem, &rsa1.public, &mut live);
    let rsa8 = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    add_live("keys/rsa-pkcs8.pem", &rsa8.pem, &rsa8.public, &mut live);
    let rsaj = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    let jwk_text = serde_json::to_string_pretty(&rsaj.jwk).expect("json");
    add_live("keys/rsa.jwk.json", &jwk_text, &rsaj.public, &mut live);
    for curve in [Curve::P256, Curve::P384] {
        let name = curve.name().to_ascii_lowercase();
        let sec1 = gen_key(Alg::Ec(curve), Enc::Traditional);
        assert!(sec1.pem.contains("BEGIN EC PRIVATE KEY"));
        add_live(
            &format!("keys/{name}-sec1.pem"),
            &sec1.pem,
            &sec1.public,
            &mut live,
        );
        let pkcs8 = gen_key(Alg::Ec(curve), Enc::Pkcs8);
        add_live(
            &format!("keys/{name}-pkcs8.pem"),
            &pkcs8.pem,
            &pkcs8.public,
            &mut live,
        );
        let jwk = gen_key(Alg::Ec(curve), Enc::Pkcs8);
        let text = serde_json::to_string_pretty(&jwk.jwk).expect("json");
        add_live(
            &format!("keys/{name}.jwk.json"),
            &text,
            &jwk.public,
            &mut live,
        );
    }
    let ed = gen_key(Alg::Ed25519, Enc::Pkcs8);
    add_live("keys/ed25519.pem", &ed.pem, &ed.public, &mut live);
    let ssh = gen_ssh("ed25519", None, "");
    add_live("keys/id_ed25519", &ssh.private, &ssh.public, &mut live);

    // Keys whose public half is not served.
    let mut not_live = Vec::new();
    for (file, key) in [
        ("other/rsa.pem", gen_key(Alg::Rsa(2048), Enc::Pkcs8)),
        (
            "other/p256.pem",
            gen_key(Alg::Ec(Curve::P256), Enc::Traditional),
        ),
        ("other/ed25519.pem", gen_key(Alg::Ed25519, Enc::Pkcs8)),
    ] {
        write(root, file, &key.pem);
        not_live.push(key.thumbprint());
    }
    // A decoy in the set that nothing in the tree matches.
    served.push(public_jwk(
        &gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8).public,
        "decoy",
    ));

    let ca = TestCa::new();
    let server = Server::https(&ca);
    server.route("/.well-known/jwks.json", Reply::Json(jwks(&served)));
    let certs = TempDir::new().expect("tmp");
    let url = server.url("/.well-known/jwks.json");
    let scan = scan_json(
        root,
        &["--jwks", &url, "--ca-cert", &ca_file(certs.path(), &ca)],
    );
    scan.assert_exit(1);
    for (file, kid, thumbprint) in &live {
        let finding = scan.one_with_thumbprint(thumbprint);
        assert_eq!(status(finding), "live", "{file}\n{}", scan.pretty());
        assert_eq!(finding["verification"]["kid"], json!(kid), "{file}");
        assert_eq!(finding["verification"]["source"], json!(url), "{file}");
        assert_eq!(finding["severity"], "critical", "{file}");
    }
    for thumbprint in &not_live {
        let finding = scan.one_with_thumbprint(thumbprint);
        assert_eq!(status(finding), "not-live", "{}", scan.pretty());
        assert!(detail(finding).contains(&url));
    }
    // Fetched once for the whole run.
    assert_eq!(server.hits("/.well-known/jwks.json"), 1);
}

#[test]
fn loopback_http_and_files_are_key_sources() {
    let fx = Fixture::new();
    let server = Server::http();
    server.route("/jwks", Reply::Json(fx.jwks()));
    let url = server.url("/jwks");
    let scan = fx.scan(&["--jwks", &url]);
    let finding = scan.one_with_thumbprint(&fx.key.thumbprint());
    assert_eq!(status(finding), "live", "{}", scan.pretty());
    assert_eq!(finding["verification"]["kid"], "prod-ec");

    // The same set as a file.
    let sets = TempDir::new().expect("tmp");
    let file = sets.path().join("jwks.json");
    std::fs::write(&file, fx.jwks()).expect("write");
    let file = file.display().to_string();
    let scan = fx.scan(&["--jwks", &file]);
    let finding = scan.one_with_thumbprint(&fx.key.thumbprint());
    assert_eq!(status(finding), "live", "{}", scan.pretty());
    assert_eq!(finding["verification"]["source"], json!(file));

    // And from keysweep.toml.
    let config = sets.path().join("keysweep.toml");
    std::fs::write(&config, format!("[verify]\njwks = [{}]\n", json!(url))).expect("write");
    let scan = fx.scan(&["--config", &config.display().to_string()]);
    let finding = scan.one_with_thumbprint(&fx.key.thumbprint());
    assert_eq!(status(finding), "live", "{}", scan.pretty());
}

#[test]
fn oidc_discovery_finds_the_jwks_and_refuses_a_mismatched_issuer() {
    let fx = Fixture::new();
    let ca = TestCa::new();
    let server = Server::https(&ca);
    let certs = TempDir::new().expect("tmp");
    let ca_path = ca_file(certs.path(), &ca);
    let issuer = server.url("/tenant");
    server.route(
        "/tenant/.well-known/openid-configuration",
        Reply::Json(json!({"issuer": issuer, "jwks_uri": server.url("/tenant/keys")}).to_string()),
    );
    server.route("/tenant/keys", Reply::Json(fx.jwks()));
    let scan = fx.scan(&["--issuer", &issuer, "--ca-cert", &ca_path]);
    let finding = scan.one_with_thumbprint(&fx.key.thumbprint());
    assert_eq!(status(finding), "live", "{}", scan.pretty());
    assert_eq!(finding["verification"]["kid"], "prod-ec");
    assert_eq!(finding["verification"]["source"], json!(issuer));
    assert!(detail(finding).contains("/tenant/keys"));

    // A discovery document that names another issuer is refused: no key is fetched.
    server.route(
        "/evil/.well-known/openid-configuration",
        Reply::Json(
            json!({"issuer": "https://attacker.example", "jwks_uri": server.url("/tenant/keys")})
                .to_string(),
        ),
    );
    let keys_before = server.hits("/tenant/keys");
    let evil = server.url("/evil");
    let scan = fx.scan(&["--issuer", &evil, "--ca-cert", &ca_path]);
    let finding = scan.one_with_thumbprint(&fx.key.thumbprint());
    assert_eq!(status(finding), "error", "{}", scan.pretty());
    assert!(
        detail(finding).contains("attacker.example"),
        "{}",
        detail(finding)
    );
    assert!(detail(finding).contains("refused"), "{}", detail(finding));
    assert_eq!(server.hits("/tenant/keys"), keys_before);
    fx.assert_other_results(&scan);
}

#[test]
fn each_url_is_fetched_once_per_run() {
    let fx = Fixture::new();
    let server = Server::http();
    server.route("/keys", Reply::Json(fx.jwks()));
    let issuer = server.url("");
    server.route(
        "/.well-known/openid-configuration",
        Reply::Json(json!({"issuer": issuer, "jwks_uri": server.url("/keys")}).to_string()),
    );
    let url = server.url("/keys");
    let scan = fx.scan(&["--jwks", &url, "--jwks", &url, "--issuer", &issuer]);
    assert_eq!(
        status(scan.one_with_thumbprint(&fx.key.thumbprint())),
        "live"
    );
    assert_eq!(server.hits("/keys"), 1, "{:?}", server.requests());
    assert_eq!(server.hits("/.well-known/openid-configuration"), 1);
}

#[test]
fn offline_uses_no_network() {
    let fx = Fixture::new();
    let server = Server::http();
    server.route("/keys", Reply::Json(fx.jwks()));
    let url = server.url("/keys");
    let scan = fx.scan(&["--jwks", &url, "--offline"]);
    let finding = scan.one_with_thumbprint(&fx.key.thumbprint());
    assert_eq!(status(finding), "unverified", "{}", scan.pretty());
    assert!(detail(finding).contains("--offline"));
    std::thread::sleep(Duration::from_millis(100));
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    // HMAC checks are local and still run.
    fx.assert_other_results(&scan);
}

// ---------------------------------------------------------------------------
// faults never produce `live`
// ---------------------------------------------------------------------------

#[test]
fn fault_timeout() {
    let fx = Fixture::new();
    let server = Server::http();
    server.route("/slow", Reply::Hang(Duration::from_secs(4)));
    let settings = TempDir::new().expect("tmp");
    let config = settings.path().join("keysweep.toml");
    std::fs::write(
        &config,
        "[verify]\nconnect_timeout_secs = 1\ntotal_timeout_secs = 1\n",
    )
    .expect("write");
    let url = server.url("/slow");
    let started = std::time::Instant::now();
    let scan = fx.scan(&["--jwks", &url, "--config", &config.display().to_string()]);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the timeout did not apply"
    );
    fx.assert_error(&scan, &url, &["timed out"]);
}

#[test]
fn fault_http_500_and_another_source_still_matches() {
    let fx = Fixture::new();
    let server = Server::http();
    server.route("/broken", Reply::Status(500, fx.jwks()));
    let url = server.url("/broken");
    let scan = fx.scan(&["--jwks", &url]);
    fx.assert_error(&scan, &url, &["HTTP 500"]);

    // A healthy second source that publishes the key wins: live.
    server.route("/good", Reply::Json(fx.jwks()));
    let good = server.url("/good");
    let scan = fx.scan(&["--jwks", &url, "--jwks", &good]);
    let finding = scan.one_with_thumbprint(&fx.key.thumbprint());
    assert_eq!(status(finding), "live", "{}", scan.pretty());
    assert_eq!(finding["verification"]["source"], json!(good));
}

#[test]
fn fault_invalid_json() {
    let fx = Fixture::new();
    let server = Server::http();
    // The key's JWK is in the body, but the document is not valid JSON.
    let body = format!("{}<!-- oops", fx.jwks());
    server.route("/bad", Reply::Json(body));
    let url = server.url("/bad");
    let scan = fx.scan(&["--jwks", &url]);
    fx.assert_error(&scan, &url, &["invalid JSON"]);
}

#[test]
fn fault_100_mb_body() {
    let fx = Fixture::new();
    let server = Server::http();
    // A valid set that publishes the key, padded to 100 MB: over the cap, so never read.
    let jwk = public_jwk(&fx.key.public, "prod-ec");
    server.route(
        "/huge",
        Reply::Huge {
            prefix: format!("{{\"keys\":[{jwk}]"),
            total: 100 << 20,
        },
    );
    let url = server.url("/huge");
    let started = std::time::Instant::now();
    let scan = fx.scan(&["--jwks", &url]);
    fx.assert_error(&scan, &url, &["larger than"]);
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn fault_redirect_to_another_host() {
    let fx = Fixture::new();
    let server = Server::http();
    server.route("/keys", Reply::Json(fx.jwks()));
    // 127.0.0.1 → localhost: the same machine, but another host name.
    server.route(
        "/moved-away",
        Reply::Redirect(format!("{}/keys", server.base_localhost())),
    );
    let url = server.url("/moved-away");
    let scan = fx.scan(&["--jwks", &url]);
    fx.assert_error(&scan, &url, &["another host"]);
    assert_eq!(server.hits("/keys"), 0);

    // A redirect on the same host is followed.
    server.route("/moved", Reply::Redirect("/keys".to_string()));
    let scan = fx.scan(&["--jwks", &server.url("/moved")]);
    assert_eq!(
        status(scan.one_with_thumbprint(&fx.key.thumbprint())),
        "live",
        "{}",
        scan.pretty()
    );
}

#[test]
fn fault_plain_http_to_a_remote_host() {
    let fx = Fixture::new();
    // TEST-NET-1 (RFC 5737): refused before any connection is attempted.
    let url = "http://192.0.2.1/.well-known/jwks.json";
    let started = std::time::Instant::now();
    let scan = fx.scan(&["--jwks", url]);
    fx.assert_error(&scan, url, &["plain http", "https"]);
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn fault_unknown_ca() {
    let fx = Fixture::new();
    let ca = TestCa::new();
    let server = Server::https(&ca);
    server.route("/keys", Reply::Json(fx.jwks()));
    let url = server.url("/keys");
    // No --ca-cert: the bundled roots do not know the test CA.
    let scan = fx.scan(&["--jwks", &url]);
    fx.assert_error(&scan, &url, &["certificate"]);
    // Another CA does not help either.
    let other = TestCa::new();
    let certs = TempDir::new().expect("tmp");
    let scan = fx.scan(&["--jwks", &url, "--ca-cert", &ca_file(certs.path(), &other)]);
    fx.assert_error(&scan, &url, &["certificate"]);
    // The right CA does.
    let scan = fx.scan(&["--jwks", &url, "--ca-cert", &ca_file(certs.path(), &ca)]);
    assert_eq!(
        status(scan.one_with_thumbprint(&fx.key.thumbprint())),
        "live"
    );
}

// ---------------------------------------------------------------------------
// nothing secret leaves the machine
// ---------------------------------------------------------------------------

#[test]
fn requests_carry_no_secret_or_private_key_bytes() {
    let tree = TempDir::new().expect("tmp");
    let root = tree.path();
    let rsa = gen_key(Alg::Rsa(2048), Enc::Traditional);
    let ec = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let ed = gen_key(Alg::Ed25519, Enc::Pkcs8);
    write(root, "keys/rsa.pem", &rsa.pem);
    write(
        root,
        "keys/ec.jwk.json",
        &serde_json::to_string(&ec.jwk).expect("json"),
    );
    write(root, "keys/ed.pem", &ed.pem);
    let secret = random_secret(40);
    write(root, ".env", &format!("JWT_SECRET={secret}\n"));
    let (spring_bytes, spring_text) = random_b64_secret(48);
    write(
        root,
        "src/main/resources/application.properties",
        &format!("jwt.secret={spring_text}\n"),
    );
    let token = hs_jwt("HS256", secret.as_bytes(), &json!({"sub": "u"}));
    write(root, "fixtures/token.txt", &token);

    let ca = TestCa::new();
    let https = Server::https(&ca);
    let http = Server::http();
    https.route("/jwks", Reply::Json(jwks(&[public_jwk(&rsa.public, "r")])));
    let issuer = http.url("/iss");
    http.route(
        "/iss/.well-known/openid-configuration",
        Reply::Json(json!({"issuer": issuer, "jwks_uri": http.url("/iss/keys")}).to_string()),
    );
    http.route(
        "/iss/keys",
        Reply::Json(jwks(&[public_jwk(&ec.public, "e")])),
    );
    let certs = TempDir::new().expect("tmp");
    let scan = scan_json(
        root,
        &[
            "--jwks",
            &https.url("/jwks"),
            "--issuer",
            &issuer,
            "--token",
            &token,
            "--ca-cert",
            &ca_file(certs.path(), &ca),
        ],
    );
    assert_eq!(status(scan.one_with_thumbprint(&rsa.thumbprint())), "live");
    assert_eq!(status(scan.one_with_thumbprint(&ec.thumbprint())), "live");
    assert_eq!(
        status(scan.one_with_thumbprint(&ed.thumbprint())),
        "not-live"
    );

    // Every form of every secret: text, base64, base64url, hex; PEM body lines; DER; JWK members.
    let mut needles: Vec<String> = Vec::new();
    let add_bytes = |bytes: &[u8], needles: &mut Vec<String>| {
        needles.push(b64(bytes).trim_end_matches('=').to_string());
        needles.push(b64url(bytes));
        needles.push(hex(bytes));
        if let Ok(text) = std::str::from_utf8(bytes) {
            needles.push(text.to_string());
        }
    };
    add_bytes(secret.as_bytes(), &mut needles);
    add_bytes(&spring_bytes, &mut needles);
    add_bytes(spring_text.as_bytes(), &mut needles);
    add_bytes(token.as_bytes(), &mut needles);
    for key in [&rsa, &ec, &ed] {
        for line in key.body_lines() {
            needles.push(line.chars().take(40).collect());
        }
        let der = common::b64_decode(&key.body_lines().concat());
        add_bytes(&der, &mut needles);
        for member in ["d", "p", "q", "dp", "dq", "qi"] {
            if let Some(value) = key.jwk[member].as_str() {
                needles.push(value.to_string());
                add_bytes(&common::b64url_decode(value), &mut needles);
            }
        }
    }
    needles.retain(|n| n.len() >= 16);
    needles.sort();
    needles.dedup();
    let requests: Vec<_> = https
        .requests()
        .into_iter()
        .chain(http.requests())
        .collect();
    assert_eq!(requests.len(), 3, "{requests:?}");
    for request in &requests {
        let text = String::from_utf8_lossy(&request.raw).to_ascii_lowercase();
        assert!(text.starts_with("get "), "{text}");
        for needle in &needles {
            assert!(
                !text.contains(&needle.to_ascii_lowercase()),
                "a request to {} carries secret material",
                request.path
            );
        }
        let head_end = text.find("\r\n\r\n").expect("complete head") + 4;
        assert_eq!(head_end, request.raw.len(), "requests have no body");
    }
}

// ---------------------------------------------------------------------------
// HMAC secrets against JWTs; guessable secrets; alg none
// ---------------------------------------------------------------------------

#[test]
fn env_secret_that_signs_a_token_elsewhere_is_signs_token() {
    let tree = TempDir::new().expect("tmp");
    let root = tree.path();
    let secret = random_secret(32);
    write(root, "service/.env", &format!("JWT_SECRET={secret}\n"));
    let token = hs_jwt(
        "HS384",
        secret.as_bytes(),
        &json!({"iss": "https://auth.example.org", "sub": "admin", "exp": 4102444800u64}),
    );
    write(
        root,
        "docs/api.md",
        &format!("curl -H 'Authorization: Bearer {token}'\n"),
    );
    let unrelated = random_secret(32);
    write(root, "other/.env", &format!("SESSION_SECRET={unrelated}\n"));

    let scan = scan_json(root, &[]);
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
    let tree = TempDir::new().expect("tmp");
    let root = tree.path();
    let (bytes, text) = random_b64_secret(64);
    write(
        root,
        "src/main/resources/application.properties",
        &format!("server.port=8080\njwt.secret={text}\n"),
    );
    // Signed with the decoded bytes, as Spring's Decoders.BASE64 does.
    let token = hs_jwt("HS512", &bytes, &json!({"sub": "42", "iss": "spring-app"}));
    write(root, "src/test/resources/token.txt", &token);
    let scan = scan_json(root, &[]);
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
    let tree = TempDir::new().expect("tmp");
    let root = tree.path();
    let secret = random_secret(32);
    write(
        root,
        "config/app.yml",
        &format!("jwt:\n  secret: {secret}\n"),
    );
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
    let scan = scan_json(root, &["--token", &first, "--token", &token]);
    let finding = scan.one_with_rule("secret/hmac");
    assert_eq!(status(finding), "signs-token", "{}", scan.pretty());
    assert_eq!(finding["verification"]["token"]["location"], "--token 2");
    assert_eq!(finding["verification"]["token"]["iss"], "prod");

    let files = TempDir::new().expect("tmp");
    let list = files.path().join("tokens.txt");
    std::fs::write(&list, format!("# captured\n{first}\n\n{token}\n")).expect("write");
    let list = list.display().to_string();
    let scan = scan_json(root, &["--tokens-file", &list]);
    let finding = scan.one_with_rule("secret/hmac");
    assert_eq!(status(finding), "signs-token", "{}", scan.pretty());
    assert_eq!(
        finding["verification"]["token"]["location"],
        json!(format!("{list}:4"))
    );
}

#[test]
fn tokens_with_guessable_secrets_and_alg_none_are_flagged() {
    let tree = TempDir::new().expect("tmp");
    let root = tree.path();
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
    write(root, "a.txt", &format!("token={weak}\n"));
    write(root, "b.txt", &format!("token={weak512}\n"));
    write(root, "c.txt", &format!("token={none}\n"));
    write(root, "d.txt", &format!("token={strong}\n"));
    let scan = scan_json(root, &[]);
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
    let clean = TempDir::new().expect("tmp");
    let scan = scan_json(clean.path(), &["--token", &weak]);
    scan.assert_exit(1);
    let f = scan.one_with_rule("jwt/token");
    assert_eq!(status(f), "weak-secret");
    assert_eq!(f["locations"][0]["path"], "--token");
}

#[test]
fn a_found_secret_makes_the_tokens_it_signs_weak() {
    let tree = TempDir::new().expect("tmp");
    let root = tree.path();
    let secret = random_secret(24);
    write(root, ".env", &format!("TOKEN_SECRET={secret}\n"));
    let token = hs_jwt("HS256", secret.as_bytes(), &json!({"sub": "z"}));
    write(root, "t.txt", &token);
    let scan = scan_json(root, &[]);
    let jwt = scan.one_with_rule("jwt/token");
    assert_eq!(status(jwt), "weak-secret", "{}", scan.pretty());
    assert!(detail(jwt).contains(".env:1"), "{}", detail(jwt));
}

// ---------------------------------------------------------------------------
// known example keys
// ---------------------------------------------------------------------------

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jose");

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
            common::jwk_thumbprint(&jwk),
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
            thumbprints.contains(&common::jwk_thumbprint(&jwk).as_str()),
            "{name} is not in known-example-keys.toml"
        );
    }
}

#[test]
fn rfc_example_keys_are_known_examples_unless_a_jwks_holds_them() {
    let tree = TempDir::new().expect("tmp");
    let root = tree.path();
    let rsa = std::fs::read_to_string(Path::new(VECTORS).join("rfc7517-A.2-rsa-private.json"))
        .expect("vector");
    write(root, "vendor/jose/tests/rsa.json", &rsa);
    let ed = std::fs::read_to_string(Path::new(VECTORS).join("rfc8037-A.1-ed25519-private.json"))
        .expect("vector");
    write(root, "vendor/jose/tests/ed.json", &ed);
    let rsa_tp = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    let ed_tp = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

    let scan = scan_json(root, &[]);
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
    let scan = scan_json(root, &["--jwks", &server.url("/jwks")]);
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
    let root = fx.dir.path().display().to_string();
    let run = common::run_keysweep(["scan", &root, "--format", "sarif", "--jwks", &url]);
    assert_eq!(run.code, 1, "{}", run.stderr_str());
    let sarif: Value = serde_json::from_slice(&run.stdout).expect("sarif json");
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

    let run = common::run_keysweep(["scan", &root, "--jwks", &url, "--color", "never"]);
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

fn git(repo: &Path, args: &[&str], date: &str) -> String {
    common::require("git", "apt-get install -y git");
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", repo)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn commit(repo: &Path, files: &[(&str, &str)], date: &str) -> String {
    for (path, text) in files {
        write(repo, path, text);
        git(repo, &["add", path], date);
    }
    git(repo, &["commit", "-q", "-m", "change"], date);
    git(repo, &["rev-parse", "HEAD"], date)
}

#[test]
fn live_keys_and_signing_secrets_in_history_report_their_exposure_window() {
    let dir = TempDir::new().expect("tmp");
    let repo = dir.path();
    git(repo, &["init", "-q", "."], "2020-01-01T00:00:00+00:00");
    let secret = random_secret(32);
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let first = commit(
        repo,
        &[(".env", &format!("JWT_SECRET={secret}\n"))],
        "2021-03-04T05:06:07+02:00",
    );
    let key_commit = commit(
        repo,
        &[("deploy/key.pem", &key.pem)],
        "2022-06-01T12:00:00+00:00",
    );
    let token = hs_jwt("HS256", secret.as_bytes(), &json!({"sub": "svc"}));
    commit(
        repo,
        &[
            ("config/app.env", &format!("JWT_SECRET={secret}\n")),
            ("test/token.txt", &token),
        ],
        "2023-01-01T00:00:00+00:00",
    );
    let server = Server::http();
    server.route("/jwks", Reply::Json(jwks(&[public_jwk(&key.public, "k1")])));
    let run = common::run_keysweep([
        "git",
        &repo.display().to_string(),
        "--format",
        "json",
        "--jwks",
        &server.url("/jwks"),
    ]);
    let json: Value =
        serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr_str()));
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
