//! PKCS#12 / PFX files written by `openssl pkcs12 -export` at test time: opened with the empty
//! password or a common one, their keys reported with the thumbprint of the same key found in its
//! PEM; locked files reported as key stores.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::*;

/// How `openssl pkcs12 -export` is asked to write the file.
#[derive(Clone, Copy, Debug)]
struct Export {
    password: &'static str,
    /// `-legacy`: 3DES key bag, RC2-40 certificate bag, SHA-1 MAC.
    legacy: bool,
    /// `-nomac`: no integrity MAC.
    nomac: bool,
    /// `-keypbe NONE -certpbe NONE`: nothing encrypted.
    unencrypted: bool,
}

const DEFAULT: Export = Export {
    password: "",
    legacy: false,
    nomac: false,
    unencrypted: false,
};

/// A key, its PEM and a self-signed certificate, in a tree the test scans.
struct Fixture {
    key: GenKey,
    tree: Tree,
}

impl Fixture {
    fn new(alg: Alg) -> Fixture {
        let key = gen_key(alg, Enc::Pkcs8);
        let tree = Tree::new();
        tree.write("key.pem", &key.pem);
        openssl(
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "key.pem",
                "-subj",
                "/CN=keysweep test",
                "-days",
                "2",
                "-out",
                "cert.pem",
            ],
            tree.root(),
        );
        Fixture { key, tree }
    }

    /// Write `name` with `openssl pkcs12 -export`; `Err` with openssl's message when it refuses.
    fn export(&self, name: &str, how: Export) -> Result<(), String> {
        let pass = format!("pass:{}", how.password);
        let mut args = vec![
            "pkcs12", "-export", "-inkey", "key.pem", "-in", "cert.pem", "-name", "test",
            "-passout", &pass, "-out", name,
        ];
        if how.legacy {
            args.push("-legacy");
        }
        if how.nomac {
            args.push("-nomac");
        }
        if how.unencrypted {
            args.extend(["-keypbe", "NONE", "-certpbe", "NONE"]);
        }
        try_openssl(&args, self.tree.root())
    }
}

fn try_openssl(args: &[&str], dir: &Path) -> Result<(), String> {
    crate::support::tools::require("openssl");
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Whether this openssl can write `-legacy` files (it needs the legacy provider); prints why not.
fn legacy_available(fixture: &Fixture) -> bool {
    let how = Export {
        legacy: true,
        ..DEFAULT
    };
    match fixture.export("probe.p12", how) {
        Ok(()) => {
            std::fs::remove_file(fixture.tree.root().join("probe.p12")).expect("remove probe");
            true
        }
        Err(message) => {
            eprintln!(
                "SKIPPED: `openssl pkcs12 -export -legacy` is unavailable here (no legacy \
                 provider?): {}",
                message.trim()
            );
            false
        }
    }
}

/// Scan the fixture: the key is one finding found both in its PEM and in `p12` (line 1), with the
/// thumbprint computed independently from openssl's public key; `p12`'s format says how it
/// was opened.
fn assert_opened(fixture: &Fixture, p12: &str, opened: &str) {
    let scan = fixture.tree.scan(&[]);
    scan.assert_exit(1);
    let expected = [loc_col("key.pem", 1, 1), loc_col(p12, 1, 1)];
    let f = assert_key_finding(&scan, &fixture.key.public, false, &expected);
    assert_eq!(
        f["locations"][1]["format"],
        format!("pkcs12, {opened}"),
        "how {p12} was opened: {f}"
    );
    assert!(
        scan.with_rule("private-key/keystore").is_empty(),
        "an opened store is not also a locked one\n{}",
        scan.summary()
    );
}

#[test]
fn empty_password_default_encryption_rsa() {
    let fixture = Fixture::new(Alg::Rsa(2048));
    fixture.export("store.p12", DEFAULT).expect("export");
    assert_opened(&fixture, "store.p12", "empty password");
}

#[test]
fn common_password_default_encryption_ec() {
    let fixture = Fixture::new(Alg::Ec(Curve::P256));
    let how = Export {
        password: "changeit",
        ..DEFAULT
    };
    fixture.export("tomcat.pfx", how).expect("export");
    assert_opened(&fixture, "tomcat.pfx", "common password 'changeit'");
}

#[test]
fn ed25519_key_when_openssl_exports_it() {
    let fixture = Fixture::new(Alg::Ed25519);
    fixture.export("signing.p12", DEFAULT).expect("export");
    assert_opened(&fixture, "signing.p12", "empty password");
}

#[test]
fn no_mac_files_are_opened_by_decrypting() {
    let fixture = Fixture::new(Alg::Ec(Curve::P384));
    let empty = Export {
        nomac: true,
        ..DEFAULT
    };
    fixture.export("nomac.p12", empty).expect("export");
    assert_opened(&fixture, "nomac.p12", "empty password");

    let fixture = Fixture::new(Alg::Rsa(2048));
    let common = Export {
        password: "secret",
        nomac: true,
        ..DEFAULT
    };
    fixture.export("nomac-common.p12", common).expect("export");
    assert_opened(&fixture, "nomac-common.p12", "common password 'secret'");
}

#[test]
fn legacy_3des_rc2_files() {
    let fixture = Fixture::new(Alg::Rsa(2048));
    if !legacy_available(&fixture) {
        return;
    }
    let empty = Export {
        legacy: true,
        ..DEFAULT
    };
    fixture.export("legacy.p12", empty).expect("export");
    assert_opened(&fixture, "legacy.p12", "empty password");

    let fixture = Fixture::new(Alg::Ec(Curve::P256));
    let common = Export {
        password: "password",
        legacy: true,
        nomac: true,
        ..DEFAULT
    };
    fixture.export("legacy-nomac.pfx", common).expect("export");
    assert_opened(&fixture, "legacy-nomac.pfx", "common password 'password'");
}

#[test]
fn unencrypted_key_bag() {
    let fixture = Fixture::new(Alg::Ec(Curve::P256));
    let how = Export {
        password: "not-a-listed-password",
        unencrypted: true,
        ..DEFAULT
    };
    fixture.export("plain.p12", how).expect("export");
    assert_opened(&fixture, "plain.p12", "unencrypted");
}

#[test]
fn random_password_stays_locked() {
    let fixture = Fixture::new(Alg::Rsa(2048));
    let password: &'static str = Box::leak(hex(&random_bytes(12)).into_boxed_str());
    let how = Export {
        password,
        ..DEFAULT
    };
    fixture.export("locked.p12", how).expect("export");
    let scan = fixture.tree.scan(&[]);
    scan.assert_exit(1);
    scan.assert_count(2);
    assert_key_finding(
        &scan,
        &fixture.key.public,
        false,
        &[loc_col("key.pem", 1, 1)],
    );
    let store = scan.one_with_rule("private-key/keystore");
    assert_locations(&scan, store, &[loc_col("locked.p12", 1, 1)]);
    assert_eq!(store["key"]["type"], "PKCS#12", "{store}");
    assert_eq!(store["key"]["encrypted"], true, "{store}");
    assert!(store["key"]["thumbprint"].is_null(), "{store}");
    let secret = store["secret"].as_str().expect("secret");
    let list =
        read_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/pkcs12-passwords.txt"));
    let common = list
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    assert!(
        secret.contains(&format!(
            "locked: tried empty and {common} common passwords"
        )),
        "the report says what was tried: {secret}"
    );
    assert!(!secret.contains(password), "{secret}");
}

#[test]
fn certificate_only_store_is_not_a_finding() {
    let fixture = Fixture::new(Alg::Ec(Curve::P256));
    try_openssl(
        &[
            "pkcs12",
            "-export",
            "-nokeys",
            "-in",
            "cert.pem",
            "-passout",
            "pass:changeit",
            "-out",
            "trust.p12",
        ],
        fixture.tree.root(),
    )
    .expect("export");
    let scan = fixture.tree.scan(&[]);
    scan.assert_count(1);
    assert_key_finding(
        &scan,
        &fixture.key.public,
        false,
        &[loc_col("key.pem", 1, 1)],
    );
}
