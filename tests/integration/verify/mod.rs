//! Verification end to end: the keysweep binary against real HTTP and HTTPS servers on
//! 127.0.0.1 started inside each test, with keys and certificates generated at test time.

mod faults;
mod secrets;
mod tokens;

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

fn status(f: &Value) -> &str {
    f["verification"]["status"].as_str().unwrap_or("?")
}

fn detail(f: &Value) -> &str {
    f["verification"]["detail"].as_str().unwrap_or("")
}

/// The tree most fault tests share: an EC P-256 private key whose public half is served, a `.env`
/// secret and a token it signs.
struct Fixture {
    tree: Tree,
    key: GenKey,
    secret: String,
}

impl Fixture {
    fn new() -> Fixture {
        let tree = Tree::new();
        let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
        tree.write("deploy/signing.pem", &key.pem);
        let secret = random_secret(32);
        tree.write(".env", format!("JWT_SECRET={secret}\n"));
        let token = hs_jwt(
            "HS256",
            secret.as_bytes(),
            &json!({"iss": "https://auth.internal", "sub": "svc-1"}),
        );
        tree.write(
            "fixtures/session.txt",
            format!("Authorization: Bearer {token}\n"),
        );
        Fixture { tree, key, secret }
    }

    fn jwks(&self) -> String {
        jwks(&[public_jwk(&self.key.public, "prod-ec")])
    }

    fn scan(&self, extra: &[&str]) -> Scan {
        self.tree.scan(extra)
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

// ---------------------------------------------------------------------------
// private key → live key
// ---------------------------------------------------------------------------

#[test]
fn private_keys_in_every_format_match_a_live_https_jwks() {
    let tree = Tree::new();
    let mut served = Vec::new();
    // (file, kid, thumbprint) that must come out live.
    let mut live: Vec<(String, String, String)> = Vec::new();
    let mut add_live = |file: &str, text: &str, public: &PublicKey, live: &mut Vec<_>| {
        let kid = format!("kid-{}", file.replace(['/', '.'], "-"));
        tree.write(file, text);
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
        tree.write(file, &key.pem);
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
    let certs = Tree::new();
    let url = server.url("/.well-known/jwks.json");
    let scan = tree.scan(&["--jwks", &url, "--ca-cert", &ca.write_pem(&certs)]);
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
    let sets = Tree::new();
    let file = sets.write("jwks.json", fx.jwks()).display().to_string();
    let scan = fx.scan(&["--jwks", &file]);
    let finding = scan.one_with_thumbprint(&fx.key.thumbprint());
    assert_eq!(status(finding), "live", "{}", scan.pretty());
    assert_eq!(finding["verification"]["source"], json!(file));

    // And from keysweep.toml.
    let config = sets.write(
        "keysweep.toml",
        format!("[verify]\njwks = [{}]\n", json!(url)),
    );
    let scan = fx.scan(&["--config", &config.display().to_string()]);
    let finding = scan.one_with_thumbprint(&fx.key.thumbprint());
    assert_eq!(status(finding), "live", "{}", scan.pretty());
}

#[test]
fn oidc_discovery_finds_the_jwks_and_refuses_a_mismatched_issuer() {
    let fx = Fixture::new();
    let ca = TestCa::new();
    let server = Server::https(&ca);
    let certs = Tree::new();
    let ca_path = ca.write_pem(&certs);
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
