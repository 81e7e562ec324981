//! Output formats: the default text line, JSON Lines (schema, key order, values), CSV (header,
//! quoting, formula neutralising), `--fields`, `-o FILE`, `--keep-order`, escaping of control and
//! bidi characters from the network, and the summary / progress on stderr.
mod support;

use std::fmt;
use std::time::Duration;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{json, Value};
use support::{assert_code, closed_port, run, run_args, volley, Output};
use testbed::pages::{expected_title, HTML_UTF8, PLAIN};

/// The schema's keys, in order (DESIGN §2).
const SCHEMA_KEYS: [&str; 18] = [
    "index",
    "input",
    "url",
    "final_url",
    "method",
    "status",
    "ok",
    "title",
    "server",
    "content_type",
    "content_length",
    "bytes",
    "redirects",
    "attempts",
    "elapsed_ms",
    "extract",
    "saved_to",
    "error",
];

/// The default CSV header: the schema with `error` split in two (see `src/output/format.rs`).
const CSV_HEADER: &str = "index,input,url,final_url,method,status,ok,title,server,content_type,\
content_length,bytes,redirects,attempts,elapsed_ms,extract,saved_to,error_kind,error_message";

/// The top-level keys of a JSON object, in the order they appear in the text.
fn keys_in_order(line: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(k) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                keys.push(k);
            }
            Ok(keys)
        }
    }
    let mut de = serde_json::Deserializer::from_str(line);
    de.deserialize_map(Keys)
        .unwrap_or_else(|e| panic!("not a JSON object {line:?}: {e}"))
}

/// A minimal RFC 4180 reader: rows of cells (quoted cells may hold `,` and `""`).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => quoted = false,
                c => cell.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(cell.is_empty(), "quote inside an unquoted cell in {text:?}");
                quoted = true;
            }
            ',' => row.push(std::mem::take(&mut cell)),
            '\n' => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            c => cell.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted cell in {text:?}");
    assert!(
        cell.is_empty() && row.is_empty(),
        "last row does not end in a newline: {text:?}"
    );
    rows
}

/// Whether `s` is an elapsed time as the text format prints it: `12ms` or `1.2s`.
fn is_elapsed(s: &str) -> bool {
    if let Some(ms) = s.strip_suffix("ms") {
        return !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit());
    }
    match s.strip_suffix('s').and_then(|x| x.split_once('.')) {
        Some((a, b)) => {
            !a.is_empty()
                && a.bytes().all(|b| b.is_ascii_digit())
                && b.len() == 1
                && b.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Text

#[test]
fn text_line_for_an_ok_page() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let out = run_args(&["-q", &url]);
    assert_code(&out, 0);
    let prefix = format!("200 {url} [Hello testbed] [testbed] {}B ", PLAIN.len());
    assert!(out.stdout.ends_with('\n'), "{:?}", out.stdout);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{:?}", out.stdout);
    let rest = lines[0]
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{:?} does not start with {prefix:?}", lines[0]));
    assert!(is_elapsed(rest), "elapsed part {rest:?} of {:?}", lines[0]);
}

#[test]
fn text_line_for_an_invalid_input() {
    let out = run_args(&["-q", "ftp://x/"]);
    assert_code(&out, 1);
    assert_eq!(
        out.stdout,
        "ERR ftp://x/ error=invalid_input: unsupported scheme `ftp` (only http and https)\n"
    );
}

#[test]
fn text_line_for_a_404_page() {
    let srv = testbed::Server::start();
    let url = srv.url("/nope");
    let out = run_args(&["-q", &url]);
    assert_code(&out, 1);
    let body_len = testbed::pages::small("Not Found", "no such route").len();
    let prefix = format!("404 {url} [Not Found] [testbed] {body_len}B ");
    let line = out.stdout.strip_suffix('\n').expect("one line");
    assert!(!line.contains('\n'), "{:?}", out.stdout);
    let rest = line
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"));
    assert!(is_elapsed(rest), "elapsed part {rest:?} of {line:?}");
}

#[test]
fn text_lines_one_per_input() {
    let srv = testbed::Server::start();
    let urls: Vec<String> = (0..5).map(|i| srv.url(&format!("/page/{i}"))).collect();
    let mut args = vec!["-q".to_owned()];
    args.extend(urls.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_args(&args);
    assert_code(&out, 0);
    let mut titles: Vec<String> = out
        .stdout
        .lines()
        .map(|l| {
            let start = l.find(" [").expect("title") + 2;
            let end = l[start..].find(']').expect("title end") + start;
            format!("{} {}", &l[..start - 2], &l[start..end])
        })
        .collect();
    titles.sort();
    let want: Vec<String> = (0..5)
        .map(|i| format!("200 {} Page {i}", urls[i]))
        .collect();
    assert_eq!(titles, want);
}

// ---------------------------------------------------------------------------------------------
// JSON Lines

#[test]
fn jsonl_record_has_the_schema_keys_in_order_and_exact_values() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let out = run_args(&["-j", "-q", &url]);
    assert_code(&out, 0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{:?}", out.stdout);
    assert_eq!(keys_in_order(lines[0]), SCHEMA_KEYS);
    let mut rec: Value = serde_json::from_str(lines[0]).unwrap();
    let elapsed = rec["elapsed_ms"].as_f64().expect("elapsed_ms is a number");
    assert!(elapsed >= 0.0, "{elapsed}");
    rec["elapsed_ms"] = json!("checked");
    let len = PLAIN.len();
    assert_eq!(
        rec,
        json!({
            "index": 0,
            "input": url,
            "url": url,
            "final_url": url,
            "method": "GET",
            "status": 200,
            "ok": true,
            "title": "Hello testbed",
            "server": "testbed",
            "content_type": HTML_UTF8,
            "content_length": len,
            "bytes": len,
            "redirects": 0,
            "attempts": 1,
            "elapsed_ms": "checked",
            "extract": {},
            "saved_to": null,
            "error": null,
        })
    );
}

#[test]
fn jsonl_every_line_parses_with_schema_keys_for_every_outcome() {
    let srv = testbed::Server::start();
    let closed = closed_port();
    let inputs = [
        srv.url("/title/plain"),
        srv.url("/status/404"),
        srv.url("/title/control"),
        srv.url("/page/3"),
        "ftp://x/".to_owned(),
        "example.com".to_owned(),
        format!("http://127.0.0.1:{closed}/"),
    ];
    let mut c = volley();
    c.args(["-j", "-q"]).args(&inputs);
    let out = run(c);
    assert_code(&out, 1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), inputs.len(), "{:?}", out.stdout);
    for line in &lines {
        assert_eq!(keys_in_order(line), SCHEMA_KEYS, "{line}");
    }
    let recs = out.records_by_index();
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r["index"], i, "{r}");
        assert_eq!(r["input"], inputs[i], "{r}");
    }
    let kinds: Vec<Value> = recs.iter().map(|r| r["error"]["kind"].clone()).collect();
    assert_eq!(
        kinds,
        [
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            json!("invalid_input"),
            json!("invalid_input"),
            json!("connect"),
        ]
    );
    assert_eq!(recs[1]["status"], 404);
    assert_eq!(recs[1]["ok"], false);
    assert_eq!(recs[3]["title"], "Page 3");
    assert_eq!(recs[6]["status"], Value::Null);
    assert_eq!(recs[6]["ok"], false);
}

// ---------------------------------------------------------------------------------------------
// CSV

#[test]
fn csv_header_and_one_row_per_input() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let out = run_args(&["--csv", "-q", &url, "ftp://x/"]);
    assert_code(&out, 1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{:?}", out.stdout);
    assert_eq!(lines[0], CSV_HEADER);
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row.len(), 19, "{row:?}");
    }
    let mut data = rows[1..].to_vec();
    data.sort_by(|a, b| a[0].cmp(&b[0]));
    let len = PLAIN.len().to_string();
    let ok = &data[0];
    assert!(
        ok[14].parse::<f64>().is_ok_and(|x| x >= 0.0),
        "elapsed_ms cell {:?}",
        ok[14]
    );
    let mut ok = ok.clone();
    ok[14] = "checked".into();
    assert_eq!(
        ok,
        [
            "0",
            &url,
            &url,
            &url,
            "GET",
            "200",
            "true",
            "Hello testbed",
            "testbed",
            HTML_UTF8,
            &len,
            &len,
            "0",
            "1",
            "checked",
            "",
            "",
            "",
            ""
        ]
    );
    // The invalid row is fully deterministic: check the exact text.
    assert!(
        lines.contains(
            &"1,ftp://x/,,,GET,,false,,,,,0,0,0,0.0,,,invalid_input,\
              unsupported scheme `ftp` (only http and https)"
        ),
        "{:?}",
        out.stdout
    );
}

#[test]
fn csv_quotes_cells_with_commas_and_quotes() {
    let srv = testbed::Server::start();
    // The path keeps its comma, so input, url, final_url and the title (`Page a,b`) all hold one.
    let url = srv.url("/page/a,b");
    let server = srv.url("/headers?Server=say%20%22hi%22");
    let out = run_args(&[
        "--csv",
        "-q",
        "--fields",
        "index,input,title,server",
        &url,
        &server,
    ]);
    assert_code(&out, 0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "index,input,title,server");
    let mut data: Vec<&str> = lines[1..].to_vec();
    data.sort();
    assert_eq!(
        data,
        [
            format!("0,\"{url}\",\"Page a,b\",testbed"),
            format!("1,{server},,\"say \"\"hi\"\"\""),
        ]
    );
    let rows = parse_csv(&out.stdout);
    assert_eq!(rows.len(), 3);
}

#[test]
fn csv_neutralises_formulas_from_the_network_and_the_input() {
    let srv = testbed::Server::start();
    // A `Server` header starting with `=`, and one that also holds a comma.
    let eq = srv.url("/headers?Server=%3D1%2B2");
    let eq_comma = srv.url("/headers?Server=%3DSUM(A1)%2C1");
    let at = srv.url("/headers?Server=%40x");
    let out = run_args(&[
        "--csv",
        "-q",
        "--fields",
        "index,server",
        &eq,
        &eq_comma,
        &at,
    ]);
    assert_code(&out, 0);
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.remove(0), "index,server");
    lines.sort();
    assert_eq!(lines, ["0,'=1+2", "1,\"'=SUM(A1),1\"", "2,'@x"]);

    // Inputs are echoed: an invalid input that looks like a formula is neutralised too.
    let out = run_args(&[
        "--csv",
        "-q",
        "--fields",
        "index,input,error_kind",
        "--",
        "=cmd|x",
        "+1",
        "-x",
        "@SUM(A1)",
    ]);
    assert_code(&out, 1);
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.remove(0), "index,input,error_kind");
    lines.sort();
    assert_eq!(
        lines,
        [
            "0,'=cmd|x,invalid_input",
            "1,'+1,invalid_input",
            "2,'-x,invalid_input",
            "3,'@SUM(A1),invalid_input",
        ]
    );
    assert_eq!(srv.request_count(), 3);
}

// ---------------------------------------------------------------------------------------------
// --fields

#[test]
fn fields_select_tab_separated_text_columns() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let out = run_args(&["-q", "--fields", "status,url,title", &url]);
    assert_code(&out, 0);
    assert_eq!(out.stdout, format!("200\t{url}\tHello testbed\n"));
}

#[test]
fn fields_in_text_print_null_as_dash() {
    let out = run_args(&["-q", "--fields", "status,url,title,error_kind", "ftp://x/"]);
    assert_code(&out, 1);
    assert_eq!(out.stdout, "-\t-\t-\tinvalid_input\n");
}

#[test]
fn fields_select_csv_columns() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let out = run_args(&["--csv", "-q", "--fields", "status,url,title", &url]);
    assert_code(&out, 0);
    assert_eq!(
        out.stdout,
        format!("status,url,title\n200,{url},Hello testbed\n")
    );
}

#[test]
fn fields_select_jsonl_keys() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let out = run_args(&["-j", "-q", "--fields", "status,url,title", &url]);
    assert_code(&out, 0);
    assert_eq!(
        out.stdout,
        format!("{{\"status\":200,\"url\":\"{url}\",\"title\":\"Hello testbed\"}}\n")
    );
    assert_eq!(
        keys_in_order(out.stdout.trim_end()),
        ["status", "url", "title"]
    );
}

#[test]
fn unknown_field_is_a_usage_error_and_nothing_is_fetched() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    for format in [None, Some("-j"), Some("--csv")] {
        let mut args = vec!["--fields", "status,bogus"];
        args.extend(format);
        args.push(&url);
        let out = run_args(&args);
        assert_code(&out, 2);
        assert_eq!(out.stdout, "", "{args:?}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {:?}", out.stderr);
        assert!(lines[0].contains("--fields"), "{:?}", lines[0]);
        assert!(lines[0].contains("bogus"), "{:?}", lines[0]);
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(srv.request_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// -o FILE

#[test]
fn output_file_gets_the_records_and_stdout_stays_empty() {
    let srv = testbed::Server::start();
    let a = srv.url("/title/plain");
    let b = srv.url("/page/2");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.jsonl");
    let out = run_args(&["-j", "-o", path.to_str().unwrap(), &a, &b]);
    assert_code(&out, 0);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.starts_with("2 records in "),
        "summary: {:?}",
        out.stderr
    );
    assert!(out.stderr.contains(": 2 ok, 0 not ok"), "{:?}", out.stderr);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut recs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    recs.sort_by_key(|r| r["index"].as_u64().unwrap());
    assert_eq!(recs.len(), 2, "{text:?}");
    assert_eq!(recs[0]["input"], a);
    assert_eq!(recs[0]["title"], "Hello testbed");
    assert_eq!(recs[1]["input"], b);
    assert_eq!(recs[1]["title"], "Page 2");
}

#[test]
fn output_file_is_replaced_not_appended() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    std::fs::write(&path, "old content\n".repeat(100)).unwrap();
    let out = run_args(&[
        "-q",
        "--fields",
        "status,title",
        "-o",
        path.to_str().unwrap(),
        &url,
    ]);
    assert_code(&out, 0);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "200\tHello testbed\n"
    );
}

// ---------------------------------------------------------------------------------------------
// --keep-order

fn delay_urls(srv: &testbed::Server) -> Vec<String> {
    ["/delay/300", "/delay/200", "/delay/100", "/delay/0"]
        .iter()
        .map(|p| srv.url(p))
        .collect()
}

fn indexes_in_output_order(out: &Output) -> Vec<u64> {
    out.records()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect()
}

#[test]
fn keep_order_prints_records_in_input_order() {
    let srv = testbed::Server::start();
    let urls = delay_urls(&srv);
    let mut c = volley();
    c.args(["-j", "-q", "--keep-order"]).args(&urls);
    let out = run(c);
    assert_code(&out, 0);
    assert_eq!(indexes_in_output_order(&out), [0, 1, 2, 3]);
    for (i, r) in out.records().iter().enumerate() {
        assert_eq!(r["input"], urls[i]);
        assert_eq!(r["title"], "Delayed");
    }
}

#[test]
fn without_keep_order_fast_records_come_first() {
    let srv = testbed::Server::start();
    let urls = delay_urls(&srv);
    let mut c = volley();
    c.args(["-j", "-q"]).args(&urls);
    let out = run(c);
    assert_code(&out, 0);
    let order = indexes_in_output_order(&out);
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(sorted, [0, 1, 2, 3]);
    let pos = |i: u64| order.iter().position(|&x| x == i).unwrap();
    // 0 ms against 300 ms: the instant page is printed before the slowest one.
    assert!(pos(3) < pos(0), "completion order {order:?}");
}

// ---------------------------------------------------------------------------------------------
// Control and bidi characters from the network

const RAW_UNSAFE: [&str; 3] = ["\x1b", "\x07", "\u{202e}"];

#[test]
fn text_output_escapes_control_and_bidi_characters() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/control");
    let out = run_args(&["-q", &url]);
    assert_code(&out, 0);
    for raw in RAW_UNSAFE {
        assert!(!out.stdout.contains(raw), "raw {raw:?} in {:?}", out.stdout);
    }
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{:?}", out.stdout);
    let prefix = format!(r"200 {url} [a\x1b[31mred\x07bell\u{{202e}}rtl] [evil\u{{202e}}rtl] ");
    assert!(
        lines[0].starts_with(&prefix),
        "{:?} does not start with {prefix:?}",
        lines[0]
    );
}

#[test]
fn text_fields_and_csv_escape_control_and_bidi_characters() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/control");
    let out = run_args(&["-q", "--fields", "title,server", &url]);
    assert_code(&out, 0);
    assert_eq!(
        out.stdout,
        "a\\x1b[31mred\\x07bell\\u{202e}rtl\tevil\\u{202e}rtl\n"
    );
    let out = run_args(&["-q", "--csv", "--fields", "title,server", &url]);
    assert_code(&out, 0);
    assert_eq!(
        out.stdout,
        "title,server\na\\x1b[31mred\\x07bell\\u{202e}rtl,evil\\u{202e}rtl\n"
    );
}

#[test]
fn jsonl_escapes_control_characters_and_parses_back_to_the_original() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/control");
    let out = run_args(&["-j", "-q", &url]);
    assert_code(&out, 0);
    for raw in RAW_UNSAFE {
        assert!(!out.stdout.contains(raw), "raw {raw:?} in {:?}", out.stdout);
    }
    assert_eq!(out.stdout.lines().count(), 1, "{:?}", out.stdout);
    let recs = out.records();
    assert_eq!(recs[0]["title"], expected_title("control").unwrap());
    assert_eq!(recs[0]["server"], "evil\u{202E}rtl");
}

#[test]
fn title_entities_are_decoded_and_whitespace_collapsed_in_jsonl() {
    let srv = testbed::Server::start();
    let names = [
        "entities",
        "whitespace",
        "uppercase",
        "attrs",
        "empty",
        "none",
    ];
    let urls: Vec<String> = names
        .iter()
        .map(|n| srv.url(&format!("/title/{n}")))
        .collect();
    let mut c = volley();
    c.args(["-j", "-q", "--keep-order"]).args(&urls);
    let out = run(c);
    assert_code(&out, 0);
    let got: Vec<Value> = out.records().iter().map(|r| r["title"].clone()).collect();
    let want: Vec<Value> = names.iter().map(|n| json!(expected_title(n))).collect();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------------
// Summary and progress

#[test]
fn summary_goes_to_stderr_by_default() {
    let srv = testbed::Server::start();
    let a = srv.url("/title/plain");
    let b = srv.url("/status/404");
    let out = run_args(&["-j", &a, &b, "ftp://x/"]);
    assert_code(&out, 1);
    assert_eq!(out.records().len(), 3);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("3 records in "), "{:?}", out.stderr);
    assert!(first.ends_with(": 1 ok, 2 not ok"), "{:?}", out.stderr);
    assert!(out.stderr.contains("invalid_input: 1"), "{:?}", out.stderr);
    // The summary never leaks into the records.
    assert!(!out.stdout.contains("records in"), "{:?}", out.stdout);
}

#[test]
fn quiet_prints_no_summary() {
    let srv = testbed::Server::start();
    let url = srv.url("/title/plain");
    let out = run_args(&["-q", "-j", &url, "ftp://x/"]);
    assert_code(&out, 1);
    assert_eq!(out.stderr, "");
    assert_eq!(out.records().len(), 2);
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let srv = testbed::Server::start();
    let urls: Vec<String> = (0..30)
        .map(|i| srv.url(&format!("/delay/{}", i * 5)))
        .collect();
    let mut c = volley();
    c.args(["-j", "-c", "4"]).args(&urls);
    let out = run(c);
    assert_code(&out, 0);
    assert_eq!(out.records().len(), 30);
    assert!(!out.stderr.contains('\r'), "{:?}", out.stderr);
    assert!(!out.stderr.contains('\x1b'), "{:?}", out.stderr);
    assert!(out.stderr.starts_with("30 records in "), "{:?}", out.stderr);
}
