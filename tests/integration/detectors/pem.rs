//! Key files: PEM (PKCS#1, PKCS#8, SEC1), OpenSSH, PuTTY, DSA, PGP and encrypted keys.

use super::{assert_pem_file_region, scan_one_file};
use crate::support::*;

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

// ---------------------------------------------------------------------------
// PEM files
// ---------------------------------------------------------------------------

#[test]
fn pem_pkcs1_rsa() {
    let key = gen_key(Alg::Rsa(2048), Enc::Traditional);
    assert!(key.pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let s = scan_one_file("deploy/a.pem", &key.pem, &[]);
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
    let s = scan_one_file(".ssh/id_rsa", &key.pem, &[]);
    let f = assert_key_finding(&s, &key.public, false, &[loc_col(".ssh/id_rsa", 1, 1)]);
    assert_eq!(f["key"]["bits"], 4096);
    assert_eq!(f["locations"][0]["format"], "pem-pkcs1");
}

/// A PEM key file written by openssl, with its public half next to it.
struct PemFile {
    name: &'static str,
    alg: Alg,
    enc: Enc,
    /// The PEM's first line.
    begins: &'static str,
    path: &'static str,
    /// One of these must be in the location's format.
    formats: &'static [&'static str],
}

impl Case for PemFile {
    fn name(&self) -> &str {
        self.name
    }
}

const PKCS8: &str = "-----BEGIN PRIVATE KEY-----";

#[rustfmt::skip]
const PEM_FILES: &[PemFile] = &[
    PemFile { name: "pem_pkcs8_rsa", alg: Alg::Rsa(2048), enc: Enc::Pkcs8, begins: PKCS8, path: "config/tls/server.key", formats: &["pkcs8"] },
    PemFile { name: "pem_pkcs8_ec_p256", alg: Alg::Ec(Curve::P256), enc: Enc::Pkcs8, begins: PKCS8, path: "certs/p256.pem", formats: &["pkcs8"] },
    PemFile { name: "pem_pkcs8_ec_p384", alg: Alg::Ec(Curve::P384), enc: Enc::Pkcs8, begins: PKCS8, path: "certs/p384.pem", formats: &["pkcs8"] },
    PemFile { name: "pem_pkcs8_ec_p521", alg: Alg::Ec(Curve::P521), enc: Enc::Pkcs8, begins: PKCS8, path: "certs/p521.pem", formats: &["pkcs8"] },
    PemFile { name: "pem_pkcs8_ed25519", alg: Alg::Ed25519, enc: Enc::Pkcs8, begins: PKCS8, path: "signing/ed25519.pem", formats: &["pkcs8"] },
    PemFile { name: "pem_sec1_ec_p384", alg: Alg::Ec(Curve::P384), enc: Enc::Traditional, begins: "-----BEGIN EC PRIVATE KEY-----", path: "ec/secp384r1.key", formats: &["sec1"] },
];

#[test]
fn pem_key_files() {
    run_table(PEM_FILES, |case| {
        let key = gen_key(case.alg, case.enc);
        assert!(key.pem.starts_with(case.begins), "{}", key.pem);
        let t = Tree::new();
        t.write(case.path, &key.pem);
        // Public half next to it: never a finding.
        t.write(&format!("{}.pub", case.path), &key.public_pem);
        let s = t.scan(&[]);
        s.assert_exit(1);
        s.assert_count(1);
        let f = assert_key_finding(&s, &key.public, false, &[loc_col(case.path, 1, 1)]);
        assert_format(f, 0, case.formats);
        assert_pem_file_region(f, 0, &key.pem);
    });
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
    let s = scan_one_file("ec/prime256v1.pem", &text, &[]);
    let f = assert_key_finding(
        &s,
        &key.public,
        false,
        &[loc_col("ec/prime256v1.pem", 4, 1)],
    );
    assert_format(f, 0, &["sec1"]);
}

#[test]
fn pem_with_crlf_line_endings() {
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let crlf = key.pem.replace('\n', "\r\n");
    let text = format!("# checked in from a Windows machine\r\n{crlf}");
    let s = scan_one_file("win/signing.pem", &text, &[]);
    assert_key_finding(&s, &key.public, false, &[loc_col("win/signing.pem", 2, 1)]);
}

// ---------------------------------------------------------------------------
// OpenSSH
// ---------------------------------------------------------------------------

/// An OpenSSH key from ssh-keygen, with its public line in `.pub` and `authorized_keys`.
struct OpenSsh {
    name: &'static str,
    kind: &'static str,
    bits: Option<u32>,
    pass: &'static str,
}

impl Case for OpenSsh {
    fn name(&self) -> &str {
        self.name
    }
}

#[rustfmt::skip]
const OPENSSH: &[OpenSsh] = &[
    OpenSsh { name: "openssh_rsa", kind: "rsa", bits: Some(2048), pass: "" },
    OpenSsh { name: "openssh_ecdsa_p256", kind: "ecdsa", bits: Some(256), pass: "" },
    OpenSsh { name: "openssh_ecdsa_p384", kind: "ecdsa", bits: Some(384), pass: "" },
    OpenSsh { name: "openssh_ecdsa_p521", kind: "ecdsa", bits: Some(521), pass: "" },
    OpenSsh { name: "openssh_ed25519", kind: "ed25519", bits: None, pass: "" },
    OpenSsh { name: "openssh_ed25519_encrypted_still_has_thumbprint", kind: "ed25519", bits: None, pass: "correct horse battery staple" },
];

#[test]
fn openssh_keys() {
    run_table(OPENSSH, |case| {
        let k = gen_ssh(case.kind, case.bits, case.pass);
        assert!(k.private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        let t = Tree::new();
        let name = format!("home/ci/.ssh/id_{}", case.kind);
        t.write(&name, &k.private);
        t.write(&format!("{name}.pub"), format!("{}\n", k.public_line));
        t.write(
            "home/ci/.ssh/authorized_keys",
            format!("{}\n", k.public_line),
        );
        let s = t.scan(&[]);
        s.assert_exit(1);
        s.assert_count(1);
        let f = assert_key_finding(
            &s,
            &k.public,
            !case.pass.is_empty(),
            &[loc_col(&name, 1, 1)],
        );
        assert_format(f, 0, &["openssh"]);
        assert_pem_file_region(f, 0, &k.private);
    });
}

/// Length of the private scalar mpint in an unencrypted OpenSSH ECDSA private key (parsed here).
fn openssh_ecdsa_scalar_len(private: &str) -> usize {
    let body: String = pem_body_lines(private).concat();
    let b = b64_decode(&body);
    let magic = b"openssh-key-v1\0";
    assert!(b.starts_with(magic));
    let mut r = SshReader::new(&b[magic.len()..]);
    assert_eq!(r.string(), b"none", "unencrypted key");
    r.string(); // kdf
    r.string(); // kdf options
    r.skip(4); // number of keys
    r.string(); // public key
    let mut private = SshReader::new(r.string());
    private.skip(8); // two check ints
    private.string(); // key type
    private.string(); // curve
    private.string(); // public point
    private.string().len()
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
    let s = scan_one_file("keys/id_ecdsa", &short.private, &[]);
    assert_key_finding(&s, &short.public, false, &[loc_col("keys/id_ecdsa", 1, 1)]);
}

// ---------------------------------------------------------------------------
// PuTTY
// ---------------------------------------------------------------------------

/// A PuTTY key from puttygen.
struct Ppk {
    name: &'static str,
    kind: &'static str,
    bits: Option<u32>,
    version: u32,
    pass: &'static str,
}

impl Case for Ppk {
    fn name(&self) -> &str {
        self.name
    }
}

#[rustfmt::skip]
const PPK: &[Ppk] = &[
    Ppk { name: "ppk_v2_rsa", kind: "rsa", bits: Some(2048), version: 2, pass: "" },
    Ppk { name: "ppk_v3_ed25519", kind: "ed25519", bits: None, version: 3, pass: "" },
    Ppk { name: "ppk_v3_ecdsa_p256", kind: "ecdsa", bits: Some(256), version: 3, pass: "" },
    Ppk { name: "ppk_v2_ed25519_encrypted", kind: "ed25519", bits: None, version: 2, pass: "hunter2-but-longer" },
    Ppk { name: "ppk_v3_ecdsa_p384_encrypted", kind: "ecdsa", bits: Some(384), version: 3, pass: "hunter2-but-longer" },
];

#[test]
fn putty_keys() {
    run_table(PPK, |case| {
        let k = gen_ppk(case.kind, case.bits, case.version, case.pass);
        let path = format!("putty/{}-v{}.ppk", case.kind, case.version);
        let s = scan_one_file(&path, &k.ppk, &[]);
        let f = assert_key_finding(
            &s,
            &k.public,
            !case.pass.is_empty(),
            &[loc_col(&path, 1, 1)],
        );
        assert_format(f, 0, &["ppk", "putty"]);
    });
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
    for path in ["legacy/dsa.pem", "legacy/dsa-pkcs8.pem"] {
        assert_opaque_key(
            &s,
            "private-key/dsa",
            "DSA",
            Some(false),
            loc_col(path, 1, 1),
        );
    }
}

#[test]
fn pgp_private_key_block() {
    let block = gen_pgp_block();
    let text = format!("Backup of the release signing key. Do not commit.\n\n{block}");
    let s = scan_one_file("release/signing-key.asc", &text, &[]);
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
    let s = scan_one_file("keys/enc.pem", &enc, &[]);
    // The algorithm inside is encrypted; how it is protected is in clear (openssl's defaults).
    assert_opaque_key(
        &s,
        "private-key/encrypted",
        "unknown, PBES2 (PBKDF2-HMAC-SHA256, 2048 iterations; AES-256-CBC)",
        Some(true),
        loc_col("keys/enc.pem", 1, 1),
    );
}

#[test]
fn legacy_encrypted_pem_is_rsa() {
    let pem = gen_rsa_legacy_encrypted(2048, "s3cret-pass");
    let s = scan_one_file("keys/legacy-enc.pem", &pem, &[]);
    assert_opaque_key(
        &s,
        "private-key/rsa",
        "RSA",
        Some(true),
        loc_col("keys/legacy-enc.pem", 1, 1),
    );
}
