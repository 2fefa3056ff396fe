//! Archive bombs built in the test: each stops at its limit, keeps the heap small and lists a
//! skip naming the limit.

use super::alloc::peak_heap;
use super::*;

const MIB: usize = 1 << 20;

/// Write `len` zero bytes into `writer`, a MiB at a time (the bomb is never held expanded).
fn write_zeros(writer: &mut impl Write, len: usize) {
    let chunk = vec![0u8; MIB];
    for _ in 0..len / MIB {
        writer.write_all(&chunk).unwrap();
    }
    writer.write_all(&chunk[..len % MIB]).unwrap();
}

/// A zip of `members` members of `each` zero bytes.
fn zeros_zip(members: usize, each: usize) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for index in 0..members {
        let options = deflated().large_file(each >= u32::MAX as usize);
        writer
            .start_file(format!("zeros-{index}"), options)
            .unwrap();
        write_zeros(&mut writer, each);
    }
    writer.finish().unwrap().into_inner()
}

fn reasons(sink: &Recorder) -> Vec<(&str, &str)> {
    let skips = sink.skips.iter();
    skips
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect()
}

#[test]
fn zip_bomb_stops_at_the_ratio_limit() {
    // 200 MiB of zeros in four members, each under max_member_bytes.
    let zip = zeros_zip(4, 50 * MIB);
    assert!(zip.len() < MIB, "{}", zip.len());
    let ((sink, stats), peak) = peak_heap(|| run("bomb.zip", &zip, &Limits::default()));
    let cap = zip.len() as u64 * 100;
    eprintln!(
        "zip bomb: {} bytes, expanded {}, peak heap {peak}",
        zip.len(),
        stats.expanded_bytes
    );
    assert!(sink.blobs.is_empty());
    assert_eq!(stats.stopped_by, Some(Limit::Ratio));
    assert_eq!(reasons(&sink).len(), 1);
    assert_eq!(sink.skips[0].path, "bomb.zip!zeros-0");
    assert!(sink.skips[0].reason.contains("(max_ratio = 100)"));
    // Checked as bytes arrive: at most one read past the cap.
    assert!(stats.expanded_bytes > cap && stats.expanded_bytes < 2 * cap + MIB as u64);
    assert!(peak < 64 * MIB as u64, "peak heap {peak}");
}

#[test]
fn zip_member_declaring_a_huge_size_is_not_read() {
    let zip = zeros_zip(1, 200 * MIB);
    let ((sink, stats), peak) = peak_heap(|| run("big.zip", &zip, &Limits::default()));
    assert_eq!(
        reasons(&sink),
        [(
            "big.zip!zeros-0",
            "member larger than 67108864 bytes (max_member_bytes = 67108864)"
        )]
    );
    assert!(stats.expanded_bytes < MIB as u64);
    assert!(peak < 4 * MIB as u64, "peak heap {peak}");
}

#[test]
fn gzip_bomb_stops_at_the_ratio_limit() {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    write_zeros(&mut encoder, 200 * MIB);
    let gz = encoder.finish().unwrap();
    let ((sink, stats), peak) = peak_heap(|| run("dump.sql.gz", &gz, &Limits::default()));
    eprintln!(
        "gzip bomb: {} bytes, expanded {}, peak heap {peak}",
        gz.len(),
        stats.expanded_bytes
    );
    assert!(sink.blobs.is_empty());
    assert_eq!(stats.stopped_by, Some(Limit::Ratio));
    assert_eq!(reasons(&sink).len(), 1);
    assert_eq!(sink.skips[0].path, "dump.sql.gz!dump.sql");
    assert!(stats.expanded_bytes < 2 * gz.len() as u64 * 100 + MIB as u64);
    assert!(peak < 64 * MIB as u64, "peak heap {peak}");
}

#[test]
fn tgz_with_a_lying_long_name_header_is_not_read_whole() {
    // A GNU long-name entry claiming 300 MiB: the tar crate would read it all into memory.
    let mut header = ::tar::Header::new_gnu();
    header.set_entry_type(::tar::EntryType::GNULongName);
    header.set_path("././@LongLink").unwrap();
    header.set_size(300 * MIB as u64);
    header.set_cksum();
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(header.as_bytes()).unwrap();
    write_zeros(&mut encoder, 300 * MIB);
    let tgz = encoder.finish().unwrap();
    let ((sink, stats), peak) = peak_heap(|| run("name.tgz", &tgz, &Limits::default()));
    assert_eq!(
        reasons(&sink),
        [(
            "name.tgz",
            "tar extension header over 1048576 bytes; the rest is not read"
        )]
    );
    assert_eq!(stats.stopped_by, None);
    assert!(peak < 8 * MIB as u64, "peak heap {peak}");
}

/// Zips nested `depth` deep: the outermost holds `l2.zip`, which holds `l3.zip`, …; the
/// innermost holds `secret.txt`.
fn nested_zips(depth: usize) -> Vec<u8> {
    let mut bytes = zip_of(&[("secret.txt", b"deepest")]);
    for level in (1..depth).rev() {
        bytes = zip_of(&[(&format!("l{}.zip", level + 1), &bytes)]);
    }
    bytes
}

#[test]
fn nesting_stops_at_the_depth_limit() {
    let zip = nested_zips(20);
    let (sink, stats) = run("nest.zip", &zip, &Limits::default());
    assert!(sink.blobs.is_empty());
    assert_eq!(
        reasons(&sink),
        [(
            "nest.zip!l2.zip!l3.zip!l4.zip!l5.zip!l6.zip",
            "nested deeper than 5 archives (max_depth = 5)"
        )]
    );
    assert_eq!(stats.archives, 5);
    assert_eq!(stats.stopped_by, None);
    let deep = Limits {
        max_depth: 20,
        ..Limits::default()
    };
    let (sink, stats) = run("nest.zip", &zip, &deep);
    let path: Vec<String> = (2..=20).map(|level| format!("l{level}.zip")).collect();
    assert_eq!(sink.members(), [format!("{}!secret.txt", path.join("!"))]);
    assert_eq!(stats.archives, 20);
}

#[test]
fn many_empty_members_stop_at_the_member_limit() {
    let stored = SimpleFileOptions::default().compression_method(::zip::CompressionMethod::Stored);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for index in 0..100_000 {
        writer.start_file(format!("e/{index}"), stored).unwrap();
    }
    let zip = writer.finish().unwrap().into_inner();
    let (sink, stats) = run("many.zip", &zip, &Limits::default());
    assert_eq!(sink.blobs.len(), 65_536);
    assert_eq!(stats.members, 65_536);
    assert_eq!(stats.stopped_by, Some(Limit::Members));
    assert_eq!(
        reasons(&sink),
        [(
            "many.zip!e/65536",
            "archive holds more than 65536 members (max_members = 65536); the rest is not read"
        )]
    );
}
