//! Archives and key stores planted in the synthetic home: a PEM in a tar.gz inside a zip,
//! PKCS#12 files written by openssl (empty, common and random password), a zip bomb and an
//! archive nested deeper than the limit. Archives are built with the zip/tar/flate2 writers.

use std::io::Write as _;
use std::path::Path;

use crate::support::{Alg, Curve, Enc, GenKey, gen_key, openssl, random_secret};

/// The bytes of a zip holding `members` (deflated).
pub fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        writer.start_file(*name, options).expect("zip member");
        writer.write_all(data).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// The bytes of a gzip-compressed tar holding `members`.
pub fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(encoder);
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, *data)
            .expect("tar member");
    }
    builder
        .into_inner()
        .expect("tar finish")
        .finish()
        .expect("gzip finish")
}

/// A key in `backups/bundle.zip!inner.tar.gz!keys/signing.pem`.
pub fn nested_archive(home: &Path) -> GenKey {
    let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
    let inner = tar_gz(&[
        ("README", b"backup of the signing service\n"),
        ("keys/signing.pem", key.pem.as_bytes()),
    ]);
    let outer = zip(&[("inner.tar.gz", &inner), ("notes.txt", b"nothing here\n")]);
    std::fs::create_dir_all(home.join("backups")).expect("mkdir");
    std::fs::write(home.join("backups/bundle.zip"), outer).expect("write zip");
    key
}

/// A zip of five members of 40 MiB of zeros each (about 200 KB on disk): the expansion ratio
/// limit stops it as the bytes arrive.
pub fn zip_bomb(home: &Path) {
    std::fs::create_dir_all(home.join("Downloads")).expect("mkdir");
    let zeros = vec![0u8; 40 << 20];
    let names: Vec<String> = (1..=5).map(|i| format!("zeros{i}.bin")).collect();
    let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &zeros[..])).collect();
    std::fs::write(home.join("Downloads/bomb.zip"), zip(&members)).expect("write bomb");
}

/// A key in a zip nested `depth` zips deep (`deep.zip!l2.zip!…!key.pem`).
pub fn deep_archive(home: &Path, depth: usize) -> GenKey {
    std::fs::create_dir_all(home.join("Downloads")).expect("mkdir");
    let key = gen_key(Alg::Ed25519, Enc::Pkcs8);
    let mut bytes = zip(&[("key.pem", key.pem.as_bytes())]);
    for level in (2..=depth).rev() {
        bytes = zip(&[(&format!("l{level}.zip"), &bytes)]);
    }
    std::fs::write(home.join("Downloads/deep.zip"), bytes).expect("write deep zip");
    key
}

/// PKCS#12 files in `.certs/`: `empty.p12` (`-passout pass:`), `common.p12` (`changeit`) and
/// `locked.p12` (a random password), each with its own key.
pub fn key_stores(home: &Path) -> [GenKey; 3] {
    let dir = home.join(".certs");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let stores = [
        ("empty.p12", "pass:".to_string()),
        ("common.p12", "pass:changeit".to_string()),
        ("locked.p12", format!("pass:{}", random_secret(20))),
    ];
    stores.map(|(name, password)| {
        let key = gen_key(Alg::Ec(Curve::P256), Enc::Pkcs8);
        let work = tempfile::tempdir().expect("tempdir");
        std::fs::write(work.path().join("k.pem"), &key.pkcs8_pem).expect("write key");
        openssl(
            &[
                "req",
                "-new",
                "-x509",
                "-key",
                "k.pem",
                "-subj",
                "/CN=sweep",
                "-days",
                "1",
                "-out",
                "c.pem",
            ],
            work.path(),
        );
        let out = dir.join(name);
        openssl(
            &[
                "pkcs12",
                "-export",
                "-inkey",
                "k.pem",
                "-in",
                "c.pem",
                "-passout",
                &password,
                "-out",
                out.to_str().expect("utf8"),
            ],
            work.path(),
        );
        key
    })
}
