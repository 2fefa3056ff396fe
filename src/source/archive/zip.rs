//! The zip family, read from bytes in memory (the central directory needs random access).

use std::io::Cursor;

use ::zip::ZipArchive;
use ::zip::result::ZipError;

use super::{Flow, Walker, join};

impl Walker<'_> {
    /// Read the zip at member path `at`: every file member in central-directory order.
    pub(super) fn zip(&mut self, at: &str, bytes: &[u8], depth: u32) -> Flow {
        let mut archive = match ZipArchive::new(Cursor::new(bytes)) {
            Ok(archive) => archive,
            Err(error) => {
                self.skip(at, format!("unreadable zip: {error}"));
                return Ok(());
            }
        };
        for index in 0..archive.len() {
            let name = archive
                .name_for_index(index)
                .map_or_else(|| format!("#{index}"), clean_name);
            self.count_member(at, &name)?;
            let entry = archive.by_index_raw(index).map(|file| {
                let other = file.is_dir() || file.is_symlink();
                (other, file.encrypted(), file.size())
            });
            let (declared, file) = match entry {
                Ok((true, _, _)) => continue,
                Ok((false, true, _)) => {
                    self.skip(&join(at, &name), "encrypted member".into());
                    continue;
                }
                Ok((false, false, size)) => (size, archive.by_index(index)),
                Err(error) => (0, Err(error)),
            };
            let file = match file {
                Ok(file) => file,
                Err(error) => {
                    self.skip(&join(at, &name), unreadable(&error));
                    continue;
                }
            };
            let mut content = self.metered(file);
            // A zip's members are independent: a damaged one does not end the others.
            self.member(at, &name, Some(declared), &mut content, depth)?;
        }
        Ok(())
    }
}

/// A member name as shown: without a leading `./` or `/`.
pub(super) fn clean_name(name: &str) -> String {
    let mut name = name;
    loop {
        let trimmed = name.trim_start_matches('/');
        let trimmed = trimmed.strip_prefix("./").unwrap_or(trimmed);
        if trimmed.len() == name.len() {
            return name.to_string();
        }
        name = trimmed;
    }
}

fn unreadable(error: &ZipError) -> String {
    match error {
        ZipError::UnsupportedArchive(what) => format!("unsupported zip member: {what}"),
        other => format!("unreadable: {other}"),
    }
}
