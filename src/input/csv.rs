//! `--input-format csv`: RFC 4180 rows (quoted fields may hold commas, quotes as `""`, and line
//! breaks), the first row naming the columns. Each row fills `{column}` placeholders in the URL
//! template (percent-encoded, like `{}`), in header values and in the body (both raw), and is
//! carried into its record as `row`. Without a template the `url` column is the URL.
//!
//! Rows are read one at a time and bounded by [`MAX_LINE`]: a longer row, a row with the wrong
//! number of fields or bad quoting becomes one `invalid_input` request, and the run goes on.

use std::io::{self, BufRead};

use bytes::Bytes;
use http::header::HeaderName;
use percent_encoding::utf8_percent_encode;
use serde_json::{Map, Value};

use super::jsonl::header_value;
use super::target::parse_target;
use super::template::VALUE;
use super::{Request, Spec, MAX_LINE};

/// One raw row as read: its bytes (without the line end), or the start of a row that was too
/// long to keep.
#[derive(Debug, PartialEq, Eq)]
enum Raw {
    Row,
    TooLong,
}

/// Reads the next non-blank row into `buf` (cleared first). `Ok(None)` at the end of input.
fn read_row(reader: &mut dyn BufRead, buf: &mut Vec<u8>) -> io::Result<Option<Raw>> {
    buf.clear();
    let mut quoted = false;
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            if !any {
                return Ok(None);
            }
            break;
        }
        any = true;
        let mut end = None;
        for (i, &b) in chunk.iter().enumerate() {
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let take = end.unwrap_or(chunk.len());
        if !too_long {
            let room = MAX_LINE - buf.len();
            if take > room {
                buf.extend_from_slice(&chunk[..room]);
                too_long = true;
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        reader.consume(end.map_or(take, |i| i + 1));
        if end.is_some() {
            if too_long {
                break;
            }
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            if buf.is_empty() {
                // A blank line between rows.
                any = false;
                continue;
            }
            break;
        }
    }
    if too_long {
        return Ok(Some(Raw::TooLong));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Some(Raw::Row))
}

/// Splits one row into its fields (RFC 4180).
fn split_fields(row: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = row.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed".to_owned()),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return Err("text after a closing quote".to_owned()),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some('"') => return Err("a quote inside an unquoted field".to_owned()),
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

/// Reads and checks the header row (a leading UTF-8 BOM is dropped). The error is for the user.
pub fn read_csv_header(reader: &mut dyn BufRead) -> Result<Vec<String>, String> {
    let mut buf = Vec::new();
    match read_row(reader, &mut buf) {
        Err(e) => Err(format!("cannot read the header row: {e}")),
        Ok(None) => Err("the CSV input is empty (no header row)".to_owned()),
        Ok(Some(Raw::TooLong)) => Err(format!(
            "the header row is longer than {} KiB",
            MAX_LINE / 1024
        )),
        Ok(Some(Raw::Row)) => {
            let bytes = buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf);
            let text = std::str::from_utf8(bytes)
                .map_err(|_| "the header row is not valid UTF-8".to_owned())?;
            let columns = split_fields(text).map_err(|e| format!("header row: {e}"))?;
            for (i, c) in columns.iter().enumerate() {
                if c.is_empty() {
                    return Err(format!("header row: column {} has no name", i + 1));
                }
                if columns[..i].contains(c) {
                    return Err(format!("header row: column `{c}` appears twice"));
                }
            }
            Ok(columns)
        }
    }
}

/// Text with `{column}` placeholders.
#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Column(usize),
}

/// Splits `text` at `{name}` placeholders. With `strict`, every `{…}` must name a column (the
/// URL template); otherwise only column names are placeholders and other braces stay text
/// (JSON bodies are full of them).
fn pieces(text: &str, columns: &[String], strict: bool) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find(['}', '{'])
            .filter(|&i| after.as_bytes()[i] == b'}');
        let name = close.map(|i| &after[..i]);
        match name.and_then(|n| columns.iter().position(|c| c == n)) {
            Some(col) => {
                literal.push_str(&rest[..open]);
                out.push(Piece::Text(std::mem::take(&mut literal)));
                out.push(Piece::Column(col));
                rest = &after[name.map_or(0, str::len) + 1..];
            }
            None => {
                if strict {
                    if let Some(n) = name {
                        return Err(format!(
                            "`{{{n}}}` names no column of the CSV header (columns: {})",
                            columns.join(", ")
                        ));
                    }
                }
                literal.push_str(&rest[..open + 1]);
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    out.push(Piece::Text(literal));
    Ok(out)
}

fn fill(pieces: &[Piece], fields: &[String], encode: bool) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Column(i) if encode => {
                s.extend(utf8_percent_encode(&fields[*i], VALUE));
            }
            Piece::Column(i) => s.push_str(&fields[*i]),
        }
    }
    s
}

/// How each CSV row becomes a request: the columns, the URL and the per-row headers and body.
#[derive(Debug, Clone)]
pub struct CsvRows {
    columns: Vec<String>,
    url: Vec<Piece>,
    /// Whether values are percent-encoded into `url` (a template; not the `url` column).
    encode: bool,
    headers: Vec<(HeaderName, Vec<Piece>)>,
    body: Option<Vec<Piece>>,
}

impl CsvRows {
    /// Rows with `columns`; the URL is the `url` column, or `template` (`--template`) with
    /// `{column}` placeholders. The error is for the user (the caller names the flag).
    pub fn new(columns: Vec<String>, template: Option<&str>) -> Result<CsvRows, String> {
        let url = match template {
            Some(t) => {
                let url = pieces(t, &columns, true)?;
                let sample = vec!["value".to_owned(); columns.len()];
                if let Err(e) = parse_target(&fill(&url, &sample, true)) {
                    return Err(format!("`{t}` does not make a URL: {e}"));
                }
                url
            }
            None => match columns.iter().position(|c| c == "url") {
                Some(i) => vec![Piece::Column(i)],
                None => {
                    return Err(format!(
                        "the CSV header has no `url` column and there is no --template \
                         (columns: {})",
                        columns.join(", ")
                    ))
                }
            },
        };
        Ok(CsvRows {
            encode: template.is_some(),
            columns,
            url,
            headers: Vec::new(),
            body: None,
        })
    }

    /// Whether `text` holds a `{column}` placeholder.
    pub fn has_placeholder(&self, text: &str) -> bool {
        pieces(text, &self.columns, false).is_ok_and(|p| p.len() > 1)
    }

    /// Adds a header sent with every row, `{column}` placeholders filled in raw.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: &str) -> CsvRows {
        let p = pieces(value, &self.columns, false).unwrap_or_default();
        self.headers.push((name, p));
        self
    }

    /// Sets the body of every row, `{column}` placeholders filled in raw.
    #[must_use]
    pub fn body(mut self, text: &str) -> CsvRows {
        self.body = pieces(text, &self.columns, false).ok();
        self
    }

    /// The request for one row's bytes.
    fn request(&self, raw: &[u8]) -> Request {
        let Ok(text) = std::str::from_utf8(raw) else {
            let input = String::from_utf8_lossy(raw).into_owned();
            return Request::invalid(input, "row is not valid UTF-8".to_owned());
        };
        let input = text.to_owned();
        let fields = match split_fields(text) {
            Ok(f) => f,
            Err(e) => return Request::invalid(input, format!("bad CSV row: {e}")),
        };
        if fields.len() != self.columns.len() {
            let why = format!(
                "row has {} fields, the header has {}",
                fields.len(),
                self.columns.len()
            );
            return Request::invalid(input, why);
        }
        let mut spec = Spec::default();
        for (name, p) in &self.headers {
            match header_value(&fill(p, &fields, false)) {
                Ok(v) => {
                    spec.headers.append(name.clone(), v);
                }
                Err(e) => return Request::invalid(input, format!("header `{name}`: {e}")),
            }
        }
        if let Some(body) = &self.body {
            spec.body = Some(Bytes::from(fill(body, &fields, false)));
        }
        let target = parse_target(&fill(&self.url, &fields, self.encode));
        let row: Map<String, Value> = self
            .columns
            .iter()
            .cloned()
            .zip(fields.into_iter().map(Value::String))
            .collect();
        spec.carried.row = Some(row);
        Request {
            input,
            target,
            spec: Some(Box::new(spec)),
            index: None,
            duplicate_of: None,
        }
    }

    /// Reads the rows after the header from `reader`, calling `emit` for each; stops early
    /// (returning `Ok(false)`) when `emit` returns false.
    pub fn read(
        &self,
        reader: &mut dyn BufRead,
        mut emit: impl FnMut(Request) -> bool,
    ) -> io::Result<bool> {
        let mut buf = Vec::with_capacity(256);
        while let Some(raw) = read_row(reader, &mut buf)? {
            let req = match raw {
                Raw::Row => self.request(&buf),
                Raw::TooLong => {
                    let mut r = Request::too_long(&buf);
                    r.target = Err(format!("CSV row is longer than {} KiB", MAX_LINE / 1024));
                    r
                }
            };
            if !emit(req) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(columns: &[&str], template: Option<&str>) -> CsvRows {
        CsvRows::new(columns.iter().map(|c| c.to_string()).collect(), template).unwrap()
    }

    fn read_all(rows: &CsvRows, data: &[u8]) -> Vec<Request> {
        let mut out = Vec::new();
        rows.read(&mut &data[..], |r| {
            out.push(r);
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn splits_rfc_4180_fields() {
        assert_eq!(split_fields("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(
            split_fields(
                r#""a,1","say ""hi""","x
y",z"#
            )
            .unwrap(),
            ["a,1", "say \"hi\"", "x\ny", "z"]
        );
        assert_eq!(split_fields(r#""""#).unwrap(), [""]);
        assert_eq!(split_fields("a,").unwrap(), ["a", ""]);
        assert_eq!(
            split_fields(r#""a"b"#).unwrap_err(),
            "text after a closing quote"
        );
        assert_eq!(
            split_fields(r#"a"b"#).unwrap_err(),
            "a quote inside an unquoted field"
        );
        assert_eq!(
            split_fields(r#""ab"#).unwrap_err(),
            "a quoted field is not closed"
        );
    }

    #[test]
    fn header_row_with_bom_and_crlf() {
        let mut data = &b"\xEF\xBB\xBFid,\"url\"\r\n1,http://a/\r\n"[..];
        assert_eq!(read_csv_header(&mut data).unwrap(), ["id", "url"]);
        assert_eq!(data, b"1,http://a/\r\n");
        assert_eq!(
            read_csv_header(&mut &b""[..]).unwrap_err(),
            "the CSV input is empty (no header row)"
        );
        assert_eq!(
            read_csv_header(&mut &b"a,a\n"[..]).unwrap_err(),
            "header row: column `a` appears twice"
        );
    }

    #[test]
    fn rows_fill_the_template_headers_and_body() {
        let r = rows(&["sym", "note"], Some("http://a.test/q/{sym}?n={note}"));
        let r = r
            .header(HeaderName::from_static("x-sym"), "<{sym}>{other}")
            .body(r#"{"s":"{sym}"}"#);
        let got = read_all(&r, b"a b/c,\"multi\nline, \"\"q\"\"\"\n\nVT,x\n");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].input, "a b/c,\"multi\nline, \"\"q\"\"\"");
        assert_eq!(
            got[0].target.as_ref().unwrap().as_str(),
            "http://a.test/q/a%20b%2Fc?n=multi%0Aline%2C%20%22q%22"
        );
        let s = got[0].spec.as_deref().unwrap();
        assert_eq!(s.headers["x-sym"], "<a b/c>{other}");
        assert_eq!(s.body.as_deref(), Some(&br#"{"s":"a b/c"}"#[..]));
        let row = s.carried.row.as_ref().unwrap();
        assert_eq!(
            Value::Object(row.clone()),
            serde_json::json!({"sym": "a b/c", "note": "multi\nline, \"q\""})
        );
        assert_eq!(
            got[1].target.as_ref().unwrap().as_str(),
            "http://a.test/q/VT?n=x"
        );
    }

    #[test]
    fn bad_rows_are_one_invalid_request_each() {
        let r = rows(&["url", "n"], None).header(HeaderName::from_static("x-n"), "{n}");
        let mut data = b"http://a/,1\nhttp://b/\nftp://c/,2\nhttp://d/,\"x\ry\"\n".to_vec();
        data.extend_from_slice(b"http://e/,\"");
        data.extend(std::iter::repeat_n(b'a', MAX_LINE));
        data.extend_from_slice(b"\"\nhttp://f/,3\n");
        let got = read_all(&r, &data);
        let targets: Vec<_> = got
            .iter()
            .map(|r| r.target.clone().map(String::from))
            .collect();
        assert_eq!(
            targets,
            [
                Ok("http://a/".to_owned()),
                Err("row has 1 fields, the header has 2".to_owned()),
                Err("unsupported scheme `ftp` (only http and https)".to_owned()),
                Err("header `x-n`: the value contains CR, LF or NUL".to_owned()),
                Err("CSV row is longer than 64 KiB".to_owned()),
                Ok("http://f/".to_owned()),
            ]
        );
        assert_eq!(got[1].input, "http://b/");
    }

    #[test]
    fn templates_name_known_columns() {
        let cols = vec!["a".to_owned()];
        assert_eq!(
            CsvRows::new(cols.clone(), Some("http://x/{b}")).unwrap_err(),
            "`{b}` names no column of the CSV header (columns: a)"
        );
        assert!(CsvRows::new(cols.clone(), Some("ftp://x/{a}"))
            .unwrap_err()
            .starts_with("`ftp://x/{a}` does not make a URL"));
        assert_eq!(
            CsvRows::new(cols.clone(), None).unwrap_err(),
            "the CSV header has no `url` column and there is no --template (columns: a)"
        );
        let r = CsvRows::new(cols, Some("http://x/{a}")).unwrap();
        assert!(r.has_placeholder("Bearer {a}"));
        assert!(!r.has_placeholder("{\"b\": {c}}"));
    }
}
