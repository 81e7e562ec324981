//! `--save DIR` end to end (issue 5): bodies stream to files named after the URL, the record
//! says where, nothing is overwritten unless asked, names never leave DIR, decoding and caps
//! apply, `--hash` gives the file's digest. Resume and big bodies are in `save_resume.rs`.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{assert_code, assert_usage_error, only_record, run_jsonl, single};
use testbed::Server;

/// `host_port` as the mirror layout writes it for the server's plain host 0.
fn host_dir(srv: &Server) -> String {
    let a = srv.host_addr(0);
    format!("{}_{}", a.ip(), a.port())
}

/// Every file under `dir` (recursively), relative, sorted; the parts directory left out.
fn files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let kind = e.file_type().unwrap();
            if kind.is_dir() && rel != ".volley-parts" {
                walk(base, &path, out);
            } else if !kind.is_dir() {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The body the server sends for `path` (fetched by volley itself, without saving).
fn body_of(srv: &Server, path: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let r = single(["--save", dir.path().to_str().unwrap(), &srv.url(path)]);
    fs::read(r["saved_to"].as_str().unwrap()).unwrap()
}

#[test]
fn bodies_are_saved_under_mirrored_names() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let urls = [
        srv.url("/page/1"),
        srv.url("/page/2?x=1"),
        srv.url("/"),
        srv.url("/bytes/100000"),
        srv.url("/redirect/2"),
    ];
    let mut args = vec![
        "--keep-order",
        "--save",
        d,
        "-e",
        "h=css:h1",
        "-e",
        "n=re:Page (\\d+)",
    ];
    args.extend(urls.iter().map(String::as_str));
    let out = run_jsonl(&args);
    assert_code(&out, 0);
    let recs = out.records();
    // Extractors see the streamed bytes as without --save.
    assert_eq!(
        recs[0]["extract"],
        serde_json::json!({"h": "Page 1", "n": "1"})
    );
    let host = host_dir(&srv);
    let saved: Vec<&str> = recs
        .iter()
        .map(|r| r["saved_to"].as_str().unwrap())
        .collect();
    let query = &recs[1]["saved_to"].as_str().unwrap()[d.len() + host.len() + 9..];
    assert_eq!(query.len(), 8, "{query}");
    assert_eq!(
        saved,
        [
            format!("{d}/{host}/page/1"),
            format!("{d}/{host}/page/2.{query}"),
            format!("{d}/{host}/index.html"),
            format!("{d}/{host}/bytes/100000"),
            // Named after the input, not the end of its redirect chain.
            format!("{d}/{host}/redirect/2"),
        ]
    );
    assert_eq!(fs::read(saved[3]).unwrap(), vec![b'a'; 100_000]);
    assert_eq!(recs[3]["bytes"], 100_000);
    let page = fs::read_to_string(saved[0]).unwrap();
    assert!(page.contains("<title>Page 1</title>"), "{page}");
    // Title and record fields as without --save.
    assert_eq!(recs[0]["title"], "Page 1");
    assert_eq!(recs[4]["title"], "Hello testbed");
    assert_eq!(
        files(dir.path()),
        [
            format!("{host}/bytes/100000"),
            format!("{host}/index.html"),
            format!("{host}/page/1"),
            format!("{host}/page/2.{query}"),
            format!("{host}/redirect/2"),
        ]
    );
    // No part is left behind.
    let parts = dir.path().join(".volley-parts");
    assert_eq!(fs::read_dir(parts).unwrap().count(), 0);
}

#[test]
fn only_successful_bodies_are_saved() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = run_jsonl([
        "--keep-order",
        "--save",
        d,
        &srv.url("/status/404"),
        &srv.url("/status/204"),
        &srv.url("/status/500"),
    ]);
    assert_code(&out, 1);
    for r in out.records() {
        assert_eq!(r["saved_to"], Value::Null, "{r}");
    }
    let r = single(["-I", "--save", d, &srv.url("/page/1")]);
    assert_eq!((&r["status"], &r["saved_to"]), (&200.into(), &Value::Null));
    assert!(files(dir.path()).is_empty());
}

#[test]
fn an_existing_file_is_kept_and_not_fetched_unless_overwrite() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let target = dir.path().join(host_dir(&srv)).join("page/1");
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::write(&target, "mine").unwrap();

    let r = single(["--save", d, &srv.url("/page/1")]);
    assert_eq!(r["error"]["kind"], "exists", "{r}");
    assert_eq!(
        r["error"]["message"],
        format!(
            "{} already exists; not overwritten (--overwrite replaces it)",
            target.display()
        )
    );
    assert_eq!((&r["attempts"], &r["saved_to"]), (&0.into(), &Value::Null));
    assert!(srv.requests().is_empty(), "nothing is fetched");
    assert_eq!(fs::read_to_string(&target).unwrap(), "mine");

    let r = single(["--save", d, "--overwrite", &srv.url("/page/1")]);
    assert_eq!(r["saved_to"], target.to_str().unwrap());
    assert!(fs::read_to_string(&target).unwrap().contains("Page 1"));
}

#[test]
fn save_name_templates_place_files() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = run_jsonl([
        "--keep-order",
        "--save",
        d,
        "--save-name",
        "{index}-{name}",
        &srv.url("/page/7"),
        &srv.url("/json/3"),
    ]);
    assert_code(&out, 0);
    assert_eq!(files(dir.path()), ["0-7", "1-3"]);
    assert_eq!(
        fs::read_to_string(dir.path().join("1-3")).unwrap(),
        r#"{"id":3,"name":"item 3"}"#
    );

    assert_usage_error(
        &["--save", d, "--save-name", "{nope}", "http://x.test/"],
        "--save-name",
    );
    assert_usage_error(&["--save-name", "{name}", "http://x.test/"], "--save");
    assert_usage_error(&["--hash", "md5", "http://x.test/"], "--hash");
}

#[test]
fn hostile_names_stay_inside_the_directory() {
    let srv = Server::start();
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let long = "n".repeat(300);
    // URL paths: the mirror layout decodes each segment and neutralises what it finds.
    let urls = [
        srv.url("/page/..%2F..%2Fx"),
        srv.url("/page/..%5C..%5Cz"),
        srv.url("/page/nul%00esc%1B"),
        srv.url(&format!("/page/{long}")),
        // A dot-dot segment, encoded: the URL parser resolves it (to `/`) before naming.
        srv.url("/page/%2e%2e"),
    ];
    let mut args = vec!["--keep-order", "--save", d, "--save-name", "u/{path}"];
    args.extend(urls.iter().map(String::as_str));
    let out = run_jsonl(&args);
    assert_code(&out, 0);
    let rel = |r: &Value| {
        let p = PathBuf::from(r["saved_to"].as_str().unwrap());
        p.strip_prefix(dir.path())
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let names: Vec<String> = out.records().iter().map(rel).collect();
    assert_eq!(names[0], "u/page/.._.._x");
    assert_eq!(names[1], "u/page/.._.._z");
    assert_eq!(names[2], "u/page/nul_esc_");
    let last = names[3].rsplit('/').next().unwrap();
    assert!(last.len() <= 255 && last.starts_with("nnnn"), "{last}");
    assert_eq!(names[4], "u/index.html");

    // Server-chosen names (Content-Disposition): only a sanitised base name is used.
    let disposition = |v: &str| srv.url(&format!("/headers?Content-Disposition={}", url_encode(v)));
    let out = run_jsonl([
        "--keep-order",
        "--save",
        d,
        "--content-disposition",
        "--save-name",
        "cd/{index}-{name}",
        &disposition("attachment; filename=\"../../etc/passwd\""),
        &disposition("attachment; filename=\"/etc/passwd\""),
        &disposition("attachment; filename=\"..\\\\..\\\\x\""),
        &disposition("attachment; filename*=UTF-8''a%1B%5B2Jb%E2%80%AEc"),
        &disposition(&format!("attachment; filename=\"{long}\"")),
        &disposition("attachment; filename=\"..\""),
    ]);
    assert_code(&out, 0);
    let names: Vec<String> = out.records().iter().map(rel).collect();
    assert_eq!(
        names[..4],
        ["cd/0-passwd", "cd/1-passwd", "cd/2-x", "cd/3-a_[2Jb_c"]
    );
    let last = names[4].rsplit('/').next().unwrap();
    assert!(last.len() <= 255 && last.starts_with("4-nnnn"), "{last}");
    // An unusable name falls back to the URL's (with its query's hash).
    assert!(names[5].starts_with("cd/5-headers."), "{}", names[5]);

    // A symlink planted in DIR where the host's directory would go: refused, nothing is
    // written where it points.
    std::os::unix::fs::symlink(outside.path(), dir.path().join(host_dir(&srv))).unwrap();
    let r = single(["--save", d, &srv.url("/page/1")]);
    assert_eq!(r["error"]["kind"], "io", "{r}");
    assert_eq!(r["status"], 200);
    assert!(fs::read_dir(outside.path()).unwrap().next().is_none());
    let all = files(dir.path());
    assert!(
        all.iter()
            .all(|f| f.starts_with("u/") || f.starts_with("cd/") || f == &host_dir(&srv)),
        "{all:?}"
    );
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn bodies_are_decoded_unless_raw_and_capped() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let plain = body_of(&srv, "/");
    let r = single(["--save", d, &srv.url("/gzip")]);
    assert_eq!(fs::read(r["saved_to"].as_str().unwrap()).unwrap(), plain);

    let raw_dir = tempfile::tempdir().unwrap();
    let r = single([
        "--save",
        raw_dir.path().to_str().unwrap(),
        "--raw",
        &srv.url("/gzip"),
    ]);
    let raw = fs::read(r["saved_to"].as_str().unwrap()).unwrap();
    assert_eq!(&raw[..2], [0x1f, 0x8b], "still gzip");
    assert_eq!(r["title"], "Hello testbed", "decoded for the title");

    // Bigger than --max-body is fine when saving (it bounds what extractors see)…
    let r = single(["--save", d, "--max-body", "1KiB", &srv.url("/bytes/100000")]);
    assert_eq!(r["bytes"], 100_000);
    // …--max-filesize is the cap for files, counted after decoding.
    let r = single([
        "--save",
        d,
        "--max-filesize",
        "50KiB",
        &srv.url("/bytes-chunked/100000"),
    ]);
    assert_eq!(r["error"]["kind"], "body_too_large", "{r}");
    assert_eq!(r["saved_to"], Value::Null);
    let r = single([
        "--save",
        d,
        "--max-filesize",
        "1KiB",
        "--overwrite",
        "--max-body",
        "64KiB",
        &srv.url("/gzip-bomb?mb=4"),
    ]);
    assert_eq!(r["error"]["kind"], "body_too_large", "{r}");
    assert!(!files(dir.path())
        .iter()
        .any(|f| f.contains("bytes-chunked") || f.contains("gzip-bomb")));
}

#[test]
fn hash_is_the_saved_files_digest() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let r = single(["--save", d, "--hash", "sha256", &srv.url("/bytes/70000")]);
    assert_eq!(r["sha256"], sha256_hex(&vec![b'a'; 70_000]));
    // Without --save: the digest of the (decoded) body.
    let plain = body_of(&srv, "/");
    let r = single(["--hash", "sha256", &srv.url("/gzip")]);
    assert_eq!(r["sha256"], sha256_hex(&plain));
    let out = support::run_args(&["-q", "--csv", "--hash", "sha256", &srv.url("/")]);
    let header = out.stdout.lines().next().unwrap().to_owned();
    assert!(
        header.ends_with(",saved_to,sha256,error_kind,error_message"),
        "{header}"
    );
    let r = only_record(&run_jsonl([&srv.url("/")]));
    assert!(r.get("sha256").is_none());
}

#[test]
fn a_server_chosen_name_that_is_taken_is_reported_after_the_fetch() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let url = |seed: u32| {
        srv.url(&format!(
            "/file/dl?seed={seed}&size=5000&disposition=attachment%3B%20filename%3Dreport.pdf"
        ))
    };
    let out = run_jsonl([
        "-c",
        "1",
        "--keep-order",
        "--save",
        d,
        "--content-disposition",
        &url(1),
        &url(2),
    ]);
    assert_code(&out, 1);
    let recs = out.records();
    let host = host_dir(&srv);
    assert_eq!(recs[0]["saved_to"], format!("{d}/{host}/file/report.pdf"));
    assert_eq!(recs[1]["error"]["kind"], "exists", "{}", recs[1]);
    assert_eq!(recs[1]["status"], 200);
    assert_eq!(files(dir.path()), [format!("{host}/file/report.pdf")]);
    assert_eq!(
        fs::read_dir(dir.path().join(".volley-parts"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        fs::read(dir.path().join(&host).join("file/report.pdf")).unwrap(),
        testbed::files::file_bytes(1, 0, 5000)
    );
}
