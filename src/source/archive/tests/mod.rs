//! Archives built in the test with the zip, tar and flate2 writers, read back through
//! [`expand`] into a recording sink.

mod alloc;
mod bombs;
mod formats;

use std::io::{Cursor, Write};

use ::zip::write::{SimpleFileOptions, ZipWriter};
use flate2::Compression;
use flate2::write::GzEncoder;

use super::*;

/// Every blob (its `outer`, `member` and bytes) and every skip.
#[derive(Default)]
struct Recorder {
    blobs: Vec<(String, String, Vec<u8>)>,
    skips: Vec<Skipped>,
}

impl BlobSink for Recorder {
    fn blob(&mut self, blob: Blob<'_>) {
        assert!(blob.id.is_none() && blob.lines.is_none());
        let Origin::ArchiveMember { outer, member } = blob.origin else {
            panic!("not an archive member: {:?}", blob.origin);
        };
        self.blobs.push((outer, member, blob.bytes.to_vec()));
    }

    fn window(&mut self, _blob: Blob<'_>, _window: &crate::source::Window) -> bool {
        panic!("archive members are whole blobs, never windows");
    }

    fn skip(&mut self, skipped: Skipped) {
        self.skips.push(skipped);
    }
}

impl Recorder {
    /// The member paths pushed, in order.
    fn members(&self) -> Vec<&str> {
        self.blobs
            .iter()
            .map(|(_, member, _)| member.as_str())
            .collect()
    }

    /// The bytes of member `member`.
    fn bytes(&self, member: &str) -> &[u8] {
        let found = self.blobs.iter().find(|(_, name, _)| name == member);
        &found.unwrap_or_else(|| panic!("no member {member}")).2
    }
}

/// Expand with `limits` into a fresh recorder.
fn run(outer: &str, bytes: &[u8], limits: &Limits) -> (Recorder, ArchiveStats) {
    let mut sink = Recorder::default();
    let stats = expand(outer, bytes, limits, &mut sink);
    assert_eq!(stats.skipped, sink.skips.len() as u64);
    assert_eq!(stats.blobs, sink.blobs.len() as u64);
    (sink, stats)
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(::zip::CompressionMethod::Deflated)
}

/// A zip of `(name, bytes)` members, deflated.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        writer.start_file(*name, deflated()).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A tar (GNU headers, so long names work) of `(name, bytes)` regular files.
fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = ::tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut header = ::tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, name, *bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A PKCS#8 PEM private key, generated now.
fn pem_key() -> Vec<u8> {
    use pkcs8::EncodePrivateKey;
    let key = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    key.to_pkcs8_pem(pkcs8::LineEnding::LF)
        .unwrap()
        .as_bytes()
        .to_vec()
}

/// `len` bytes that do not compress (xorshift; any seed will do).
fn noise(len: usize, mut state: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}
