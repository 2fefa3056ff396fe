//! Faults in key sources never produce `live`; requests carry nothing secret.

use std::time::Duration;

use serde_json::json;

use super::{Fixture, status};
use crate::support::*;

// ---------------------------------------------------------------------------
// faults never produce `live`
// ---------------------------------------------------------------------------

#[test]
fn fault_timeout() {
    let fx = Fixture::new();
    let server = Server::http();
    server.route("/slow", Reply::Hang(Duration::from_secs(4)));
    let settings = Tree::new();
    let config = settings.write(
        "keysweep.toml",
        "[verify]\nconnect_timeout_secs = 1\ntotal_timeout_secs = 1\n",
    );
    let url = server.url("/slow");
    let started = std::time::Instant::now();
    let scan = fx.scan(&["--jwks", &url, "--config", &config.display().to_string()]);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the timeout did not apply"
    );
    fx.assert_error(&scan, &url, &["timed out"]);
}

/// Slow sources share one deadline for the run: five hanging URLs with a 2 s total timeout
/// take about 2 s, not 10.
#[test]
fn fault_timeouts_share_one_deadline() {
    let fx = Fixture::new();
    let server = Server::http();
    let settings = Tree::new();
    let config = settings.write(
        "keysweep.toml",
        "[verify]\nconnect_timeout_secs = 1\ntotal_timeout_secs = 2\n",
    );
    let mut args: Vec<String> = vec!["--config".into(), config.display().to_string()];
    let urls: Vec<String> = (0..5)
        .map(|i| {
            let path = format!("/slow{i}");
            server.route(&path, Reply::Hang(Duration::from_secs(6)));
            server.url(&path)
        })
        .collect();
    for url in &urls {
        args.extend(["--jwks".to_string(), url.clone()]);
    }
    let started = std::time::Instant::now();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let scan = fx.scan(&args);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    for url in &urls {
        fx.assert_error(&scan, url, &["timed out"]);
    }
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
    let certs = Tree::new();
    let scan = fx.scan(&["--jwks", &url, "--ca-cert", &other.write_pem(&certs)]);
    fx.assert_error(&scan, &url, &["certificate"]);
    // The right CA does.
    let scan = fx.scan(&["--jwks", &url, "--ca-cert", &ca.write_pem(&certs)]);
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
    let tree = Tree::new();
    let rsa = gen_key(Alg::Rsa(2048), Enc::Traditional);
    let ec = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let ed = gen_key(Alg::Ed25519, Enc::Pkcs8);
    tree.write("keys/rsa.pem", &rsa.pem);
    tree.write(
        "keys/ec.jwk.json",
        serde_json::to_string(&ec.jwk).expect("json"),
    );
    tree.write("keys/ed.pem", &ed.pem);
    let secret = random_secret(40);
    tree.write(".env", format!("JWT_SECRET={secret}\n"));
    let (spring_bytes, spring_text) = random_b64_secret(48);
    tree.write(
        "src/main/resources/application.properties",
        format!("jwt.secret={spring_text}\n"),
    );
    let token = hs_jwt("HS256", secret.as_bytes(), &json!({"sub": "u"}));
    tree.write("fixtures/token.txt", &token);

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
    let certs = Tree::new();
    let scan = tree.scan(&[
        "--jwks",
        &https.url("/jwks"),
        "--issuer",
        &issuer,
        "--token",
        &token,
        "--ca-cert",
        &ca.write_pem(&certs),
    ]);
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
        let der = b64_decode(&key.body_lines().concat());
        add_bytes(&der, &mut needles);
        for member in ["d", "p", "q", "dp", "dq", "qi"] {
            if let Some(value) = key.jwk[member].as_str() {
                needles.push(value.to_string());
                add_bytes(&b64url_decode(value), &mut needles);
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
