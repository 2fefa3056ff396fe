//! Tar and gzip, streamed. The `tar` crate parses headers (checksums, number fields, skipping
//! between entries); its entries are taken raw because it would read a GNU long name or a pax
//! record whole, whatever size its header claims. Those are read here, capped.

use std::io::{Cursor, Read};

use flate2::read::MultiGzDecoder;

use super::zip::clean_name;
use super::{Flow, HEAD_LEN, Walker, file_name, is_tar};

/// The most a GNU long name or pax record block may hold; real ones hold a path and perhaps
/// some extended attributes (a few KiB).
const MAX_EXTENSION_BYTES: u64 = 1 << 20;

impl Walker<'_> {
    /// Read the tar at member path `at`: every regular file, in order.
    pub(super) fn tar(&mut self, at: &str, reader: &mut dyn Read, depth: u32) -> Flow {
        let mut archive = ::tar::Archive::new(reader);
        let entries = match archive.entries() {
            Ok(entries) => entries.raw(true),
            Err(error) => return self.read_failed(at, &error).map(drop),
        };
        // The name a GNU long-name entry or a pax `path` record gives the next entry.
        let mut long_name: Option<Vec<u8>> = None;
        for entry in entries {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(error) => return self.read_failed(at, &error).map(drop),
            };
            let kind = entry.header().entry_type();
            if kind.is_gnu_longname() || kind.is_pax_local_extensions() {
                let mut data = Vec::new();
                match (&mut entry)
                    .take(MAX_EXTENSION_BYTES + 1)
                    .read_to_end(&mut data)
                {
                    Err(error) => return self.read_failed(at, &error).map(drop),
                    Ok(_) if data.len() as u64 > MAX_EXTENSION_BYTES => {
                        self.skip(
                            at,
                            format!("tar extension header over {MAX_EXTENSION_BYTES} bytes; the rest is not read"),
                        );
                        return Ok(());
                    }
                    Ok(_) if kind.is_gnu_longname() => long_name = Some(trim_nul(data)),
                    Ok(_) => long_name = pax_path(&data).or(long_name),
                }
                continue;
            }
            if kind.is_gnu_longlink() || kind.is_pax_global_extensions() {
                continue;
            }
            let name = long_name
                .take()
                .unwrap_or_else(|| entry.path_bytes().into_owned());
            let name = clean_name(&String::from_utf8_lossy(&name));
            self.count_member(at, &name)?;
            if !(kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse()) {
                continue;
            }
            let declared = entry.header().entry_size().ok();
            if !self.member(at, &name, declared, &mut entry, depth)? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Read the gzip stream at member path `at`, named `name`: a tar inside is read as a tar at
    /// the same level; anything else is one member named `name` without `.gz`.
    pub(super) fn gzip(&mut self, at: &str, name: &str, reader: &mut dyn Read, depth: u32) -> Flow {
        let mut stream = self.metered(MultiGzDecoder::new(reader));
        let mut head = Vec::with_capacity(HEAD_LEN);
        if let Err(error) = (&mut stream).take(HEAD_LEN as u64).read_to_end(&mut head) {
            return self.read_failed(at, &error).map(drop);
        }
        let holds_tar = is_tar(&head) || names_tar(name);
        let mut content = Cursor::new(head).chain(stream);
        if holds_tar {
            return self.tar(at, &mut content, depth);
        }
        let member = gzip_member_name(name);
        self.count_member(at, &member)?;
        self.member(at, &member, None, &mut content, depth)
            .map(drop)
    }
}

/// `x.tgz`, `x.tar.gz`: a tar even without the ustar magic (old v7 tars).
fn names_tar(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".tgz") || lower.ends_with(".tar.gz")
}

/// The member of a plain gzip file: its name without `.gz` (`.tgz` becomes `.tar`).
fn gzip_member_name(name: &str) -> String {
    let name = file_name(name);
    let lower = name.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix(".tgz").map(|stem| &name[..stem.len()]) {
        return format!("{stem}.tar");
    }
    match lower.strip_suffix(".gz").map(|stem| &name[..stem.len()]) {
        Some(stem) if !stem.is_empty() => stem.to_string(),
        _ => name.to_string(),
    }
}

/// The `path` record of a pax extension block.
fn pax_path(data: &[u8]) -> Option<Vec<u8>> {
    ::tar::PaxExtensions::new(data)
        .filter_map(Result::ok)
        .filter(|record| record.key_bytes() == b"path")
        .last()
        .map(|record| record.value_bytes().to_vec())
}

/// A GNU long name without its terminating NULs.
fn trim_nul(mut data: Vec<u8>) -> Vec<u8> {
    while data.last() == Some(&0) {
        data.pop();
    }
    data
}
