//! Every private key is reported, parsed or not: X25519, X448, Ed448, secp256k1, brainpool, SM2,
//! DSA and encrypted PKCS#8 from openssl; ML-DSA (from openssl when it has it), GOST and an
//! unknown algorithm as PKCS#8 DER built here; OKP, secp256k1, ML-DSA (`AKP`) and line-wrapped
//! JWKs. Thumbprints, where keysweep computes one, are checked against the RFC 7638 / RFC 8037
//! thumbprint computed here from `openssl pkey -pubout -outform DER`.

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::der::{der, der_seq};
use crate::support::tools::openssl;
use crate::support::*;

/// A key from `openssl genpkey ARGS`, with its PEM, its unencrypted PKCS#8 DER and its raw
/// SubjectPublicKeyInfo BIT STRING.
pub(super) struct OpensslKey {
    pub(super) pem: String,
    pub(super) pkcs8_der: Vec<u8>,
    pub(super) public_bits: Vec<u8>,
}

pub(super) fn genpkey(args: &[&str]) -> OpensslKey {
    let tmp = TempDir::new().expect("tmp");
    let d = tmp.path();
    let mut all = vec!["genpkey"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-out", "key.pem"]);
    openssl(&all, d);
    let pem = std::fs::read_to_string(d.join("key.pem")).expect("pem");
    let spki = openssl(&["pkey", "-in", "key.pem", "-pubout", "-outform", "DER"], d);
    let pkcs8_der = openssl(
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER",
        ],
        d,
    );
    let (_, spki, _) = der(&spki);
    let items = der_seq(spki);
    assert_eq!(items[1].0, 0x03, "BIT STRING");
    assert_eq!(items[1].1[0], 0, "unused bits");
    OpensslKey {
        pem,
        pkcs8_der,
        public_bits: items[1].1[1..].to_vec(),
    }
}

/// `openssl ec -in key.pem` (SEC1 `EC PRIVATE KEY`) of a PKCS#8 EC key.
fn sec1_of(pem: &str) -> String {
    let tmp = TempDir::new().expect("tmp");
    std::fs::write(tmp.path().join("k.pem"), pem).expect("write");
    let out = String::from_utf8(openssl(&["ec", "-in", "k.pem"], tmp.path())).expect("utf8");
    assert!(out.contains("BEGIN EC PRIVATE KEY"), "{out}");
    out
}

/// The private key bytes of an RFC 8410 PKCS#8 key (the OCTET STRING in the OCTET STRING).
pub(super) fn rfc8410_private(pkcs8_der: &[u8]) -> Vec<u8> {
    let (_, info, _) = der(pkcs8_der);
    let items = der_seq(info);
    let (_, inner, _) = der(items[2].1);
    inner.to_vec()
}

pub(super) fn okp_jwk(crv: &str, x: &[u8]) -> Value {
    json!({"kty": "OKP", "crv": crv, "x": b64url(x)})
}

/// The EC public JWK of an uncompressed point.
fn ec_jwk(crv: &str, point: &[u8]) -> Value {
    assert_eq!(point[0], 4, "uncompressed point");
    let n = (point.len() - 1) / 2;
    json!({"kty": "EC", "crv": crv, "x": b64url(&point[1..1 + n]), "y": b64url(&point[1 + n..])})
}

/// DER of one TLV.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// DER of an OBJECT IDENTIFIER from its dotted form.
fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().expect("arc")).collect();
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut bytes = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            bytes.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        bytes.reverse();
        body.extend(bytes);
    }
    tlv(0x06, &body)
}

/// A PKCS#8 `PrivateKeyInfo` PEM for an algorithm OID (with optional parameters) and key bytes.
fn pkcs8_pem(algorithm: &str, parameters: &[u8], private_key: &[u8]) -> String {
    let mut alg = oid(algorithm);
    alg.extend_from_slice(parameters);
    let mut info = tlv(0x02, &[0]);
    info.extend(tlv(0x30, &alg));
    info.extend(tlv(0x04, private_key));
    let body = b64(&tlv(0x30, &info));
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// The one finding at `path`.
fn at<'a>(scan: &'a Scan, path: &str) -> &'a Value {
    let found = scan.at_path(path);
    assert_eq!(found.len(), 1, "{path}\n{}", scan.pretty());
    found[0]
}

fn assert_key(scan: &Scan, path: &str, rule: &str, key_type: &str, thumbprint: Option<&str>) {
    let f = at(scan, path);
    assert_eq!(f["rule"], rule, "{path}: {f}");
    assert_eq!(f["key"]["type"], key_type, "{path}: {f}");
    match thumbprint {
        Some(tp) => assert_eq!(f["key"]["thumbprint"], tp, "{path}: {f}"),
        None => assert!(f["key"]["thumbprint"].is_null(), "{path}: {f}"),
    }
}

#[test]
fn openssl_keys_of_every_algorithm_are_reported() {
    let t = Tree::new();
    // RFC 8410 keys: X25519's public half is derived; X448 and Ed448 are named without one
    // (openssl writes no public key into their PKCS#8, keysweep has no Curve448 arithmetic).
    let x25519 = genpkey(&["-algorithm", "X25519"]);
    t.write("k/x25519.pem", &x25519.pem);
    let x448 = genpkey(&["-algorithm", "X448"]);
    t.write("k/x448.pem", &x448.pem);
    let ed448 = genpkey(&["-algorithm", "ED448"]);
    t.write("k/ed448.pem", &ed448.pem);
    // secp256k1 in both encodings.
    let k1 = genpkey(&[
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:secp256k1",
    ]);
    t.write("k/secp256k1.pem", &k1.pem);
    t.write("k/secp256k1-sec1.pem", sec1_of(&k1.pem));
    // Curves keysweep names but does not compute with.
    let bp = genpkey(&[
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:brainpoolP256r1",
    ]);
    t.write("k/brainpool.pem", &bp.pem);
    let bp384 = genpkey(&[
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:brainpoolP384r1",
    ]);
    t.write("k/brainpool384-sec1.pem", sec1_of(&bp384.pem));
    let sm2 = genpkey(&["-algorithm", "SM2"]);
    t.write("k/sm2.pem", &sm2.pem);
    // DSA, traditional and PKCS#8; encrypted PKCS#8 with its PBES2 parameters.
    t.write("k/dsa.pem", gen_dsa(true));
    t.write("k/dsa-pkcs8.pem", gen_dsa(false));
    let rsa = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    t.write("k/encrypted.pem", encrypt_pkcs8(&rsa, "hunter2-but-longer"));

    let s = t.scan(&[]);
    s.assert_exit(1);
    let x25519_tp = jwk_thumbprint(&okp_jwk("X25519", &x25519.public_bits));
    assert_key(
        &s,
        "k/x25519.pem",
        "private-key/okp",
        "X25519",
        Some(&x25519_tp),
    );
    assert_eq!(
        at(&s, "k/x25519.pem")["key"]["public_jwk"]["x"],
        b64url(&x25519.public_bits)
    );
    assert_key(&s, "k/x448.pem", "private-key/okp", "X448", None);
    assert_key(&s, "k/ed448.pem", "private-key/okp", "Ed448", None);
    let k1_tp = jwk_thumbprint(&ec_jwk("secp256k1", &k1.public_bits));
    assert_key(&s, "k/secp256k1.pem", "private-key/ec", "EC", Some(&k1_tp));
    assert_eq!(at(&s, "k/secp256k1.pem")["key"]["curve"], "secp256k1");
    // Both encodings are one key: one finding with two locations.
    let k1_finding = at(&s, "k/secp256k1-sec1.pem");
    assert_eq!(k1_finding["key"]["thumbprint"], k1_tp.as_str());
    assert_eq!(k1_finding["locations"].as_array().map(Vec::len), Some(2));
    assert_key(&s, "k/brainpool.pem", "private-key/ec", "EC", None);
    assert_eq!(at(&s, "k/brainpool.pem")["key"]["curve"], "brainpoolP256r1");
    assert_key(&s, "k/brainpool384-sec1.pem", "private-key/ec", "EC", None);
    assert_eq!(
        at(&s, "k/brainpool384-sec1.pem")["key"]["curve"],
        "brainpoolP384r1"
    );
    assert_key(&s, "k/sm2.pem", "private-key/ec", "EC", None);
    assert_eq!(at(&s, "k/sm2.pem")["key"]["curve"], "SM2");
    assert_key(&s, "k/dsa.pem", "private-key/dsa", "DSA", None);
    assert_key(&s, "k/dsa-pkcs8.pem", "private-key/dsa", "DSA", None);
    let encrypted = at(&s, "k/encrypted.pem");
    assert_eq!(encrypted["rule"], "private-key/encrypted");
    assert_eq!(encrypted["key"]["encrypted"], true);
    let scheme = encrypted["key"]["type"].as_str().unwrap_or("");
    for word in ["PBES2", "PBKDF2-HMAC-SHA256", "iterations", "AES-256-CBC"] {
        assert!(scheme.contains(word), "{scheme}");
    }
    // Nothing else: every file is exactly one finding (the two secp256k1 files share one).
    s.assert_count(10);
}

#[test]
fn pkcs8_keys_of_algorithms_keysweep_cannot_parse_are_named() {
    let t = Tree::new();
    let has_ml_dsa =
        String::from_utf8_lossy(&openssl(&["list", "-public-key-algorithms"], t.root()))
            .contains("ML-DSA-44");
    let ml_dsa = if has_ml_dsa {
        genpkey(&["-algorithm", "ML-DSA-44"]).pem
    } else {
        eprintln!(
            "note: this openssl has no ML-DSA (3.5+ does); the ML-DSA-44 key is built as PKCS#8 \
             DER here (the seed form of draft-ietf-lamps-dilithium-certificates)"
        );
        pkcs8_pem(
            "2.16.840.1.101.3.4.3.17",
            &[],
            &tlv(0x80, &random_bytes(32)),
        )
    };
    t.write("pq/ml-dsa-44.pem", &ml_dsa);
    // GOST R 34.10-2012 (256-bit) with its parameter set OIDs.
    let mut gost_parameters = oid("1.2.643.7.1.2.1.1.1");
    gost_parameters.extend(oid("1.2.643.7.1.1.2.2"));
    t.write(
        "ru/gost.pem",
        pkcs8_pem(
            "1.2.643.7.1.1.1.1",
            &tlv(0x30, &gost_parameters),
            &tlv(0x04, &random_bytes(32)),
        ),
    );
    t.write(
        "x/unknown.pem",
        pkcs8_pem("1.3.6.1.4.1.55555.7.1", &[], &random_bytes(48)),
    );
    let s = t.scan(&[]);
    s.assert_exit(1);
    s.assert_count(3);
    assert_key(
        &s,
        "pq/ml-dsa-44.pem",
        "private-key/other",
        "ML-DSA-44",
        None,
    );
    assert_key(
        &s,
        "ru/gost.pem",
        "private-key/other",
        "GOST R 34.10-2012 (256-bit)",
        None,
    );
    assert_key(
        &s,
        "x/unknown.pem",
        "private-key/other",
        "OID 1.3.6.1.4.1.55555.7.1",
        None,
    );
}

#[test]
fn private_jwks_of_every_kty_are_reported() {
    let t = Tree::new();
    let x25519 = genpkey(&["-algorithm", "X25519"]);
    let x448 = genpkey(&["-algorithm", "X448"]);
    let ed448 = genpkey(&["-algorithm", "ED448"]);
    let k1 = genpkey(&[
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:secp256k1",
    ]);
    let mut expected = Vec::new();
    for (name, crv, key) in [
        ("x25519", "X25519", &x25519),
        ("x448", "X448", &x448),
        ("ed448", "Ed448", &ed448),
    ] {
        let public = okp_jwk(crv, &key.public_bits);
        let private = with(
            &public,
            json!({"d": b64url(&rfc8410_private(&key.pkcs8_der)), "kid": name}),
        );
        let path = format!("jwk/{name}.json");
        t.write(&path, serde_json::to_string_pretty(&private).expect("json"));
        expected.push((path, crv.to_string(), jwk_thumbprint(&public)));
    }
    // X25519 with `d` only: keysweep derives `x`.
    let d_only =
        json!({"kty": "OKP", "crv": "X25519", "d": b64url(&rfc8410_private(&x25519.pkcs8_der))});
    t.write(
        "jwk/x25519-d-only.js",
        format!("export const key = {d_only};\n"),
    );
    // secp256k1 (RFC 8812): d from the SEC1 key inside the PKCS#8.
    let (_, info, _) = der(&k1.pkcs8_der);
    let (_, sec1, _) = der(der_seq(info)[2].1);
    let d = der_seq(sec1)[1].1.to_vec();
    let k1_public = ec_jwk("secp256k1", &k1.public_bits);
    let k1_private = with(&k1_public, json!({"d": b64url(&d), "alg": "ES256K"}));
    t.write("jwk/secp256k1.json", k1_private.to_string());
    // ML-DSA as the JOSE drafts write it, and an unknown kty with `d`.
    t.write(
        "jwk/ml-dsa.json",
        json!({"kty": "AKP", "alg": "ML-DSA-65", "pub": b64url(&random_bytes(64)), "priv": b64url(&random_bytes(32))})
            .to_string(),
    );
    t.write(
        "jwk/future.json",
        json!({"kty": "XYZ", "d": b64url(&random_bytes(40))}).to_string(),
    );
    let s = t.scan(&[]);
    s.assert_exit(1);
    for (path, crv, tp) in &expected {
        assert_key(&s, path, "private-key/okp", crv, Some(tp));
    }
    let x25519_tp = &expected[0].2;
    let derived = at(&s, "jwk/x25519-d-only.js");
    assert_eq!(
        derived["key"]["thumbprint"],
        x25519_tp.as_str(),
        "{derived}"
    );
    assert_key(
        &s,
        "jwk/secp256k1.json",
        "private-key/ec",
        "EC",
        Some(&jwk_thumbprint(&k1_public)),
    );
    assert_key(
        &s,
        "jwk/ml-dsa.json",
        "private-key/other",
        "AKP ML-DSA-65",
        None,
    );
    assert_key(&s, "jwk/future.json", "private-key/other", "XYZ", None);
    s.assert_count(6);
}

#[test]
fn rfc8037_x25519_key_is_found_with_its_thumbprint() {
    // RFC 8037 A.6: the ephemeral X25519 key (RFC 7748 section 6.1's Alice key).
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/jose/rfc8037-A.6-x25519-private.json"
    ))
    .expect("vector");
    let jwk: Value = serde_json::from_str(&text).expect("json");
    let tp = jwk_thumbprint(&jwk);
    let t = Tree::new();
    t.write("vectors/rfc8037.json", &text);
    // The same key with `d` only: its `x` must be derived to the RFC's value.
    let d_only = json!({"kty": "OKP", "crv": "X25519", "d": jwk["d"]});
    t.write("vectors/d-only.json", d_only.to_string());
    let s = t.scan(&[]);
    let f = s.one_with_thumbprint(&tp);
    assert_eq!(f["rule"], "private-key/okp");
    assert_eq!(f["key"]["public_jwk"]["x"], jwk["x"]);
    assert_eq!(f["locations"].as_array().map(Vec::len), Some(2), "{f}");
}

#[test]
fn line_wrapped_jwk_values_are_joined() {
    let key = gen_key(Alg::Rsa(2048), Enc::Pkcs8);
    // The RFC 7517 appendix layout: long values broken across indented lines.
    let wrap = |value: &str| {
        value
            .as_bytes()
            .chunks(60)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect::<Vec<_>>()
            .join("\n      ")
    };
    let member = |name: &str| wrap(key.jwk[name].as_str().expect("member"));
    let text = format!(
        "PRIVATE_JWK = \"\"\"\n{{\"kty\":\"RSA\",\n \"n\":\"{}\",\n \"e\":\"AQAB\",\n \"d\":\"{}\",\n \"kid\":\"2011-04-29\"}}\n\"\"\"\n",
        member("n"),
        member("d")
    );
    assert!(text.lines().count() > 12, "{text}");
    let t = Tree::new();
    t.write("settings.py", &text);
    let s = t.scan(&[]);
    s.assert_exit(1);
    let f = s.one_with_thumbprint(&key.thumbprint());
    assert_eq!(f["rule"], "private-key/rsa");
    assert_eq!(f["locations"][0]["line"], 2, "{f}");
}

/// SSH wire string.
fn ssh_string(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

#[test]
fn openssh_keys_of_types_keysweep_does_not_parse_are_reported() {
    let t = Tree::new();
    // ssh-dss from ssh-keygen where it still makes them (OpenSSH < 9.8 by default).
    let dsa_dir = TempDir::new().expect("tmp");
    let made_dsa = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "dsa", "-N", "", "-f", "id_dsa"])
        .current_dir(dsa_dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success());
    if made_dsa {
        t.write(
            "ssh/id_dsa",
            std::fs::read_to_string(dsa_dir.path().join("id_dsa")).expect("key"),
        );
    } else {
        eprintln!("note: this ssh-keygen makes no DSA keys; the ssh-dss case is not run");
    }
    // A key type no tool here makes: an openssh-key-v1 container written out by hand.
    let mut public = ssh_string(b"ssh-mldsa44@example.org");
    public.extend(ssh_string(&random_bytes(1312)));
    let mut blob = b"openssh-key-v1\0".to_vec();
    for field in [&b"none"[..], b"none", b""] {
        blob.extend(ssh_string(field));
    }
    blob.extend(1u32.to_be_bytes());
    blob.extend(ssh_string(&public));
    blob.extend(ssh_string(&random_bytes(2600)));
    let body = b64(&blob);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(70)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    t.write(
        "ssh/id_mldsa",
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            lines.join("\n")
        ),
    );
    let s = t.scan(&[]);
    s.assert_exit(1);
    assert_key(
        &s,
        "ssh/id_mldsa",
        "private-key/other",
        "ssh-mldsa44@example.org",
        None,
    );
    if made_dsa {
        assert_key(&s, "ssh/id_dsa", "private-key/dsa", "DSA", None);
        s.assert_count(2);
    } else {
        s.assert_count(1);
    }
}
