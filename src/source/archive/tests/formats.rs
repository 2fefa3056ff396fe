//! Formats, nesting, member names, corrupt and encrypted input.

use super::*;

#[test]
fn kind_by_magic_first_then_extension() {
    let zip = zip_of(&[("a", b"x")]);
    let tar = tar_of(&[("a", b"x")]);
    let gz = gzip(b"x");
    assert_eq!(archive_kind("notes.txt", &zip), Some(ArchiveKind::Zip));
    assert_eq!(
        archive_kind("empty.bin", b"PK\x05\x06"),
        Some(ArchiveKind::Zip)
    );
    assert_eq!(archive_kind("data.zip", &gz), Some(ArchiveKind::Gzip));
    assert_eq!(
        archive_kind("noext", &tar[..HEAD_LEN]),
        Some(ArchiveKind::Tar)
    );
    for name in [
        "a.jar",
        "b.WAR",
        "c.docx",
        "d.whl",
        "e.nupkg",
        "f.apk",
        "dir/g.xlsx",
    ] {
        assert_eq!(
            archive_kind(name, b"#!/bin/sh"),
            Some(ArchiveKind::Zip),
            "{name}"
        );
    }
    assert_eq!(archive_kind("x.tar", b""), Some(ArchiveKind::Tar));
    assert_eq!(archive_kind("x.tgz", b""), Some(ArchiveKind::Gzip));
    assert_eq!(archive_kind("x.tar.gz", b""), Some(ArchiveKind::Gzip));
    for name in ["key.pem", "zip", "archive.zip.txt", ".env", "a.gz.bak"] {
        assert_eq!(archive_kind(name, b"-----BEGIN"), None, "{name}");
    }
}

#[test]
fn pem_inside_a_tgz_inside_a_zip() {
    let pem = pem_key();
    let tgz = gzip(&tar_of(&[
        ("keys/signing.pem", &pem),
        ("./README", b"hello"),
    ]));
    let zip = zip_of(&[("inner.tgz", &tgz), ("notes.txt", b"nothing here")]);
    let (sink, stats) = run("backups/old.zip", &zip, &Limits::default());
    assert_eq!(
        sink.members(),
        [
            "inner.tgz!keys/signing.pem",
            "inner.tgz!README",
            "notes.txt"
        ]
    );
    assert!(
        sink.blobs
            .iter()
            .all(|(outer, ..)| outer == "backups/old.zip")
    );
    assert_eq!(sink.bytes("inner.tgz!keys/signing.pem"), pem);
    assert!(sink.skips.is_empty(), "{:?}", sink.skips);
    // The tar inside the gzip is the same archive.
    assert_eq!((stats.archives, stats.members, stats.blobs), (2, 4, 3));
    let origin = Origin::ArchiveMember {
        outer: "backups/old.zip".into(),
        member: sink.members()[0].into(),
    };
    assert_eq!(origin.path(), "backups/old.zip!inner.tgz!keys/signing.pem");
}

#[test]
fn plain_gz_is_one_member_named_without_gz() {
    let pem = pem_key();
    let (sink, _) = run("logs/deploy.env.gz", &gzip(&pem), &Limits::default());
    assert_eq!(sink.members(), ["deploy.env"]);
    assert_eq!(sink.bytes("deploy.env"), pem);
    // Nested, and a gzip named only by its magic.
    let zip = zip_of(&[("dump/db.sql.gz", &gzip(b"INSERT")), ("blob", &gzip(b"x"))]);
    let (sink, _) = run("a.zip", &zip, &Limits::default());
    assert_eq!(sink.members(), ["dump/db.sql.gz!db.sql", "blob!blob"]);
    assert_eq!(sink.bytes("dump/db.sql.gz!db.sql"), b"INSERT");
}

#[test]
fn jar_with_a_launcher_script_is_found_by_extension() {
    let pem = pem_key();
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("BOOT-INF/classes/app.pem", &pem),
    ]);
    let mut launcher = b"#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n".to_vec();
    launcher.extend_from_slice(&jar);
    let (sink, _) = run("lib/app.jar", &launcher, &Limits::default());
    assert_eq!(
        sink.members(),
        ["META-INF/MANIFEST.MF", "BOOT-INF/classes/app.pem"]
    );
    assert_eq!(sink.bytes("BOOT-INF/classes/app.pem"), pem);
    // A jar inside a war inside a tar.
    let war = zip_of(&[("WEB-INF/lib/app.jar", &jar)]);
    let (sink, stats) = run("srv.tar", &tar_of(&[("app.war", &war)]), &Limits::default());
    assert_eq!(stats.archives, 3);
    assert_eq!(
        sink.bytes("app.war!WEB-INF/lib/app.jar!BOOT-INF/classes/app.pem"),
        pem
    );
}

#[test]
fn tar_long_names_directories_and_links() {
    let long = format!("{}/id_ed25519", "deep/".repeat(40));
    let mut builder = ::tar::Builder::new(Vec::new());
    let mut dir = ::tar::Header::new_gnu();
    dir.set_entry_type(::tar::EntryType::Directory);
    dir.set_size(0);
    builder.append_data(&mut dir, "deep/", &[][..]).unwrap();
    let mut link = ::tar::Header::new_gnu();
    link.set_entry_type(::tar::EntryType::Symlink);
    link.set_size(0);
    builder.append_link(&mut link, "latest", "deep").unwrap();
    let mut file = ::tar::Header::new_gnu();
    file.set_size(3);
    builder.append_data(&mut file, &long, &b"key"[..]).unwrap();
    let pax_name = format!("{}/token.txt", "pax/".repeat(40));
    let record = pax_record("path", &pax_name);
    let mut extension = ::tar::Header::new_ustar();
    extension.set_entry_type(::tar::EntryType::XHeader);
    extension.set_path("PaxHeader/short-name").unwrap();
    extension.set_size(record.len() as u64);
    extension.set_cksum();
    builder.append(&extension, record.as_slice()).unwrap();
    let mut header = ::tar::Header::new_ustar();
    header.set_path("short-name").unwrap();
    header.set_size(5);
    header.set_cksum();
    builder.append(&header, &b"token"[..]).unwrap();
    let tar = builder.into_inner().unwrap();
    let (sink, stats) = run("t.tar", &tar, &Limits::default());
    assert_eq!(sink.members(), [long.as_str(), pax_name.as_str()]);
    assert_eq!(stats.members, 4);
    assert!(sink.skips.is_empty(), "{:?}", sink.skips);
}

/// One pax record: `<length> <key>=<value>\n`, the length counting itself.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut length = body.len();
    while (length.to_string().len() + body.len()) != length {
        length = length.to_string().len() + body.len();
    }
    format!("{length}{body}").into_bytes()
}

#[test]
fn corrupt_zip_is_a_skip_and_earlier_members_stay() {
    let (sink, _) = run(
        "bad.zip",
        b"PK\x03\x04 not really a zip",
        &Limits::default(),
    );
    assert_eq!(sink.skips.len(), 1);
    assert_eq!(sink.skips[0].path, "bad.zip");
    assert!(
        sink.skips[0].reason.starts_with("unreadable zip"),
        "{:?}",
        sink.skips
    );
    // Damage the second member's compressed data: the first is still read.
    let second = noise(4096, 7);
    let mut zip = zip_of(&[("first.txt", b"kept"), ("second.bin", &second)]);
    let at = zip.windows(10).position(|w| w == b"second.bin").unwrap() + 10 + 100;
    for byte in &mut zip[at..at + 64] {
        *byte ^= 0x5a;
    }
    let (sink, _) = run("half.zip", &zip, &Limits::default());
    assert_eq!(sink.members(), ["first.txt"]);
    assert_eq!(sink.skips.len(), 1);
    assert_eq!(sink.skips[0].path, "half.zip!second.bin");
}

#[test]
fn truncated_tgz_keeps_what_was_read() {
    let tgz = gzip(&tar_of(&[
        ("a.txt", b"first"),
        ("b.bin", &noise(64 << 10, 3)),
    ]));
    let cut = &tgz[..tgz.len() * 2 / 3];
    let (sink, stats) = run("cut.tgz", cut, &Limits::default());
    assert_eq!(sink.members(), ["a.txt"]);
    assert_eq!(sink.skips.len(), 1, "{:?}", sink.skips);
    assert_eq!(sink.skips[0].path, "cut.tgz!b.bin");
    assert!(sink.skips[0].reason.starts_with("unreadable"));
    assert_eq!(stats.stopped_by, None);
    // Garbage after the gzip magic.
    let (sink, _) = run("x.gz", b"\x1f\x8b\x08\x00garbage", &Limits::default());
    assert_eq!(sink.skips.len(), 1);
    assert_eq!(sink.skips[0].path, "x.gz");
}

#[test]
fn encrypted_member_is_a_skip() {
    use ::zip::unstable::write::FileOptionsExt;
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let secret = deflated().with_deprecated_encryption(b"hunter2").unwrap();
    writer.start_file("locked.pem", secret).unwrap();
    writer.write_all(&pem_key()).unwrap();
    writer.start_file("open.txt", deflated()).unwrap();
    writer.write_all(b"plain").unwrap();
    let zip = writer.finish().unwrap().into_inner();
    let (sink, _) = run("e.zip", &zip, &Limits::default());
    assert_eq!(sink.members(), ["open.txt"]);
    let skips: Vec<_> = sink
        .skips
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(skips, [("e.zip!locked.pem", "encrypted member")]);
}

#[test]
fn member_size_limit_skips_one_member_and_goes_on() {
    let limits = Limits {
        max_member_bytes: 1000,
        ..Limits::default()
    };
    let zip = zip_of(&[("big.txt", &[b'a'; 1001]), ("exact.txt", &[b'b'; 1000])]);
    let tar = tar_of(&[("big.txt", &[b'a'; 1001]), ("exact.txt", &[b'b'; 1000])]);
    for (name, bytes) in [
        ("m.zip", zip),
        ("m.tar", tar.clone()),
        ("m.tgz", gzip(&tar)),
    ] {
        let (sink, stats) = run(name, &bytes, &limits);
        assert_eq!(sink.members(), ["exact.txt"], "{name}");
        assert_eq!(sink.skips[0].path, format!("{name}!big.txt"));
        assert_eq!(
            sink.skips[0].reason,
            "member larger than 1000 bytes (max_member_bytes = 1000)"
        );
        assert_eq!(stats.stopped_by, None);
    }
}

#[test]
fn total_bytes_limit_keeps_what_came_before() {
    let limits = Limits {
        max_total_bytes: 100 << 10,
        ..Limits::default()
    };
    let tar = tar_of(&[
        ("a", &noise(60 << 10, 1)),
        ("b", &noise(60 << 10, 2)),
        ("c", b"c"),
    ]);
    let (sink, stats) = run("t.tgz", &gzip(&tar), &limits);
    assert_eq!(sink.members(), ["a"]);
    assert_eq!(sink.skips.len(), 1);
    assert_eq!(sink.skips[0].path, "t.tgz!b");
    assert!(
        sink.skips[0].reason.contains("max_total_bytes = 102400"),
        "{:?}",
        sink.skips
    );
    assert_eq!(stats.stopped_by, Some(Limit::TotalBytes));
    assert!(stats.expanded_bytes <= (100 << 10) + (64 << 10));
}

#[test]
fn not_an_archive_is_a_skip() {
    let (sink, stats) = run("notes.txt", b"hello", &Limits::default());
    assert!(sink.blobs.is_empty());
    assert_eq!(sink.skips[0].path, "notes.txt");
    assert_eq!(stats.archives, 0);
}
