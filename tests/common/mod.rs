//! Shared helpers for the keysweep integration tests.
//!
//! Everything here is independent of the keysweep library: keys are generated with
//! external tools (openssl, ssh-keygen, puttygen, gpg), public halves are taken from
//! those tools' output and parsed with the small DER / SSH-wire readers below, and
//! RFC 7638 thumbprints are computed here with `sha2` + `base64`.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// tools
// ---------------------------------------------------------------------------

/// Path of a program on PATH, or None.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        let p = dir.join(tool);
        if let Ok(md) = std::fs::metadata(&p) {
            use std::os::unix::fs::PermissionsExt;
            if md.is_file() && md.permissions().mode() & 0o111 != 0 {
                return Some(p);
            }
        }
    }
    None
}

/// Fails the test (never skips) when a required external tool is missing.
pub fn require(tool: &str, hint: &str) {
    if which(tool).is_none() {
        panic!(
            "required tool `{tool}` is not on PATH; this test must not be skipped. Install it: {hint}"
        );
    }
}

pub fn require_openssl() {
    require("openssl", "apt-get install -y openssl");
}
pub fn require_ssh_keygen() {
    require("ssh-keygen", "apt-get install -y openssh-client");
}
pub fn require_puttygen() {
    require("puttygen", "apt-get install -y putty-tools");
}

/// Runs a program, panics with its stderr when it fails, returns stdout.
pub fn tool(program: &str, args: &[&str], cwd: Option<&Path>) -> Vec<u8> {
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    if let Some(c) = cwd {
        cmd.current_dir(c);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run `{program}` (is it installed?): {e}"));
    if !out.status.success() {
        panic!(
            "`{program} {}` failed ({}):\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.stdout
}

pub fn openssl(args: &[&str], cwd: &Path) -> Vec<u8> {
    require_openssl();
    tool("openssl", args, Some(cwd))
}

pub fn read_string(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref())
        .unwrap_or_else(|e| panic!("read {}: {e}", p.as_ref().display()))
}

/// `n` random bytes from the OS.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut f = std::fs::File::open("/dev/urandom").expect("/dev/urandom");
    let mut buf = vec![0u8; n];
    f.read_exact(&mut buf).expect("read /dev/urandom");
    buf
}

/// A random string of `n` characters from `alphabet`.
pub fn random_string(n: usize, alphabet: &str) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    random_bytes(n)
        .into_iter()
        .map(|b| chars[b as usize % chars.len()])
        .collect()
}

pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A high-entropy alphanumeric secret that contains upper, lower and digits.
pub fn random_secret(n: usize) -> String {
    loop {
        let s = random_string(n, ALNUM);
        if s.chars().any(|c| c.is_ascii_uppercase())
            && s.chars().any(|c| c.is_ascii_lowercase())
            && s.chars().any(|c| c.is_ascii_digit())
        {
            return s;
        }
    }
}

pub fn b64url(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}
pub fn b64(b: &[u8]) -> String {
    STANDARD.encode(b)
}
pub fn b64url_decode(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("bad base64url {s:?}: {e}"))
}
pub fn b64_decode(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(clean.as_bytes())
        .unwrap_or_else(|e| panic!("bad base64: {e}"))
}

pub fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// HMAC-SHA256 written out from RFC 2104 (no hmac crate needed).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&sha256(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut ipad = Vec::with_capacity(64 + msg.len());
    ipad.extend(k.iter().map(|b| b ^ 0x36));
    ipad.extend_from_slice(msg);
    let inner = sha256(&ipad);
    let mut opad = Vec::with_capacity(96);
    opad.extend(k.iter().map(|b| b ^ 0x5c));
    opad.extend_from_slice(&inner);
    sha256(&opad)
}

// ---------------------------------------------------------------------------
// temp trees
// ---------------------------------------------------------------------------

/// A scan tree in a fresh temporary directory.
pub struct Tree {
    pub dir: TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            dir: tempfile::Builder::new()
                .prefix("keysweep-it-")
                .tempdir()
                .expect("tempdir"),
        }
    }
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    /// Writes `rel` (with `/` separators), creating parent directories.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.root().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, contents.as_ref()).expect("write");
        p
    }
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.root().join(rel);
        std::fs::create_dir_all(&p).expect("mkdir");
        p
    }
    /// Makes the tree a git repository (so that `.gitignore` applies the way it does for users).
    pub fn git_init(&self) {
        tool("git", &["init", "-q", "."], Some(self.root()));
    }
    pub fn scan(&self, extra: &[&str]) -> Scan {
        scan_json(self.root(), extra)
    }
}

/// 1-based (line, column) of the first occurrence of `needle` in `text` (byte columns).
pub fn line_col(text: &str, needle: &str) -> (u64, u64) {
    let idx = text
        .find(needle)
        .unwrap_or_else(|| panic!("needle {needle:?} not in text"));
    line_col_at(text, idx)
}

/// 1-based (line, column) of byte offset `idx`.
pub fn line_col_at(text: &str, idx: usize) -> (u64, u64) {
    let before = &text[..idx];
    let line = before.matches('\n').count() as u64 + 1;
    let col = match before.rfind('\n') {
        Some(nl) => idx - nl,
        None => idx + 1,
    } as u64;
    (line, col)
}

/// 1-based line of the first line that starts (after whitespace) with `prefix`.
pub fn line_starting(text: &str, prefix: &str) -> u64 {
    for (i, l) in text.lines().enumerate() {
        if l.trim_start().starts_with(prefix) {
            return i as u64 + 1;
        }
    }
    panic!("no line starts with {prefix:?}");
}

// ---------------------------------------------------------------------------
// running keysweep
// ---------------------------------------------------------------------------

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_keysweep")
}

pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the keysweep binary with a timeout (a hang, e.g. on a FIFO, fails the test).
pub fn run_keysweep<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let mut child = Command::new(bin())
        .args(&args)
        .env("NO_COLOR", "1")
        .env_remove("KEYSWEEP_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keysweep");
    let mut so = child.stdout.take().expect("stdout");
    let mut se = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "keysweep {:?} did not finish within {:?}",
                args, RUN_TIMEOUT
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = t_out.join().expect("stdout thread");
    let stderr = t_err.join().expect("stderr thread");
    let code = status
        .code()
        .unwrap_or_else(|| panic!("keysweep {args:?} was killed by a signal: {status:?}"));
    Run {
        code,
        stdout,
        stderr,
    }
}

/// Result of `keysweep scan ROOT --format json`.
pub struct Scan {
    pub code: i32,
    pub json: Value,
    pub stderr: String,
}

pub fn scan_json(root: &Path, extra: &[&str]) -> Scan {
    let mut args: Vec<OsString> = vec!["scan".into(), root.as_os_str().to_owned()];
    args.push("--format".into());
    args.push("json".into());
    for e in extra {
        args.push(e.into());
    }
    let r = run_keysweep(&args);
    let json: Value = serde_json::from_slice(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "keysweep scan --format json did not print one JSON document ({e}); exit {}\nstdout:\n{}\nstderr:\n{}",
            r.code,
            r.stdout_str(),
            r.stderr_str()
        )
    });
    Scan {
        code: r.code,
        json,
        stderr: r.stderr_str(),
    }
}

impl Scan {
    pub fn findings(&self) -> Vec<&Value> {
        self.json["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("no findings array in {}", self.pretty()))
            .iter()
            .collect()
    }
    /// The path of every location of every finding, in report order.
    pub fn location_paths(&self) -> Vec<&str> {
        self.findings()
            .into_iter()
            .flat_map(|f| f["locations"].as_array().expect("locations array"))
            .map(|l| l["path"].as_str().expect("location path"))
            .collect()
    }
    pub fn skipped(&self) -> Vec<&Value> {
        self.json["skipped"]
            .as_array()
            .unwrap_or_else(|| panic!("no skipped array in {}", self.pretty()))
            .iter()
            .collect()
    }
    pub fn pretty(&self) -> String {
        let s = serde_json::to_string_pretty(&self.json).unwrap_or_default();
        if s.len() > 20000 {
            format!("{}\n...(truncated)", &s[..20000])
        } else {
            s
        }
    }
    /// Compact one-line-per-finding view used in assertion messages.
    pub fn summary(&self) -> String {
        let mut out = format!("exit={} findings:\n", self.code);
        for f in self.json["findings"].as_array().into_iter().flatten() {
            let locs: Vec<String> = f["locations"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| {
                    format!(
                        "{}:{}:{}({})",
                        l["path"].as_str().unwrap_or("?"),
                        l["line"],
                        l["column"],
                        l["format"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            out.push_str(&format!(
                "  {} key={} jwt={} locs=[{}]\n",
                f["rule"],
                f["key"],
                f["jwt"],
                locs.join(", ")
            ));
        }
        out.push_str(&format!("skipped: {}\n", self.json["skipped"]));
        if !self.stderr.is_empty() {
            let e = &self.stderr;
            let e = if e.len() > 2000 { &e[..2000] } else { e };
            out.push_str(&format!("stderr: {e}\n"));
        }
        out
    }
    pub fn with_rule(&self, rule: &str) -> Vec<&Value> {
        self.findings()
            .into_iter()
            .filter(|f| f["rule"] == rule)
            .collect()
    }
    pub fn with_thumbprint(&self, tp: &str) -> Vec<&Value> {
        self.findings()
            .into_iter()
            .filter(|f| f["key"]["thumbprint"] == tp)
            .collect()
    }
    /// Findings that have a location in `path`.
    pub fn at_path(&self, path: &str) -> Vec<&Value> {
        self.findings()
            .into_iter()
            .filter(|f| {
                f["locations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|l| l["path"] == path)
            })
            .collect()
    }
    pub fn assert_count(&self, n: usize) {
        assert_eq!(
            self.findings().len(),
            n,
            "expected exactly {n} finding(s)\n{}",
            self.summary()
        );
    }
    pub fn assert_exit(&self, code: i32) {
        assert_eq!(
            self.code,
            code,
            "expected exit code {code}\n{}",
            self.summary()
        );
    }
    /// The one finding with this thumbprint (panics with context otherwise).
    pub fn one_with_thumbprint(&self, tp: &str) -> &Value {
        let v = self.with_thumbprint(tp);
        assert_eq!(
            v.len(),
            1,
            "expected exactly one finding with thumbprint {tp}\n{}",
            self.summary()
        );
        v[0]
    }
    pub fn one_with_rule(&self, rule: &str) -> &Value {
        let v = self.with_rule(rule);
        assert_eq!(
            v.len(),
            1,
            "expected exactly one finding with rule {rule}\n{}",
            self.summary()
        );
        v[0]
    }
}

/// An expected location: path, line and (optionally) column.
#[derive(Clone, Debug)]
pub struct Loc {
    pub path: String,
    pub line: u64,
    pub column: Option<u64>,
}

pub fn loc(path: &str, line: u64) -> Loc {
    Loc {
        path: path.to_string(),
        line,
        column: None,
    }
}
pub fn loc_col(path: &str, line: u64, column: u64) -> Loc {
    Loc {
        path: path.to_string(),
        line,
        column: Some(column),
    }
}
/// Location of the first occurrence of `needle` in `text`, which is the file `path`.
pub fn loc_of(path: &str, text: &str, needle: &str) -> Loc {
    let (l, c) = line_col(text, needle);
    loc_col(path, l, c)
}

/// Asserts the finding's locations are exactly `expected` (same order: by path, line).
pub fn assert_locations(scan: &Scan, f: &Value, expected: &[Loc]) {
    let locs = f["locations"]
        .as_array()
        .unwrap_or_else(|| panic!("finding without locations: {f}\n{}", scan.summary()));
    let actual: Vec<(String, u64, u64)> = locs
        .iter()
        .map(|l| {
            (
                l["path"].as_str().unwrap_or("<not a string>").to_string(),
                l["line"].as_u64().unwrap_or(0),
                l["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let ok = actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, e)| a.0 == e.path && a.1 == e.line && e.column.is_none_or(|c| c == a.2));
    assert!(
        ok,
        "locations mismatch for rule {}\n expected (path, line, column): {:?}\n actual   (path, line, column): {:?}\n{}",
        f["rule"],
        expected
            .iter()
            .map(|e| (e.path.clone(), e.line, e.column))
            .collect::<Vec<_>>(),
        actual,
        scan.summary()
    );
    for l in locs {
        assert_eq!(l["source"], "file", "location.source: {l}");
        assert!(
            l["format"].as_str().is_some_and(|s| !s.is_empty()),
            "location.format must be a non-empty string: {l}"
        );
        let path = l["path"].as_str().unwrap_or("");
        assert!(
            !path.starts_with('/') && !path.contains('\\'),
            "path must be relative with '/': {path}"
        );
    }
}

/// Asserts location `i` has a format mentioning one of `tokens` (case-insensitive).
pub fn assert_format(f: &Value, i: usize, tokens: &[&str]) {
    let fmt = f["locations"][i]["format"]
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(
        tokens.iter().any(|t| fmt.contains(&t.to_ascii_lowercase())),
        "locations[{i}].format = {fmt:?}, expected it to name one of {tokens:?}; finding: {f}"
    );
}

/// Checks the common shape of every finding.
pub fn assert_finding_shape(f: &Value) {
    for k in ["rule", "title", "severity", "fingerprint"] {
        assert!(
            f[k].as_str().is_some_and(|s| !s.is_empty()),
            "finding.{k} must be a non-empty string: {f}"
        );
    }
    let fp = f["fingerprint"].as_str().unwrap_or("");
    assert!(
        fp.chars().all(|c| c.is_ascii_hexdigit()),
        "fingerprint must be hex: {fp}"
    );
    assert!(f.get("secret").is_some(), "finding.secret missing: {f}");
    assert!(f.get("key").is_some(), "finding.key missing: {f}");
    assert!(f.get("jwt").is_some(), "finding.jwt missing: {f}");
    assert!(
        f["verification"]["status"].is_string(),
        "finding.verification.status missing: {f}"
    );
    assert!(f["locations"].is_array(), "finding.locations missing: {f}");
}

/// The whole check for a private key finding of a key the test generated: the one finding with
/// the independently computed thumbprint has the expected rule, type, bits, curve, public JWK,
/// encrypted flag and locations.
pub fn assert_key_finding<'a>(
    scan: &'a Scan,
    key: &PublicKey,
    encrypted: bool,
    expected: &[Loc],
) -> &'a Value {
    let tp = key.thumbprint();
    let f = scan.one_with_thumbprint(&tp);
    assert_finding_shape(f);
    assert_eq!(f["rule"], key.rule(), "rule\n{}", scan.summary());
    let k = &f["key"];
    assert_eq!(k["type"], key.type_str(), "key.type: {k}");
    assert_eq!(k["bits"], key.bits(), "key.bits: {k}");
    match key.curve() {
        Some(c) => assert_eq!(k["curve"], c, "key.curve: {k}"),
        None => assert!(k["curve"].is_null(), "key.curve must be null: {k}"),
    }
    assert_eq!(k["encrypted"], encrypted, "key.encrypted: {k}");
    assert_eq!(k["thumbprint"], tp.as_str(), "key.thumbprint");
    let pj = &k["public_jwk"];
    for (m, v) in key.jwk_public().as_object().expect("obj") {
        assert_eq!(&pj[m], v, "key.public_jwk.{m}: {pj}");
    }
    assert!(
        pj.get("d").is_none() && pj.get("p").is_none(),
        "public_jwk must not carry private members: {pj}"
    );
    assert!(f["jwt"].is_null(), "jwt must be null for a key: {f}");
    assert_eq!(
        f["verification"]["status"], "unverified",
        "verification of a fresh key without JWKS"
    );
    assert_locations(scan, f, expected);
    f
}

// ---------------------------------------------------------------------------
// DER and SSH wire readers (independent of keysweep)
// ---------------------------------------------------------------------------

/// Reads one DER TLV: (tag, content, rest).
pub fn der(b: &[u8]) -> (u8, &[u8], &[u8]) {
    assert!(b.len() >= 2, "DER too short");
    let tag = b[0];
    let (len, hdr) = if b[1] < 0x80 {
        (b[1] as usize, 2)
    } else {
        let n = (b[1] & 0x7f) as usize;
        assert!((1..=4).contains(&n), "DER length form");
        let mut l = 0usize;
        for i in 0..n {
            l = (l << 8) | b[2 + i] as usize;
        }
        (l, 2 + n)
    };
    (tag, &b[hdr..hdr + len], &b[hdr + len..])
}

/// Reads a SEQUENCE's elements.
pub fn der_seq(content: &[u8]) -> Vec<(u8, &[u8])> {
    let mut v = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (t, c, r) = der(rest);
        v.push((t, c));
        rest = r;
    }
    v
}

/// Unsigned big-endian integer bytes without leading zeros.
pub fn strip_zeros(b: &[u8]) -> &[u8] {
    let mut i = 0;
    while i + 1 < b.len() && b[i] == 0 {
        i += 1;
    }
    &b[i..]
}

fn pad_left(b: &[u8], n: usize) -> Vec<u8> {
    let b = strip_zeros(b);
    assert!(b.len() <= n, "value longer than field");
    let mut v = vec![0u8; n - b.len()];
    v.extend_from_slice(b);
    v
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }
    pub fn bits(self) -> u64 {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }
    pub fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
    pub fn openssl_name(self) -> &'static str {
        match self {
            Curve::P256 => "prime256v1",
            Curve::P384 => "secp384r1",
            Curve::P521 => "secp521r1",
        }
    }
    fn from_oid(oid: &[u8]) -> Curve {
        match oid {
            OID_P256 => Curve::P256,
            OID_P384 => Curve::P384,
            OID_P521 => Curve::P521,
            _ => panic!("unknown curve OID {oid:02x?}"),
        }
    }
    fn from_ssh(name: &str) -> Curve {
        match name {
            "nistp256" => Curve::P256,
            "nistp384" => Curve::P384,
            "nistp521" => Curve::P521,
            _ => panic!("unknown ssh curve {name}"),
        }
    }
}

/// A public key, computed by the tests from tool output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519 {
        x: Vec<u8>,
    },
}

impl PublicKey {
    /// From a DER SubjectPublicKeyInfo.
    pub fn from_spki(spki_der: &[u8]) -> PublicKey {
        let (t, spki, _) = der(spki_der);
        assert_eq!(t, 0x30);
        let items = der_seq(spki);
        let alg = der_seq(items[0].1);
        assert_eq!(alg[0].0, 0x06);
        let bits = items[1].1;
        assert_eq!(items[1].0, 0x03);
        assert_eq!(bits[0], 0, "unused bits");
        let key = &bits[1..];
        match alg[0].1 {
            OID_RSA => {
                let (_, seq, _) = der(key);
                let ints = der_seq(seq);
                PublicKey::Rsa {
                    n: strip_zeros(ints[0].1).to_vec(),
                    e: strip_zeros(ints[1].1).to_vec(),
                }
            }
            OID_EC => {
                let curve = Curve::from_oid(alg[1].1);
                Self::ec_point(curve, key)
            }
            OID_ED25519 => {
                assert_eq!(key.len(), 32);
                PublicKey::Ed25519 { x: key.to_vec() }
            }
            other => panic!("unsupported SPKI algorithm {other:02x?}"),
        }
    }

    fn ec_point(curve: Curve, q: &[u8]) -> PublicKey {
        let n = curve.size();
        assert_eq!(q.len(), 1 + 2 * n, "uncompressed point");
        assert_eq!(q[0], 4);
        PublicKey::Ec {
            curve,
            x: q[1..1 + n].to_vec(),
            y: q[1 + n..].to_vec(),
        }
    }

    /// From an OpenSSH public key line (`ssh-ed25519 AAAA... comment`).
    pub fn from_ssh_line(line: &str) -> PublicKey {
        let b64 = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_else(|| panic!("bad ssh public key line {line:?}"));
        let blob = b64_decode(b64);
        let mut r = SshReader { b: &blob };
        let name = String::from_utf8(r.string().to_vec()).expect("utf8");
        match name.as_str() {
            "ssh-rsa" => {
                let e = strip_zeros(r.string()).to_vec();
                let n = strip_zeros(r.string()).to_vec();
                PublicKey::Rsa { n, e }
            }
            "ssh-ed25519" => PublicKey::Ed25519 {
                x: r.string().to_vec(),
            },
            s if s.starts_with("ecdsa-sha2-") => {
                let curve = Curve::from_ssh(std::str::from_utf8(r.string()).expect("utf8"));
                Self::ec_point(curve, r.string())
            }
            other => panic!("unsupported ssh key type {other}"),
        }
    }

    pub fn rule(&self) -> &'static str {
        match self {
            PublicKey::Rsa { .. } => "private-key/rsa",
            PublicKey::Ec { .. } => "private-key/ec",
            PublicKey::Ed25519 { .. } => "private-key/ed25519",
        }
    }
    pub fn type_str(&self) -> &'static str {
        match self {
            PublicKey::Rsa { .. } => "RSA",
            PublicKey::Ec { .. } => "EC",
            PublicKey::Ed25519 { .. } => "Ed25519",
        }
    }
    pub fn bits(&self) -> u64 {
        match self {
            PublicKey::Rsa { n, .. } => {
                let n = strip_zeros(n);
                (n.len() as u64 - 1) * 8 + (8 - n[0].leading_zeros() as u64)
            }
            PublicKey::Ec { curve, .. } => curve.bits(),
            PublicKey::Ed25519 { .. } => 256,
        }
    }
    pub fn curve(&self) -> Option<&'static str> {
        match self {
            PublicKey::Ec { curve, .. } => Some(curve.name()),
            _ => None,
        }
    }
    /// Public JWK members (only the RFC 7638 required ones).
    pub fn jwk_public(&self) -> Value {
        match self {
            PublicKey::Rsa { n, e } => json!({"kty":"RSA","n":b64url(n),"e":b64url(e)}),
            PublicKey::Ec { curve, x, y } => {
                json!({"kty":"EC","crv":curve.name(),"x":b64url(x),"y":b64url(y)})
            }
            PublicKey::Ed25519 { x } => json!({"kty":"OKP","crv":"Ed25519","x":b64url(x)}),
        }
    }
    /// RFC 7638 canonical JSON: required members, lexicographic order, no whitespace.
    pub fn canonical_json(&self) -> String {
        match self {
            PublicKey::Rsa { n, e } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64url(e), b64url(n))
            }
            PublicKey::Ec { curve, x, y } => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                curve.name(),
                b64url(x),
                b64url(y)
            ),
            PublicKey::Ed25519 { x } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64url(x))
            }
        }
    }
    pub fn thumbprint(&self) -> String {
        b64url(&sha256(self.canonical_json().as_bytes()))
    }
    /// Base64url strings of the public members (their text may legitimately appear in output).
    pub fn public_strings(&self) -> Vec<String> {
        match self {
            PublicKey::Rsa { n, e } => vec![b64url(n), b64url(e)],
            PublicKey::Ec { x, y, .. } => vec![b64url(x), b64url(y)],
            PublicKey::Ed25519 { x } => vec![b64url(x)],
        }
    }
}

/// RFC 7638 thumbprint of a JWK given as JSON (computed from its members, independently).
pub fn jwk_thumbprint(jwk: &Value) -> String {
    let s = |m: &str| {
        jwk[m]
            .as_str()
            .unwrap_or_else(|| panic!("jwk.{m}"))
            .to_string()
    };
    let canon = match jwk["kty"].as_str().expect("kty") {
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s("e"), s("n")),
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            s("crv"),
            s("x"),
            s("y")
        ),
        "OKP" => format!(r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#, s("crv"), s("x")),
        "oct" => format!(r#"{{"k":"{}","kty":"oct"}}"#, s("k")),
        k => panic!("kty {k}"),
    };
    b64url(&sha256(canon.as_bytes()))
}

struct SshReader<'a> {
    b: &'a [u8],
}
impl<'a> SshReader<'a> {
    fn string(&mut self) -> &'a [u8] {
        let n = u32::from_be_bytes(self.b[..4].try_into().expect("len")) as usize;
        let s = &self.b[4..4 + n];
        self.b = &self.b[4 + n..];
        s
    }
}

/// Private JWK members from an unencrypted PKCS#8 DER private key.
pub fn private_members_from_pkcs8(pkcs8_der: &[u8]) -> Value {
    let (t, seq, _) = der(pkcs8_der);
    assert_eq!(t, 0x30);
    let items = der_seq(seq);
    let alg = der_seq(items[1].1);
    let inner = items[2].1;
    match alg[0].1 {
        OID_RSA => {
            let (_, s, _) = der(inner);
            let ints = der_seq(s);
            let f = |i: usize| b64url(strip_zeros(ints[i].1));
            json!({"d": f(3), "p": f(4), "q": f(5), "dp": f(6), "dq": f(7), "qi": f(8)})
        }
        OID_EC => {
            let curve = Curve::from_oid(alg[1].1);
            let (_, s, _) = der(inner);
            let parts = der_seq(s);
            assert_eq!(parts[1].0, 0x04);
            json!({"d": b64url(&pad_left(parts[1].1, curve.size()))})
        }
        OID_ED25519 => {
            let (t, seed, _) = der(inner);
            assert_eq!(t, 0x04);
            json!({"d": b64url(seed)})
        }
        other => panic!("unsupported PKCS#8 algorithm {other:02x?}"),
    }
}

// ---------------------------------------------------------------------------
// key generation
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
pub enum Alg {
    Rsa(u32),
    Ec(Curve),
    Ed25519,
}

/// A key generated by openssl.
pub struct GenKey {
    /// PEM text as written by openssl in the requested encoding.
    pub pem: String,
    /// Unencrypted PKCS#8 PEM of the same key (for conversions).
    pub pkcs8_pem: String,
    pub public: PublicKey,
    /// Public PEM (`-----BEGIN PUBLIC KEY-----`).
    pub public_pem: String,
    /// Full private JWK (public + private members).
    pub jwk: Value,
}

impl GenKey {
    pub fn thumbprint(&self) -> String {
        self.public.thumbprint()
    }
    /// The base64 body lines of the PEM (no header lines, no markers).
    pub fn body_lines(&self) -> Vec<String> {
        pem_body_lines(&self.pem)
    }
}

pub fn pem_body_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && !l.contains(':') && !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect()
}

/// Which encoding `openssl` should write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enc {
    /// `-----BEGIN PRIVATE KEY-----`
    Pkcs8,
    /// `RSA PRIVATE KEY` / `EC PRIVATE KEY`
    Traditional,
}

/// Generates a key with openssl and derives everything the tests need from openssl's output.
pub fn gen_key(alg: Alg, enc: Enc) -> GenKey {
    require_openssl();
    let tmp = TempDir::new().expect("tmp");
    let d = tmp.path();
    match (alg, enc) {
        (Alg::Rsa(bits), Enc::Traditional) => {
            openssl(
                &[
                    "genrsa",
                    "-traditional",
                    "-out",
                    "key.pem",
                    &bits.to_string(),
                ],
                d,
            );
        }
        (Alg::Rsa(bits), Enc::Pkcs8) => {
            openssl(
                &[
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    &format!("rsa_keygen_bits:{bits}"),
                    "-out",
                    "key.pem",
                ],
                d,
            );
        }
        (Alg::Ec(c), Enc::Traditional) => {
            openssl(
                &[
                    "ecparam",
                    "-name",
                    c.openssl_name(),
                    "-genkey",
                    "-noout",
                    "-out",
                    "key.pem",
                ],
                d,
            );
        }
        (Alg::Ec(c), Enc::Pkcs8) => {
            openssl(
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    &format!("ec_paramgen_curve:{}", c.name()),
                    "-pkeyopt",
                    "ec_param_enc:named_curve",
                    "-out",
                    "key.pem",
                ],
                d,
            );
        }
        (Alg::Ed25519, _) => {
            openssl(&["genpkey", "-algorithm", "ED25519", "-out", "key.pem"], d);
        }
    }
    let pem = read_string(d.join("key.pem"));
    let spki = openssl(&["pkey", "-in", "key.pem", "-pubout", "-outform", "DER"], d);
    let public_pem =
        String::from_utf8(openssl(&["pkey", "-in", "key.pem", "-pubout"], d)).expect("utf8");
    let pkcs8_der = openssl(
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER",
        ],
        d,
    );
    let pkcs8_pem = String::from_utf8(openssl(
        &["pkcs8", "-topk8", "-nocrypt", "-in", "key.pem"],
        d,
    ))
    .expect("utf8");
    assert!(pkcs8_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let public = PublicKey::from_spki(&spki);
    let mut jwk = public.jwk_public();
    for (k, v) in private_members_from_pkcs8(&pkcs8_der)
        .as_object()
        .expect("obj")
    {
        jwk[k] = v.clone();
    }
    GenKey {
        pem,
        pkcs8_pem,
        public,
        public_pem,
        jwk,
    }
}

/// Legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`) of a fresh RSA key.
pub fn gen_rsa_legacy_encrypted(bits: u32, pass: &str) -> String {
    require_openssl();
    let tmp = TempDir::new().expect("tmp");
    openssl(
        &[
            "genrsa",
            "-traditional",
            "-aes256",
            "-passout",
            &format!("pass:{pass}"),
            "-out",
            "key.pem",
            &bits.to_string(),
        ],
        tmp.path(),
    );
    let s = read_string(tmp.path().join("key.pem"));
    assert!(s.contains("Proc-Type: 4,ENCRYPTED"), "openssl wrote {s}");
    s
}

/// Encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`) of `key`.
pub fn encrypt_pkcs8(key: &GenKey, pass: &str) -> String {
    let tmp = TempDir::new().expect("tmp");
    std::fs::write(tmp.path().join("k.pem"), &key.pkcs8_pem).expect("write");
    openssl(
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "k.pem",
            "-passout",
            &format!("pass:{pass}"),
            "-out",
            "enc.pem",
        ],
        tmp.path(),
    );
    let s = read_string(tmp.path().join("enc.pem"));
    assert!(s.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    s
}

/// A DSA private key; `traditional` gives `DSA PRIVATE KEY`, else PKCS#8 `PRIVATE KEY`.
pub fn gen_dsa(traditional: bool) -> String {
    require_openssl();
    let tmp = TempDir::new().expect("tmp");
    let d = tmp.path();
    openssl(
        &[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:2048",
            "-out",
            "params.pem",
        ],
        d,
    );
    openssl(
        &["genpkey", "-paramfile", "params.pem", "-out", "key.pem"],
        d,
    );
    if traditional {
        String::from_utf8(openssl(&["pkey", "-in", "key.pem", "-traditional"], d)).expect("utf8")
    } else {
        read_string(d.join("key.pem"))
    }
}

/// An OpenSSH key from ssh-keygen.
pub struct SshKey {
    pub private: String,
    pub public_line: String,
    pub public: PublicKey,
}

/// `ssh-keygen -t TYPE [-b BITS] -N PASS`.
pub fn gen_ssh(kind: &str, bits: Option<u32>, passphrase: &str) -> SshKey {
    require_ssh_keygen();
    let tmp = TempDir::new().expect("tmp");
    let d = tmp.path();
    let mut args = vec![
        "-q",
        "-t",
        kind,
        "-N",
        passphrase,
        "-C",
        "ci@example.com",
        "-f",
        "id",
    ];
    let b;
    if let Some(bits) = bits {
        b = bits.to_string();
        args.push("-b");
        args.push(&b);
    }
    tool("ssh-keygen", &args, Some(d));
    let private = read_string(d.join("id"));
    let public_line = read_string(d.join("id.pub")).trim().to_string();
    // Cross-check: ssh-keygen re-derives the public key from the private file (unencrypted only).
    if passphrase.is_empty() {
        let derived =
            String::from_utf8(tool("ssh-keygen", &["-y", "-f", "id"], Some(d))).expect("utf8");
        assert_eq!(
            derived.split_whitespace().nth(1),
            public_line.split_whitespace().nth(1)
        );
    }
    let public = PublicKey::from_ssh_line(&public_line);
    // Second, independent path for RSA/ECDSA: export to PKCS8 and parse the SPKI via openssl.
    if kind != "ed25519" {
        let pkcs8 = tool(
            "ssh-keygen",
            &["-e", "-m", "PKCS8", "-f", "id.pub"],
            Some(d),
        );
        std::fs::write(d.join("pub.pem"), pkcs8).expect("write");
        let spki = openssl(&["pkey", "-pubin", "-in", "pub.pem", "-outform", "DER"], d);
        assert_eq!(PublicKey::from_spki(&spki), public, "ssh vs openssl view");
    }
    SshKey {
        private,
        public_line,
        public,
    }
}

/// A PuTTY key from puttygen (`version` 2 or 3, empty passphrase = unencrypted).
pub struct PpkKey {
    pub ppk: String,
    pub public: PublicKey,
}

pub fn gen_ppk(kind: &str, bits: Option<u32>, version: u32, passphrase: &str) -> PpkKey {
    require_puttygen();
    let tmp = TempDir::new().expect("tmp");
    let d = tmp.path();
    std::fs::write(d.join("pass"), passphrase).expect("write");
    let ver = format!("version={version}");
    let mut args = vec![
        "-q",
        "-t",
        kind,
        "-C",
        "ci-key",
        "-o",
        "key.ppk",
        "--new-passphrase",
        "pass",
        "--ppk-param",
        &ver,
    ];
    let b;
    if let Some(bits) = bits {
        b = bits.to_string();
        args.push("-b");
        args.push(&b);
    }
    tool("puttygen", &args, Some(d));
    let ppk = read_string(d.join("key.ppk"));
    assert!(
        ppk.starts_with(&format!("PuTTY-User-Key-File-{version}:")),
        "puttygen wrote {ppk}"
    );
    let line = String::from_utf8(tool(
        "puttygen",
        &[
            "key.ppk",
            "--old-passphrase",
            "pass",
            "-O",
            "public-openssh",
        ],
        Some(d),
    ))
    .expect("utf8");
    PpkKey {
        ppk,
        public: PublicKey::from_ssh_line(line.trim()),
    }
}

/// An armored PGP private key block: from gpg when it is installed, otherwise a syntactically
/// plausible block (secret-key packet tag, radix-64 body, CRC line).
pub fn gen_pgp_block() -> String {
    if which("gpg").is_some() {
        let home = TempDir::new().expect("tmp");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod");
        let h = home.path().to_str().expect("utf8").to_string();
        let gpg = |args: &[&str]| -> Option<Vec<u8>> {
            let out = Command::new("gpg")
                .arg("--homedir")
                .arg(&h)
                .args([
                    "--batch",
                    "--quiet",
                    "--pinentry-mode",
                    "loopback",
                    "--passphrase",
                    "",
                ])
                .args(args)
                .stdin(Stdio::null())
                .output()
                .ok()?;
            out.status.success().then_some(out.stdout)
        };
        let made = gpg(&[
            "--quick-gen-key",
            "CI Test <ci@example.com>",
            "ed25519",
            "sign",
            "never",
        ])
        .and_then(|_| gpg(&["--armor", "--export-secret-keys"]));
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(&h)
            .args(["--kill", "gpg-agent"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(out) = made {
            let s = String::from_utf8(out).expect("utf8");
            if s.contains("-----BEGIN PGP PRIVATE KEY BLOCK-----") {
                return s;
            }
        }
    }
    let mut body = vec![0x95u8, 0x01, 0xd8, 0x04];
    body.extend(random_bytes(470));
    let enc = b64(&body);
    let mut s = String::from("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n");
    for chunk in enc.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).expect("ascii"));
        s.push('\n');
    }
    s.push_str("=tQ9a\n-----END PGP PRIVATE KEY BLOCK-----\n");
    s
}

// ---------------------------------------------------------------------------
// embedding helpers
// ---------------------------------------------------------------------------

/// The PEM as a single-line string with `\n` escapes (JSON / JS style), without quotes.
pub fn pem_escaped(pem: &str) -> String {
    pem.replace('\n', "\\n")
}

/// The PEM as one line of standard base64 (Kubernetes `data:` value).
pub fn pem_base64(pem: &str) -> String {
    b64(pem.as_bytes())
}

/// A JWT with the given header and claims; `sign` gets the signing input and returns signature bytes.
pub fn make_jwt(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let h = b64url(serde_json::to_string(header).expect("json").as_bytes());
    let c = b64url(serde_json::to_string(claims).expect("json").as_bytes());
    let input = format!("{h}.{c}");
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64url(&sig))
}

/// RS256 signature with openssl over `input` using the private PEM.
pub fn rs256_sign(private_pem: &str, input: &[u8]) -> Vec<u8> {
    let tmp = TempDir::new().expect("tmp");
    std::fs::write(tmp.path().join("k.pem"), private_pem).expect("write");
    std::fs::write(tmp.path().join("in"), input).expect("write");
    openssl(
        &["dgst", "-sha256", "-sign", "k.pem", "-out", "sig", "in"],
        tmp.path(),
    );
    std::fs::read(tmp.path().join("sig")).expect("sig")
}

/// 12-character windows of `s` (every `step` characters), for redaction checks.
pub fn windows(s: &str, step: usize) -> Vec<String> {
    let b = s.as_bytes();
    let mut v = Vec::new();
    let mut i = 0;
    while i + 12 <= b.len() {
        v.push(String::from_utf8_lossy(&b[i..i + 12]).into_owned());
        i += step;
    }
    v
}
