//! Keys and secrets without armour: raw hex private keys assigned to private-key names (the jjwt
//! RFC 8037 test shape), Rails master keys found by their path, and `oct` JWKs that encrypt
//! reported as their own kind. Keys are generated here (openssl, random bytes); thumbprints are
//! computed here from openssl's public key.

use serde_json::json;

use super::keys_other::{genpkey, okp_jwk, rfc8410_private};
use crate::support::*;

/// X25519 with its public key next to it is paired (kind, curve and thumbprint); Ed25519 alone
/// names its size and candidate curves without inventing one; X448 (56 bytes) likewise; a public
/// key, a hash and an `expected` vector under the same shapes are not reported.
#[test]
fn raw_hex_private_keys_assigned_to_private_key_names() {
    let t = Tree::new();
    let x25519 = genpkey(&["-algorithm", "X25519"]);
    let x25519_private = rfc8410_private(&x25519.pkcs8_der);
    let groovy = format!(
        "    @Test\n    void testSectionA6() {{\n        def bobPubKeyHex = '{}'\n        def bobPrivKeyHex = '{}'\n    }}\n",
        hex(&x25519.public_bits),
        hex(&x25519_private)
    );
    t.write("src/test/groovy/KeyAgreementTest.groovy", &groovy);

    let ed25519 = genpkey(&["-algorithm", "ED25519"]);
    let ed25519_seed = rfc8410_private(&ed25519.pkcs8_der);
    let java = format!(
        "class Keys {{\n    static final String PRIVATE_KEY_HEX = \"{}\";\n}}\n",
        hex(&ed25519_seed)
    );
    t.write("src/main/java/Keys.java", &java);
    // The same seed with its public key, as base64url in a JWK-like map: paired to Ed25519.
    let ed_paired = format!(
        "const privKeyHex = \"{}\";\nconst jwk = {{ kty: 'OKP', crv: 'Ed25519', x: '{}' }};\n",
        hex(&ed25519_seed),
        b64url(&ed25519.public_bits)
    );
    t.write("src/paired.js", &ed_paired);

    let x448 = genpkey(&["-algorithm", "X448"]);
    let x448_private = rfc8410_private(&x448.pkcs8_der);
    assert_eq!(x448_private.len(), 56);
    t.write(
        "tests/x448_test.py",
        format!("private_key = bytes.fromhex('{}')\n", hex(&x448_private)),
    );

    let digest = hex(&random_bytes(32));
    let negatives = format!(
        "def bobPubKeyHex = '{}'\nprivateKeyHash = \"{digest}\"\nassertEquals expectedPrivateKey, '{digest}'\n",
        hex(&x25519.public_bits)
    );
    t.write("src/test/groovy/Negatives.groovy", &negatives);

    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(4);
    assert!(
        s.at_path("src/test/groovy/Negatives.groovy").is_empty(),
        "{}",
        s.pretty()
    );

    let f = s.at_path("src/test/groovy/KeyAgreementTest.groovy")[0];
    assert_eq!(f["rule"], "private-key/okp", "{f}");
    assert_eq!(f["key"]["type"], "X25519", "{f}");
    assert_eq!(
        f["key"]["thumbprint"],
        jwk_thumbprint(&okp_jwk("X25519", &x25519.public_bits)),
        "{f}"
    );
    assert_eq!(f["locations"][0]["line"], 4, "{f}");
    assert_eq!(
        f["locations"][0]["format"], "raw hex, 32 bytes, public half next to it",
        "{f}"
    );

    let f = s.at_path("src/main/java/Keys.java")[0];
    assert_eq!(f["rule"], "private-key/other", "{f}");
    assert!(
        f["key"]["thumbprint"].is_null(),
        "no curve is invented: {f}"
    );
    let key_type = f["key"]["type"].as_str().unwrap_or("");
    assert!(
        key_type.contains("32-byte") && key_type.contains("Ed25519"),
        "{f}"
    );

    let f = s.at_path("src/paired.js")[0];
    assert_eq!(f["rule"], "private-key/ed25519", "{f}");
    assert_eq!(
        f["key"]["thumbprint"],
        jwk_thumbprint(&okp_jwk("Ed25519", &ed25519.public_bits)),
        "{f}"
    );

    let f = s.at_path("tests/x448_test.py")[0];
    assert_eq!(f["rule"], "private-key/other", "{f}");
    assert!(
        f["key"]["type"].as_str().unwrap_or("").contains("X448"),
        "{f}"
    );
    // Redacted without --show-secrets.
    assert!(
        !s.pretty().contains(&hex(&x448_private)),
        "secret in output"
    );
}

/// `config/master.key` and `config/credentials/ENV.key` are found by their path alone; the same
/// 32 hex digits at another path, or a longer value at that path, are not.
#[test]
fn rails_master_key_is_found_by_its_path() {
    let t = Tree::new();
    let master = hex(&random_bytes(16));
    let production = hex(&random_bytes(16));
    t.write("config/master.key", format!("{master}\n"));
    t.write("apps/admin/config/credentials/production.key", &production);
    t.write("notes/master.key", format!("{}\n", hex(&random_bytes(16))));
    t.write(
        "config/master.key.sample",
        format!("{}\n", hex(&random_bytes(16))),
    );
    t.write(
        "api/config/master.key",
        format!("{}\n", hex(&random_bytes(32))),
    );
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(2);
    for path in [
        "config/master.key",
        "apps/admin/config/credentials/production.key",
    ] {
        let f = s.at_path(path);
        assert_eq!(f.len(), 1, "{path}\n{}", s.pretty());
        assert_eq!(f[0]["rule"], "secret/rails-master-key", "{}", f[0]);
        assert_eq!(f[0]["title"], "Rails master key", "{}", f[0]);
        assert_eq!(f[0]["locations"][0]["line"], 1, "{}", f[0]);
        assert_eq!(f[0]["locations"][0]["context"], "config", "{}", f[0]);
    }
    let out = s.pretty();
    assert!(
        !out.contains(&master) && !out.contains(&production),
        "secret in output"
    );
}

/// An `oct` JWK with `"use":"enc"` or a JWE `alg` is a `secret/jwk-enc`; one without either (or
/// with an HMAC `alg`) stays `secret/hmac`.
#[test]
fn encryption_jwks_are_their_own_kind() {
    let t = Tree::new();
    let enc_use = b64url(&random_bytes(32));
    let key_wrap = b64url(&random_bytes(16));
    let hmac = b64url(&random_bytes(32));
    let jwks = json!({"keys": [
        {"kty": "oct", "kid": "content", "use": "enc", "k": enc_use},
        {"kty": "oct", "kid": "wrap", "alg": "A128KW", "k": key_wrap},
        {"kty": "oct", "kid": "mac", "alg": "HS256", "k": hmac},
    ]});
    t.write(
        "config/keys.json",
        serde_json::to_string_pretty(&jwks).expect("json"),
    );
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(3);
    let enc = s.with_rule("secret/jwk-enc");
    assert_eq!(enc.len(), 2, "{}", s.pretty());
    for f in &enc {
        assert_eq!(f["title"], "Symmetric encryption key (JWK)", "{f}");
        assert_eq!(f["severity"], "high", "{f}");
    }
    let mut formats: Vec<&str> = enc
        .iter()
        .map(|f| f["locations"][0]["format"].as_str().unwrap_or(""))
        .collect();
    formats.sort_unstable();
    assert_eq!(formats, ["jwk-oct, enc", "jwk-oct, enc (A128KW)"]);
    let mac = s.one_with_rule("secret/hmac");
    assert_eq!(mac["locations"][0]["format"], "jwk-oct", "{mac}");
}
