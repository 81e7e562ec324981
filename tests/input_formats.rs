//! `--input-format csv` and `jsonl` end to end (issue 4, item 3): each CSV row or JSONL line is
//! one request with its own URL, method, headers and body, checked at the test server exactly;
//! what the input carries (`row`, `id`, `tag`) is in its record; a bad row or line is one
//! `invalid_input` record and the run goes on.

mod support;

use std::io::Write;

use serde_json::{json, Value};
use support::{assert_code, assert_usage_error, run_jsonl, volley};
use testbed::{Seen, Server};

/// A temporary file holding `text`.
fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

/// The requests the server saw, by path (the runs here may finish in any order).
fn seen_sorted(srv: &Server) -> Vec<Seen> {
    let mut seen = srv.requests();
    seen.sort_by(|a, b| a.path_and_query.cmp(&b.path_and_query));
    seen
}

/// `volley -j -q --keep-order ARGS…`, its exit code checked, its records in input order.
fn records(args: &[&str], code: i32) -> Vec<Value> {
    let mut a = vec!["--keep-order"];
    a.extend_from_slice(args);
    let out = run_jsonl(&a);
    assert_code(&out, code);
    out.records()
}

#[test]
fn csv_rows_fill_the_url_headers_and_body() {
    let srv = Server::start();
    let csv = file("sym,note\nVTSAX,plain\r\n\"a b/c\",\"with, comma and \"\"quote\"\"\"\n");
    let template = srv.url("/echo?s={sym}");
    let path = csv.path().to_str().unwrap();
    let recs = records(
        &[
            "--input-format",
            "csv",
            "-i",
            path,
            "--template",
            &template,
            "-H",
            "X-Note: [{note}]",
            "-H",
            "X-Fixed: {not-a-column}",
            "-d",
            "n={note}&s={sym}",
        ],
        0,
    );
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["input"], "VTSAX,plain");
    assert_eq!(recs[0]["url"], srv.url("/echo?s=VTSAX").as_str());
    assert_eq!(recs[0]["method"], "POST");
    assert_eq!(recs[0]["row"], json!({"sym": "VTSAX", "note": "plain"}));
    assert_eq!(
        recs[1]["input"],
        "\"a b/c\",\"with, comma and \"\"quote\"\"\""
    );
    assert_eq!(
        recs[1]["row"],
        json!({"sym": "a b/c", "note": "with, comma and \"quote\""})
    );
    assert!(recs[0].get("id").is_none() && recs[0].get("tag").is_none());

    let seen = seen_sorted(&srv);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path_and_query, "/echo?s=VTSAX");
    assert_eq!(seen[0].header("x-note"), Some("[plain]"));
    assert_eq!(seen[0].header("x-fixed"), Some("{not-a-column}"));
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen[0].body, b"n=plain&s=VTSAX");
    assert_eq!(seen[1].path_and_query, "/echo?s=a%20b%2Fc");
    assert_eq!(
        seen[1].header("x-note"),
        Some("[with, comma and \"quote\"]")
    );
    assert_eq!(seen[1].body, b"n=with, comma and \"quote\"&s=a b/c");
}

#[test]
fn csv_url_column_and_json_body_from_stdin() {
    let srv = Server::start();
    let data = format!("id,url,name\n1,{},\"multi\nline\"\n", srv.url("/echo"));
    let mut c = volley();
    c.args([
        "-j",
        "-q",
        "--input-format",
        "csv",
        "-X",
        "PUT",
        "--json",
        r#"{"name":"{name}"}"#,
    ]);
    let out = support::run_with(c, data.as_bytes(), std::time::Duration::from_secs(60));
    assert_code(&out, 0);
    let recs = out.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(
        recs[0]["row"],
        json!({"id": "1", "url": srv.url("/echo"), "name": "multi\nline"})
    );
    let seen = srv.requests();
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(seen[0].path_and_query, "/echo");
    assert_eq!(seen[0].body, b"{\"name\":\"multi\nline\"}");
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
}

#[test]
fn bad_csv_rows_are_one_invalid_input_record_each() {
    let srv = Server::start();
    let good = srv.url("/echo");
    let mut text = format!("url,n\n{good},1\n{good}\nftp://x.test/,2\n{good},3,extra\n");
    text.push_str(&format!("{good},\"{}\"\n", "a".repeat(70 * 1024)));
    text.push_str(&format!("{good},\"open\n"));
    let csv = file(&text);
    let recs = records(
        &["--input-format", "csv", "-i", csv.path().to_str().unwrap()],
        1,
    );
    let kinds: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| {
            (
                r["error"]["kind"].as_str().unwrap_or("-"),
                r["error"]["message"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("-", "-"),
            ("invalid_input", "row has 1 fields, the header has 2"),
            (
                "invalid_input",
                "unsupported scheme `ftp` (only http and https)"
            ),
            ("invalid_input", "row has 3 fields, the header has 2"),
            ("invalid_input", "CSV row is longer than 64 KiB"),
            ("invalid_input", "bad CSV row: a quoted field is not closed"),
        ]
    );
    assert_eq!(recs[1]["input"], good.as_str());
    assert_eq!(recs[1]["row"], Value::Null);
    assert_eq!(recs[2]["row"], json!({"url": "ftp://x.test/", "n": "2"}));
    assert_eq!(srv.request_count(), 1);
}

#[test]
fn jsonl_lines_are_whole_requests() {
    let srv = Server::start();
    let lines = [
        json!({"url": srv.url("/echo?a"), "id": 1, "tag": {"k": "v"}}),
        json!({"url": srv.url("/echo?b"), "method": "PATCH", "headers": {"X-A": "1", "Accept": "text/plain"}, "body": "raw"}),
        json!({"url": srv.url("/echo?c"), "json": {"n": [1, 2]}, "id": "c"}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let input = file(&text);
    let recs = records(
        &[
            "--input-format",
            "jsonl",
            "-i",
            input.path().to_str().unwrap(),
            "-H",
            "Accept: */*",
        ],
        0,
    );
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[0]["id"], 1);
    assert_eq!(recs[0]["tag"], json!({"k": "v"}));
    assert_eq!(recs[0]["method"], "GET");
    assert!(recs[1].get("id").is_none() && recs[1].get("tag").is_none());
    assert_eq!(recs[1]["method"], "PATCH");
    assert_eq!(recs[2]["id"], "c");
    assert!(recs[2].get("tag").is_none());
    assert_eq!(recs[2]["method"], "POST");
    assert!(recs.iter().all(|r| r.get("row").is_none()));

    let seen = seen_sorted(&srv);
    assert_eq!(seen.len(), 3);
    assert_eq!((seen[0].method.as_str(), seen[0].body.len()), ("GET", 0));
    assert_eq!(seen[0].header("accept"), Some("*/*"));
    assert_eq!(seen[1].method, "PATCH");
    assert_eq!(seen[1].header("x-a"), Some("1"));
    // The line's header replaces the run's.
    let accepts: Vec<&str> = seen[1]
        .headers
        .iter()
        .filter(|(n, _)| n == "accept")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(accepts, ["text/plain"]);
    assert_eq!(seen[1].body, b"raw");
    assert_eq!(seen[2].method, "POST");
    assert_eq!(seen[2].header("content-type"), Some("application/json"));
    assert_eq!(seen[2].body, br#"{"n":[1,2]}"#);
}

#[test]
fn write_out_json_carries_row_id_and_tag() {
    let srv = Server::start();
    let csv = file("sym\nVTSAX\n");
    let out = support::run_args(&[
        "-q",
        "--input-format",
        "csv",
        "-i",
        csv.path().to_str().unwrap(),
        "--template",
        &srv.url("/echo?s={sym}"),
        "-w",
        "%{json}",
    ]);
    assert_code(&out, 0);
    let rec: Value = serde_json::from_str(out.stdout.trim_end()).unwrap();
    assert_eq!(rec["row"], json!({"sym": "VTSAX"}));

    let line = json!({"url": srv.url("/echo"), "id": 7, "tag": "t"});
    let input = file(&format!("{line}\n"));
    let out = support::run_args(&[
        "-q",
        "--input-format",
        "jsonl",
        "-i",
        input.path().to_str().unwrap(),
        "-w",
        "%{id} %{json}",
    ]);
    assert_code(&out, 0);
    let (id, json) = out.stdout.trim_end().split_once(' ').unwrap();
    assert_eq!(id, "7");
    let rec: Value = serde_json::from_str(json).unwrap();
    assert_eq!((&rec["id"], &rec["tag"]), (&json!(7), &json!("t")));
    assert!(json.ends_with(r#""extract":{},"id":7,"tag":"t","saved_to":null,"error":null}"#));
}

#[test]
fn bad_jsonl_lines_are_one_invalid_input_record_each() {
    let srv = Server::start();
    let good = json!({"url": srv.url("/echo")}).to_string();
    let bad_header = json!({"url": srv.url("/echo"), "headers": {"X-A": "a\r\nX-B: b"}});
    let long = json!({"url": srv.url("/echo"), "body": "b".repeat(70 * 1024)});
    let lines = [
        good.clone(),
        "not json".to_owned(),
        json!({"id": 1}).to_string(),
        bad_header.to_string(),
        long.to_string(),
        good,
    ];
    let input = file(&(lines.join("\n") + "\n"));
    let recs = records(
        &[
            "--input-format",
            "jsonl",
            "-i",
            input.path().to_str().unwrap(),
        ],
        1,
    );
    let messages: Vec<&str> = recs
        .iter()
        .map(|r| r["error"]["message"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(messages.len(), 6);
    assert_eq!(messages[0], "-");
    assert!(
        messages[1].starts_with("not a JSON object: "),
        "{}",
        messages[1]
    );
    assert_eq!(messages[2], "no `url`");
    assert_eq!(
        messages[3],
        "header `X-A`: the value contains CR, LF or NUL"
    );
    assert_eq!(messages[4], "input line is longer than 64 KiB");
    assert_eq!(messages[5], "-");
    for r in &recs[1..5] {
        assert_eq!(r["error"]["kind"], "invalid_input");
    }
    assert_eq!(recs[1]["input"], "not json");
    assert_eq!(srv.request_count(), 2);
}

#[test]
fn per_request_credentials_do_not_follow_a_cross_origin_redirect() {
    let srv = Server::builder().hosts(2).start();
    let first = srv.host_url(0, &support::redirect_to(&srv.host_url(1, "/echo"), 302));
    let line = json!({"url": first, "headers": {
        "Authorization": "Bearer secret", "Cookie": "a=b", "X-Other": "kept"}});
    let recs = records(&["--input-format", "jsonl", &line.to_string()], 0);
    assert_eq!(recs[0]["redirects"], 1);
    let seen = srv.requests();
    let on = |host: usize| seen.iter().find(|s| s.host == host).unwrap();
    assert_eq!(on(0).header("authorization"), Some("Bearer secret"));
    assert_eq!(on(0).header("cookie"), Some("a=b"));
    assert_eq!(on(1).header("authorization"), None, "{:?}", on(1).headers);
    assert_eq!(on(1).header("cookie"), None, "{:?}", on(1).headers);
    assert_eq!(on(1).header("x-other"), Some("kept"));
}

#[test]
fn usage_errors_name_the_flag() {
    assert_usage_error(&["--input-format", "xml"], "--input-format");
    let csv = file("sym,note\nA,b\n");
    let path = csv.path().to_str().unwrap();
    assert_usage_error(
        &[
            "--input-format",
            "csv",
            "-i",
            path,
            "--template",
            "http://a.test/{nope}",
        ],
        "--template",
    );
    assert_usage_error(&["--input-format", "csv", "-i", path], "--input-format");
    assert_usage_error(
        &["--input-format", "jsonl", "--template", "http://a.test/{}"],
        "--template",
    );
}
