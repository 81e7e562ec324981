//! `--input-format jsonl`: one request per line, as a JSON object:
//! `{"url": …, "method": …, "headers": {name: value}, "body": "…" | "json": any, "id": any,
//! "tag": any}`. Only `url` is required. A line that is not such an object becomes an
//! `invalid_input` request saying what is wrong, and the run goes on.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use http::Method;
use serde_json::{Map, Value};

use super::target::parse_target;
use super::{Request, Spec};

/// The request for one JSONL input line.
pub fn jsonl_request(line: &[u8]) -> Request {
    let input = String::from_utf8_lossy(line).into_owned();
    match parse(line) {
        Ok((target, spec)) => Request {
            input,
            target,
            spec: Some(Box::new(spec)),
            index: None,
            duplicate_of: None,
        },
        Err(why) => Request::invalid(input, why),
    }
}

/// The URL (or why it is not one) and the rest of the spec; `Err` for a line that is not a
/// valid request object.
fn parse(line: &[u8]) -> Result<(Result<url::Url, String>, Spec), String> {
    let value: Value =
        serde_json::from_slice(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("not a JSON object".to_owned());
    };
    let mut spec = Spec::default();
    let mut url = None;
    let mut json_body = false;
    for (key, value) in obj {
        match key.as_str() {
            "url" => match value {
                Value::String(s) => url = Some(s),
                _ => return Err("`url` must be a string".to_owned()),
            },
            "method" => {
                let Value::String(m) = value else {
                    return Err("`method` must be a string".to_owned());
                };
                let m = Method::from_bytes(m.as_bytes())
                    .map_err(|_| format!("`{m}` is not a valid method"))?;
                spec.method = Some(m);
            }
            "headers" => {
                let Value::Object(map) = value else {
                    return Err("`headers` must be an object of strings".to_owned());
                };
                headers(&mut spec, map)?;
            }
            "body" => {
                let Value::String(b) = value else {
                    return Err("`body` must be a string (use `json` for JSON)".to_owned());
                };
                if spec.body.is_some() {
                    return Err("give `body` or `json`, not both".to_owned());
                }
                spec.body = Some(Bytes::from(b));
            }
            "json" => {
                if spec.body.is_some() {
                    return Err("give `body` or `json`, not both".to_owned());
                }
                spec.body = Some(Bytes::from(value.to_string()));
                json_body = true;
            }
            "id" => spec.carried.id = Some(value),
            "tag" => spec.carried.tag = Some(value),
            other => {
                return Err(format!(
                    "unknown key `{other}` (known: url, method, headers, body, json, id, tag)"
                ))
            }
        }
    }
    let Some(url) = url else {
        return Err("no `url`".to_owned());
    };
    if json_body {
        let json = HeaderValue::from_static("application/json");
        if !spec.headers.contains_key(CONTENT_TYPE) {
            spec.headers.insert(CONTENT_TYPE, json.clone());
        }
        if !spec.headers.contains_key(ACCEPT) {
            spec.headers.insert(ACCEPT, json);
        }
    }
    Ok((parse_target(&url), spec))
}

fn headers(spec: &mut Spec, map: Map<String, Value>) -> Result<(), String> {
    for (name, value) in map {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("header `{name}`: not a valid header name"))?;
        let Value::String(v) = value else {
            return Err(format!("header `{name}`: the value must be a string"));
        };
        let v = header_value(&v).map_err(|e| format!("header `{name}`: {e}"))?;
        spec.headers.append(n, v);
    }
    Ok(())
}

/// A header value from input text: no CR, LF or NUL (they would split the request).
pub(super) fn header_value(s: &str) -> Result<HeaderValue, String> {
    if s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err("the value contains CR, LF or NUL".to_owned());
    }
    HeaderValue::from_str(s).map_err(|_| "not a valid header value".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(r: &Request) -> &Spec {
        r.spec.as_deref().unwrap()
    }

    #[test]
    fn a_full_line() {
        let r = jsonl_request(
            br#"{"url":"http://a.test/x","method":"PUT","headers":{"X-A":"1"},"json":{"k":[1]},"id":7,"tag":"t"}"#,
        );
        assert_eq!(r.target.as_ref().unwrap().as_str(), "http://a.test/x");
        let s = spec(&r);
        assert_eq!(s.method, Some(Method::PUT));
        assert_eq!(s.headers["x-a"], "1");
        assert_eq!(s.headers[CONTENT_TYPE], "application/json");
        assert_eq!(s.headers[ACCEPT], "application/json");
        assert_eq!(s.body.as_deref(), Some(&br#"{"k":[1]}"#[..]));
        assert_eq!(s.carried.id, Some(Value::from(7)));
        assert_eq!(s.carried.tag, Some(Value::from("t")));
        assert_eq!(s.carried.row, None);
    }

    #[test]
    fn a_bare_url_and_a_body() {
        let r = jsonl_request(br#"{"url":"http://a.test/","body":"a=1"}"#);
        let s = spec(&r);
        assert_eq!(s.method, None);
        assert!(s.headers.is_empty());
        assert_eq!(s.body.as_deref(), Some(&b"a=1"[..]));
        assert!(s.carried.is_empty());
    }

    #[test]
    fn bad_lines_say_why() {
        let why = |line: &str| jsonl_request(line.as_bytes()).target.unwrap_err();
        assert!(why("http://a.test/").starts_with("not a JSON object: "));
        assert_eq!(why("[1]"), "not a JSON object");
        assert_eq!(why(r#"{"id":1}"#), "no `url`");
        assert_eq!(why(r#"{"url":1}"#), "`url` must be a string");
        assert_eq!(
            why(r#"{"url":"ftp://a.test/"}"#),
            "unsupported scheme `ftp` (only http and https)"
        );
        assert_eq!(
            why(r#"{"url":"http://a/","headers":{"X-A":"a\r\nX-B: b"}}"#),
            "header `X-A`: the value contains CR, LF or NUL"
        );
        assert_eq!(
            why(r#"{"url":"http://a/","headers":{"a b":"1"}}"#),
            "header `a b`: not a valid header name"
        );
        assert_eq!(
            why(r#"{"url":"http://a/","headers":{"X":1}}"#),
            "header `X`: the value must be a string"
        );
        assert_eq!(
            why(r#"{"url":"http://a/","body":"x","json":1}"#),
            "give `body` or `json`, not both"
        );
        assert_eq!(
            why(r#"{"url":"http://a/","method":"GE T"}"#),
            "`GE T` is not a valid method"
        );
        assert_eq!(
            why(r#"{"url":"http://a/","uri":"x"}"#),
            "unknown key `uri` (known: url, method, headers, body, json, id, tag)"
        );
        let r = jsonl_request(b"{nope");
        assert_eq!(r.input, "{nope");
        assert!(r.spec.is_none());
    }
}
