//! Tests of the save store: real files in temporary directories, planted symlinks included.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};

use super::*;

const URL: &str = "https://a.test/x/file.bin";

fn meta(url: &str) -> PartMeta {
    PartMeta {
        url: url.to_string(),
        etag: Some("\"abc\"".to_string()),
        last_modified: None,
        encoded: false,
    }
}

fn part_path(dir: &Path, key: &str) -> PathBuf {
    dir.join(PARTS_DIR).join(format!("{}.part", key_hex(key)))
}

fn meta_path(dir: &Path, key: &str) -> PathBuf {
    dir.join(PARTS_DIR).join(format!("{}.json", key_hex(key)))
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Leaves a kept part with `bytes` for `URL` in `dir`.
fn kept(dir: &Path, bytes: &[u8]) {
    let store = Store::open(dir, false).unwrap();
    let mut part = store.begin(URL, meta(URL), None).unwrap();
    part.write(bytes).unwrap();
    part.keep();
}

#[test]
fn key_hex_is_sha1() {
    assert_eq!(key_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

#[test]
fn begin_write_commit_makes_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    assert_eq!(store.dir(), tmp.path());
    let mut part = store.begin(URL, meta(URL), None).unwrap();
    part.write(b"hello ").unwrap();
    part.write(b"world").unwrap();
    assert_eq!(part.len(), 11);
    assert_eq!(part.prefix_len(), 0);
    assert_eq!(mode(&part_path(tmp.path(), URL)), 0o600);
    let path = part.commit(Path::new("out.txt")).unwrap();
    assert_eq!(path, tmp.path().join("out.txt"));
    assert_eq!(fs::read(&path).unwrap(), b"hello world");
    assert!(store.exists(Path::new("out.txt")));
    // The part and its metadata are gone; only the state dir remains beside the file.
    assert_eq!(listing(&tmp.path().join(PARTS_DIR)), Vec::<String>::new());
    assert_eq!(listing(tmp.path()), [".volley-parts", "out.txt"]);
}

#[test]
fn modes_of_committed_file_and_parts_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    assert_eq!(mode(&tmp.path().join(PARTS_DIR)), 0o700);
    let part = store.begin(URL, meta(URL), None).unwrap();
    let path = part.commit(Path::new("d/f")).unwrap();
    assert_eq!(mode(&path), 0o644 & !umask());
    assert_eq!(mode(&tmp.path().join("d")), 0o755 & !umask());
}

#[test]
fn open_creates_nested_dir_and_tightens_parts_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/c");
    fs::create_dir_all(dir.join(PARTS_DIR)).unwrap();
    fs::set_permissions(dir.join(PARTS_DIR), fs::Permissions::from_mode(0o755)).unwrap();
    Store::open(&dir, false).unwrap();
    assert_eq!(mode(&dir.join(PARTS_DIR)), 0o700);
}

#[test]
fn open_follows_a_symlinked_dir_but_rejects_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    fs::create_dir(&real).unwrap();
    symlink(&real, tmp.path().join("link")).unwrap();
    let store = Store::open(&tmp.path().join("link"), false).unwrap();
    let part = store.begin(URL, meta(URL), None).unwrap();
    part.commit(Path::new("f")).unwrap();
    assert_eq!(fs::read(real.join("f")).unwrap(), b"");

    fs::write(tmp.path().join("file"), b"x").unwrap();
    let err = Store::open(&tmp.path().join("file"), false).unwrap_err();
    assert!(err.to_string().contains("file"), "{err}");
}

#[test]
fn open_rejects_a_symlinked_parts_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    symlink(outside.path(), tmp.path().join(PARTS_DIR)).unwrap();
    let err = Store::open(tmp.path(), false).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
    assert_eq!(listing(outside.path()), Vec::<String>::new());
}

#[test]
fn commit_creates_nested_dirs() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    let mut part = store.begin(URL, meta(URL), None).unwrap();
    part.write(b"deep").unwrap();
    let path = part.commit(Path::new("files/a.test/x/y.bin")).unwrap();
    assert_eq!(path, tmp.path().join("files/a.test/x/y.bin"));
    assert_eq!(fs::read(&path).unwrap(), b"deep");
    assert!(store.exists(Path::new("files/a.test")));
    assert!(!store.exists(Path::new("files/a.test/x/z.bin")));
}

#[test]
fn commit_refuses_an_existing_file_and_keeps_the_part() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("out"), b"old").unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    let mut part = store.begin(URL, meta(URL), None).unwrap();
    part.write(b"new").unwrap();
    let err = part.commit(Path::new("out")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(fs::read(tmp.path().join("out")).unwrap(), b"old");
    assert_eq!(fs::read(part_path(tmp.path(), URL)).unwrap(), b"new");
    let partial = store.partial(URL).unwrap();
    assert_eq!(partial.len, 3);
    assert_eq!(partial.meta, meta(URL));
}

#[test]
fn no_replace_and_its_fallback_refuse_an_existing_file() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    fs::write(tmp.path().join("taken"), b"old").unwrap();
    fs::write(tmp.path().join(PARTS_DIR).join("p"), b"new").unwrap();
    let inner = &store.inner;
    let err = no_replace(
        &inner.parts,
        "p",
        inner.dir.as_fd(),
        "taken",
        Path::new("t"),
    )
    .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    let err = link_then_unlink(
        &inner.parts,
        "p",
        inner.dir.as_fd(),
        "taken",
        Path::new("t"),
    )
    .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(fs::read(tmp.path().join("taken")).unwrap(), b"old");

    link_then_unlink(&inner.parts, "p", inner.dir.as_fd(), "free", Path::new("t")).unwrap();
    assert_eq!(fs::read(tmp.path().join("free")).unwrap(), b"new");
    assert_eq!(listing(&tmp.path().join(PARTS_DIR)), Vec::<String>::new());

    fs::write(tmp.path().join(PARTS_DIR).join("q"), b"newer").unwrap();
    no_replace(
        &inner.parts,
        "q",
        inner.dir.as_fd(),
        "free2",
        Path::new("t"),
    )
    .unwrap();
    assert_eq!(fs::read(tmp.path().join("free2")).unwrap(), b"newer");
}

#[test]
fn overwrite_replaces_a_file_but_not_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("out"), b"old").unwrap();
    fs::create_dir(tmp.path().join("dir")).unwrap();
    let store = Store::open(tmp.path(), true).unwrap();
    let mut part = store.begin(URL, meta(URL), None).unwrap();
    part.write(b"new").unwrap();
    part.commit(Path::new("out")).unwrap();
    assert_eq!(fs::read(tmp.path().join("out")).unwrap(), b"new");

    let part = store.begin(URL, meta(URL), None).unwrap();
    let err = part.commit(Path::new("dir")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
    assert!(tmp.path().join("dir").is_dir());
    assert!(part_path(tmp.path(), URL).exists());
}

#[test]
fn overwrite_replaces_a_symlink_not_its_target() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("victim");
    fs::write(&target, b"precious").unwrap();
    symlink(&target, tmp.path().join("out")).unwrap();
    let store = Store::open(tmp.path(), true).unwrap();
    let mut part = store.begin(URL, meta(URL), None).unwrap();
    part.write(b"new").unwrap();
    part.commit(Path::new("out")).unwrap();
    let out = tmp.path().join("out");
    assert!(fs::symlink_metadata(&out).unwrap().file_type().is_file());
    assert_eq!(fs::read(&out).unwrap(), b"new");
    assert_eq!(fs::read(&target).unwrap(), b"precious");
}

#[test]
fn without_overwrite_a_symlink_at_the_name_counts_as_existing() {
    let tmp = tempfile::tempdir().unwrap();
    symlink("/nonexistent/target", tmp.path().join("out")).unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    assert!(store.exists(Path::new("out")));
    let part = store.begin(URL, meta(URL), None).unwrap();
    let err = part.commit(Path::new("out")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
}

#[test]
fn symlinked_intermediate_dir_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("files")).unwrap();
    symlink(outside.path(), tmp.path().join("files/a.test")).unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    assert!(!store.exists(Path::new("files/a.test/x")));
    let part = store.begin(URL, meta(URL), None).unwrap();
    let err = part.commit(Path::new("files/a.test/x/y")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
    assert_eq!(
        err.to_string(),
        format!(
            "{}: not a directory (a symlink or file is in the way)",
            tmp.path().join("files/a.test").display()
        )
    );
    assert_eq!(listing(outside.path()), Vec::<String>::new());
    assert!(part_path(tmp.path(), URL).exists());
}

#[test]
fn symlink_to_a_dir_inside_is_refused_too() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("real")).unwrap();
    symlink("real", tmp.path().join("alias")).unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    let part = store.begin(URL, meta(URL), None).unwrap();
    let err = part.commit(Path::new("alias/f")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
    assert_eq!(listing(&tmp.path().join("real")), Vec::<String>::new());
}

#[test]
fn file_in_the_way_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("a"), b"x").unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    let part = store.begin(URL, meta(URL), None).unwrap();
    let err = part.commit(Path::new("a/b")).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
    assert_eq!(fs::read(tmp.path().join("a")).unwrap(), b"x");
}

#[test]
fn symlink_at_the_part_path_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("victim");
    fs::write(&target, b"precious").unwrap();
    kept(tmp.path(), b"abc");
    let part = part_path(tmp.path(), URL);
    fs::remove_file(&part).unwrap();
    symlink(&target, &part).unwrap();

    let store = Store::open(tmp.path(), false).unwrap();
    assert!(store.partial(URL).is_none());
    let fake = Partial {
        len: 3,
        meta: meta(URL),
    };
    let err = store.begin(URL, meta(URL), Some(&fake)).unwrap_err();
    // ELOOP from O_NOFOLLOW, reported with the part's path.
    assert!(err.to_string().ends_with("(os error 40)"), "{err}");
    assert_eq!(fs::read(&target).unwrap(), b"precious");

    let mut fresh = store.begin(URL, meta(URL), None).unwrap();
    fresh.write(b"new").unwrap();
    fresh.keep();
    assert_eq!(fs::read(&target).unwrap(), b"precious");
    assert!(fs::symlink_metadata(&part).unwrap().file_type().is_file());
    assert_eq!(fs::read(&part).unwrap(), b"new");
}

#[test]
fn keep_then_a_new_store_finds_the_partial() {
    let tmp = tempfile::tempdir().unwrap();
    kept(tmp.path(), b"0123456789");
    let store = Store::open(tmp.path(), false).unwrap();
    let partial = store.partial(URL).unwrap();
    assert_eq!(partial.len, 10);
    assert_eq!(partial.meta, meta(URL));
    assert!(store.partial("https://a.test/other").is_none());
}

#[test]
fn partial_ignores_bad_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    kept(tmp.path(), b"abc");
    let store = Store::open(tmp.path(), false).unwrap();
    let meta_file = meta_path(tmp.path(), URL);

    fs::write(&meta_file, b"{not json").unwrap();
    assert!(store.partial(URL).is_none());

    let other = serde_json::to_vec(&meta("https://a.test/other")).unwrap();
    fs::write(&meta_file, other).unwrap();
    assert!(store.partial(URL).is_none());

    fs::remove_file(&meta_file).unwrap();
    assert!(store.partial(URL).is_none());
}

#[test]
fn partial_ignores_an_empty_part() {
    let tmp = tempfile::tempdir().unwrap();
    kept(tmp.path(), b"");
    let store = Store::open(tmp.path(), false).unwrap();
    assert!(store.partial(URL).is_none());
}

#[test]
fn resume_appends_and_read_prefix_yields_the_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    kept(tmp.path(), b"hello ");
    let store = Store::open(tmp.path(), false).unwrap();
    let partial = store.partial(URL).unwrap();
    let mut part = store
        .begin(URL, partial.meta.clone(), Some(&partial))
        .unwrap();
    assert_eq!(part.len(), 6);
    assert_eq!(part.prefix_len(), 6);
    part.write(b"world").unwrap();
    assert_eq!(part.len(), 11);
    let mut seen = Vec::new();
    part.read_prefix(|b| seen.extend_from_slice(b)).unwrap();
    assert_eq!(seen, b"hello ");
    let path = part.commit(Path::new("out")).unwrap();
    assert_eq!(fs::read(path).unwrap(), b"hello world");
}

#[test]
fn resume_cuts_bytes_beyond_from_len() {
    let tmp = tempfile::tempdir().unwrap();
    kept(tmp.path(), b"abcdef");
    let store = Store::open(tmp.path(), false).unwrap();
    let short = Partial {
        len: 2,
        meta: meta(URL),
    };
    let mut part = store.begin(URL, meta(URL), Some(&short)).unwrap();
    part.write(b"XY").unwrap();
    let path = part.commit(Path::new("out")).unwrap();
    assert_eq!(fs::read(path).unwrap(), b"abXY");

    kept(tmp.path(), b"ab");
    let long = Partial {
        len: 5,
        meta: meta(URL),
    };
    let err = store.begin(URL, meta(URL), Some(&long)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
}

#[test]
fn begin_without_from_truncates_an_old_part_and_rewrites_meta() {
    let tmp = tempfile::tempdir().unwrap();
    kept(tmp.path(), b"old bytes");
    let store = Store::open(tmp.path(), false).unwrap();
    let mut newer = meta(URL);
    newer.etag = None;
    newer.encoded = true;
    let mut part = store.begin(URL, newer.clone(), None).unwrap();
    assert_eq!(part.len(), 0);
    let mut seen = Vec::new();
    part.read_prefix(|b| seen.extend_from_slice(b)).unwrap();
    assert_eq!(seen, b"");
    part.write(b"n").unwrap();
    part.keep();
    let partial = store.partial(URL).unwrap();
    assert_eq!(partial.len, 1);
    assert_eq!(partial.meta, newer);
}

#[test]
fn begin_rejects_meta_for_another_url() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    let err = store
        .begin(URL, meta("https://a.test/other"), None)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(listing(&tmp.path().join(PARTS_DIR)), Vec::<String>::new());
}

#[test]
fn discard_removes_part_and_meta() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    let mut part = store.begin(URL, meta(URL), None).unwrap();
    part.write(b"gone").unwrap();
    assert!(part_path(tmp.path(), URL).exists());
    assert!(meta_path(tmp.path(), URL).exists());
    part.discard();
    assert_eq!(listing(&tmp.path().join(PARTS_DIR)), Vec::<String>::new());
    assert!(store.partial(URL).is_none());
}

#[test]
fn large_writes_survive_buffering() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path(), false).unwrap();
    let body: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut part = store.begin(URL, meta(URL), None).unwrap();
    for chunk in body.chunks(16 * 1024 + 7) {
        part.write(chunk).unwrap();
    }
    part.keep();
    let partial = store.partial(URL).unwrap();
    assert_eq!(partial.len, 1_000_000);
    let mut part = store.begin(URL, meta(URL), Some(&partial)).unwrap();
    let mut seen = Vec::new();
    part.read_prefix(|b| seen.extend_from_slice(b)).unwrap();
    assert_eq!(seen, body);
}

#[test]
fn bad_rel_paths_are_invalid_input() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("save");
    let store = Store::open(&dir, false).unwrap();
    for rel in ["../escape", "a/../../escape", "/tmp/escape", "./a", ""] {
        let part = store.begin(URL, meta(URL), None).unwrap();
        let err = part.commit(Path::new(rel)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{rel}");
        assert!(!store.exists(Path::new(rel)), "{rel}");
        assert!(part_path(&dir, URL).exists(), "{rel}");
    }
    assert_eq!(listing(tmp.path()), ["save"]);
    assert_eq!(listing(&dir), [".volley-parts"]);
}
