//! `-e NAME=KIND:EXPR` extractors end to end (issue 4, item 1): CSS text and attributes,
//! JSONPath, regexes and headers, first match or `--extract-all`, `null` when nothing is found,
//! and malformed expressions as usage errors before any request.

mod support;

use serde_json::{json, Value};
use support::{assert_usage_error, run_jsonl};
use testbed::Server;

/// A test-server URL serving `html` as a page.
fn page(srv: &Server, html: &str) -> String {
    let encoded: String =
        percent_encoding::utf8_percent_encode(html, percent_encoding::NON_ALPHANUMERIC).to_string();
    srv.url(&format!("/html?body={encoded}"))
}

/// The `extract` objects of `volley -j -q ARGS…`, in input order.
fn extracts(args: &[&str]) -> Vec<Value> {
    let mut a = vec!["--keep-order"];
    a.extend_from_slice(args);
    let out = run_jsonl(&a);
    out.records()
        .into_iter()
        .map(|r| r["extract"].clone())
        .collect()
}

/// The seeds' stock-price script: one JSON field from each of a list of API responses.
#[test]
fn the_stock_price_job() {
    let srv = Server::start();
    let urls: Vec<String> = ["VTSAX", "VTIAX", "IJS"]
        .iter()
        .map(|t| srv.url(&format!("/chart/{t}")))
        .collect();
    let mut args = vec!["-e", "price=json:$.chart.result[0].meta.regularMarketPrice"];
    args.extend(urls.iter().map(String::as_str));
    let prices: Vec<Value> = extracts(&args)
        .into_iter()
        .map(|e| e["price"].clone())
        .collect();
    let expect: Vec<Value> = ["VTSAX", "VTIAX", "IJS"]
        .iter()
        .map(|t| serde_json::from_str(&testbed::routes::chart_price(t)).unwrap())
        .collect();
    assert_eq!(prices, expect);
}

#[test]
fn css_text_and_attributes() {
    let srv = Server::start();
    let html = "<html><body><h1 class=t>Hello <b>big</b>\n  world &amp; co</h1>\
                <a class=next href='/p?a=1&amp;b=2'>next</a><a href=/two>2</a></body></html>";
    let url = page(&srv, html);
    let got = extracts(&[
        "-e",
        "h=css:h1.t",
        "-e",
        "link=css:a.next@href",
        "-e",
        "none=css:h2",
        &url,
    ]);
    assert_eq!(
        got,
        [json!({"h": "Hello big world & co", "link": "/p?a=1&b=2", "none": null})]
    );
    let all = extracts(&[
        "--extract-all",
        "-e",
        "links=css:a@href",
        "-e",
        "none=css:h2",
        &url,
    ]);
    assert_eq!(all, [json!({"links": ["/p?a=1&b=2", "/two"], "none": []})]);
}

#[test]
fn regex_first_group_or_whole_match() {
    let srv = Server::start();
    let url = srv.url("/page/42");
    let got = extracts(&[
        "-e",
        "n=re:<h1>Page (\\d+)</h1>",
        "-e",
        "w=re:Lorem \\w+",
        "-e",
        "z=re:zzz",
        &url,
    ]);
    assert_eq!(got, [json!({"n": "42", "w": "Lorem ipsum", "z": null})]);
}

#[test]
fn headers_and_json_with_extract_all() {
    let srv = Server::start();
    let url = srv.url("/headers?X-Tag=a&X-Tag=b&Server=edge");
    let got = extracts(&[
        "-e",
        "tag=header:x-tag",
        "-e",
        "srv=header:SERVER",
        "-e",
        "j=json:$.a",
        &url,
    ]);
    assert_eq!(got, [json!({"tag": "a, b", "srv": "edge", "j": null})]);
    let all = extracts(&["--extract-all", "-e", "tag=header:x-tag", &url]);
    assert_eq!(all, [json!({"tag": ["a", "b"]})]);
    let json_url = srv.url("/json/7");
    let got = extracts(&["--extract-all", "-e", "v=json:$.*", &json_url]);
    assert_eq!(got, [json!({"v": [7, "item 7"]})]);
}

/// Extracted values are printed like other fields: `--fields extract.NAME`.
#[test]
fn extracted_values_as_fields() {
    let srv = Server::start();
    let url = srv.url("/json/3");
    let out = run_jsonl(["--fields", "status,extract.id", "-e", "id=json:$.id", &url]);
    assert_eq!(out.records(), [json!({"status": 200, "extract.id": 3})]);
}

#[test]
fn malformed_extractors_are_usage_errors() {
    for bad in [
        "x",
        "=re:a",
        "x=re:(",
        "x=json:$[",
        "x=css:div[",
        "x=xpath://a",
        "x=header:a b",
    ] {
        assert_usage_error(&["-e", bad], "-e/--extract");
    }
    assert_usage_error(&["-e", "a=re:x", "-e", "a=re:y"], "-e/--extract");
}

/// The seeds' stock-price script as they would write it: tickers as inputs, `--template` for
/// the URL, one JSON field out of each answer.
#[test]
fn the_stock_price_job_with_a_template() {
    let srv = Server::start();
    let template = srv.url("/chart/{}");
    let out = run_jsonl([
        "--keep-order",
        "--template",
        &template,
        "-e",
        "price=json:$.chart.result[0].meta.regularMarketPrice",
        "VTSAX",
        "VTIAX",
        "IJS",
    ]);
    let recs = out.records();
    let got: Vec<(&str, &str, &Value)> = recs
        .iter()
        .map(|r| {
            (
                r["input"].as_str().unwrap(),
                r["url"].as_str().unwrap(),
                &r["extract"]["price"],
            )
        })
        .collect();
    let want: Vec<(String, String, Value)> = ["VTSAX", "VTIAX", "IJS"]
        .iter()
        .map(|t| {
            let price = serde_json::from_str(&testbed::routes::chart_price(t)).unwrap();
            (t.to_string(), srv.url(&format!("/chart/{t}")), price)
        })
        .collect();
    assert_eq!(got.len(), 3);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, g.1, g.2), (w.0.as_str(), w.1.as_str(), &w.2));
    }
}

/// Values are percent-encoded, so each stays inside its part of the URL; lines from a file work
/// the same way as arguments.
#[test]
fn template_values_are_encoded() {
    let srv = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("values.txt");
    std::fs::write(&list, "a b/c?d=1&e\n# a comment\nplain\n").unwrap();
    let template = srv.url("/echo?q={}");
    let out = run_jsonl([
        "--keep-order",
        "--template",
        &template,
        "-i",
        list.to_str().unwrap(),
    ]);
    let recs = out.records();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["input"], "a b/c?d=1&e");
    let mut seen: Vec<String> = srv
        .requests()
        .into_iter()
        .map(|s| s.path_and_query)
        .collect();
    seen.sort();
    assert_eq!(seen, ["/echo?q=a%20b%2Fc%3Fd%3D1%26e", "/echo?q=plain"]);
}

#[test]
fn bad_templates_are_usage_errors() {
    assert_usage_error(&["--template", "http://a.test/x"], "--template");
    assert_usage_error(&["--template", "ftp://a.test/{}"], "--template");
}
