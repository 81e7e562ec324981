//! `-w/--write-out TEMPLATE`: a user's own line per record (curl's `-w`, one line per input). The
//! template is parsed once, when the command line is checked, so an unknown `%{NAME}` stops the
//! run before anything is fetched; rendering then only copies literal bytes and writes values
//! straight into the writer's buffer. The syntax is in the [module docs](super).

use super::cell::{write_plain_cell, Cell};
use super::jsonl::write_json_fields;
use super::{default_jsonl_fields, with_headers_field, Column, Field, EXTRA_FIELDS};
use crate::record::{Record, FIELDS};

/// What starts a `%{header.NAME}` variable.
const HEADER_PREFIX: &str = "header.";

/// A parsed template.
#[derive(Debug, Clone)]
pub(super) struct Template {
    parts: Vec<Part>,
    /// The keys `%{json}` writes: the default JSONL record, with `headers` when asked for.
    pub(super) json: Vec<Column>,
    /// Whether rendering reads [`Record::headers`].
    needs_headers: bool,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Template text, escapes already applied.
    Literal(Box<[u8]>),
    /// `%{NAME}` for a `--fields` name.
    Field(Field),
    /// `%{header.NAME}`, the name lower-cased.
    Header(Box<str>),
    /// `%{json}`.
    Json,
}

impl Template {
    /// Parses `text`; `include_headers` puts `headers` in `%{json}`. The error names the bad
    /// variable or the unclosed `%{`.
    pub(super) fn parse(text: &str, include_headers: bool) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find(['%', '\\']) {
            literal.extend_from_slice(&rest.as_bytes()[..i]);
            let tail = &rest[i..];
            if let Some(after) = tail.strip_prefix("%{") {
                let Some(end) = after.find('}') else {
                    let at = text.len() - tail.len();
                    return Err(format!("`%{{` at byte {at} has no closing `}}`"));
                };
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal).into()));
                }
                parts.push(Part::parse(&after[..end])?);
                rest = &after[end + 1..];
                continue;
            }
            let (byte, len) = match tail.as_bytes() {
                [b'%', b'%', ..] => (b'%', 2),
                [b'\\', b'n', ..] => (b'\n', 2),
                [b'\\', b't', ..] => (b'\t', 2),
                [b'\\', b'\\', ..] => (b'\\', 2),
                // A lone `%` or an unknown escape is itself (both are ASCII).
                [b, ..] => (*b, 1),
                [] => break,
            };
            literal.push(byte);
            rest = &tail[len..];
        }
        literal.extend_from_slice(rest.as_bytes());
        // The line end is added per record; a template ending in `\n` must not double it.
        if literal.last() == Some(&b'\n') {
            literal.pop();
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal.into()));
        }
        let needs_headers = parts.iter().any(|p| match p {
            Part::Header(_) | Part::Field(Field::Headers) => true,
            Part::Json => include_headers,
            Part::Literal(_) | Part::Field(_) => false,
        });
        let mut json = default_jsonl_fields();
        if include_headers {
            json = with_headers_field(json);
        }
        Ok(Template {
            parts,
            json: Column::for_fields(json),
            needs_headers,
        })
    }

    /// Whether rendering reads the response headers (so the fetcher must keep them).
    pub(super) fn needs_headers(&self) -> bool {
        self.needs_headers
    }

    /// Appends the template for `rec`, without the line end.
    pub(super) fn render(&self, rec: &Record, out: &mut Vec<u8>) {
        for part in &self.parts {
            match part {
                Part::Literal(bytes) => out.extend_from_slice(bytes),
                // Null is empty, strings are escaped, structures are compact safe JSON.
                Part::Field(field) => write_plain_cell(out, field.cell(rec)),
                Part::Header(name) => {
                    let value = rec.headers.as_ref().and_then(|h| h.get(name));
                    write_plain_cell(out, value.map_or(Cell::Null, Cell::Str));
                }
                Part::Json => write_json_fields(out, rec, &self.json),
            }
        }
    }
}

impl Part {
    /// The variable `%{name}`.
    fn parse(name: &str) -> Result<Part, String> {
        if name == "json" {
            return Ok(Part::Json);
        }
        if let Some(header) = name.strip_prefix(HEADER_PREFIX) {
            if is_token(header) {
                return Ok(Part::Header(header.to_ascii_lowercase().into()));
            }
        } else if let Some(field) = Field::parse(name) {
            return Ok(Part::Field(field));
        }
        let known: Vec<&str> = FIELDS
            .iter()
            .chain(&EXTRA_FIELDS)
            .chain(&["header.NAME", "json"])
            .copied()
            .collect();
        Err(format!(
            "unknown variable `%{{{name}}}` (known: {})",
            known.join(", ")
        ))
    }
}

/// Whether `name` is a valid header field name (an RFC 9110 token).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::output::format::tests::{connect_error, invalid_input, ok_record, printer, EVIL};
    use crate::output::format::{Format, Printer};
    use crate::record::Headers;

    fn render(template: &str, rec: &Record) -> String {
        let p = Printer::write_out(template, false).unwrap();
        let mut out = Vec::new();
        p.write(rec, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn parts(template: &str) -> Vec<Part> {
        Template::parse(template, false).unwrap().parts
    }

    fn lit(s: &str) -> Part {
        Part::Literal(s.as_bytes().into())
    }

    #[test]
    fn parses_variables_literals_and_escapes() {
        assert_eq!(
            parts("%{url} -> %{header.Server}: %{status}"),
            [
                Part::Field(Field::Url),
                lit(" -> "),
                Part::Header("server".into()),
                lit(": "),
                Part::Field(Field::Status),
            ]
        );
        assert_eq!(
            parts(r"a\tb\\n%%{url}\n%{json}%"),
            [lit("a\tb\\n%{url}\n"), Part::Json, lit("%")]
        );
        // Unknown escapes, a lone `%` and a lone `}` are themselves; UTF-8 passes through.
        assert_eq!(parts(r"\r\x 50% }é\"), [lit("\\r\\x 50% }é\\")]);
        assert_eq!(
            parts("%{extract.price}%{headers}%{error_kind}"),
            [
                Part::Field(Field::ExtractKey("extract.price".into())),
                Part::Field(Field::Headers),
                Part::Field(Field::ErrorKind),
            ]
        );
        assert_eq!(parts(""), []);
    }

    #[test]
    fn one_trailing_newline_is_dropped() {
        assert_eq!(parts(r"%{url}\n"), [Part::Field(Field::Url)]);
        assert_eq!(parts(r"%{url}\n\n"), [Part::Field(Field::Url), lit("\n")]);
        assert_eq!(parts("x\n"), [lit("x")]);
        assert_eq!(render(r"%{status}\n", &ok_record()), "200\n");
        assert_eq!(render("", &ok_record()), "\n");
    }

    #[test]
    fn errors_name_the_variable() {
        let err = Template::parse("%{url} %{bogus}", false).unwrap_err();
        assert_eq!(
            err,
            "unknown variable `%{bogus}` (known: index, input, url, final_url, method, status, \
             ok, title, server, content_type, content_length, bytes, redirects, attempts, \
             elapsed_ms, extract, saved_to, error, error_kind, error_message, host, headers, \
             row, id, tag, sha256, duplicate_of, extract.NAME, header.NAME, json)"
        );
        for bad in [
            "%{}",
            "%{header.}",
            "%{header.a b}",
            "%{extract.}",
            "%{ url}",
            "%{URL}",
        ] {
            let err = Template::parse(bad, false).unwrap_err();
            assert!(
                err.starts_with(&format!("unknown variable `{bad}`")),
                "{bad}: {err}"
            );
        }
        assert_eq!(
            Template::parse("ok %{url", false).unwrap_err(),
            "`%{` at byte 3 has no closing `}`"
        );
    }

    #[test]
    fn renders_fields_as_text() {
        assert_eq!(
            render(
                "%{index}\\t%{status} %{ok} %{url} [%{title}] %{elapsed_ms}ms %{bytes}B \
                 %{content_length} %{host} %{error_kind}|%{error}|%{extract}|%{saved_to}|",
                &ok_record()
            ),
            "0\t200 true http://127.0.0.1:8080/p/1.html [Page 1] 12.3ms 1843B 1843 \
             127.0.0.1:8080 ||{}||\n"
        );
        assert_eq!(
            render(
                "%{status}|%{final_url}|%{error_kind}: %{error_message}",
                &connect_error()
            ),
            "||connect: connection refused\n"
        );
        assert_eq!(
            render("%{error}", &invalid_input()),
            "{\"kind\":\"invalid_input\",\"message\":\"unsupported scheme `ftp`\"}\n"
        );
    }

    #[test]
    fn renders_extracted_values_and_headers() {
        let mut r = ok_record();
        r.extract.insert("s".into(), Value::from("a b"));
        r.extract.insert("n".into(), Value::from(1.5));
        r.extract.insert("a".into(), serde_json::json!(["x", null]));
        r.extract.insert("z".into(), Value::Null);
        let t = "%{extract.s}|%{extract.n}|%{extract.a}|%{extract.z}|%{extract.missing}|";
        assert_eq!(render(t, &r), "a b|1.5|[\"x\",null]|||\n");
        // No headers kept: every header variable is empty.
        assert_eq!(render("%{header.server}|%{headers}|", &r), "||\n");
        let mut h = Headers::new();
        h.push("server", "nginx".into());
        h.push("x-multi", "1, 2".into());
        r.headers = Some(h);
        assert_eq!(
            render(
                "%{header.SERVER}|%{header.X-Multi}|%{header.nope}|%{headers}",
                &r
            ),
            "nginx|1, 2||{\"server\":\"nginx\",\"x-multi\":\"1, 2\"}\n"
        );
    }

    #[test]
    fn network_text_is_escaped() {
        let mut r = ok_record();
        r.title = Some(EVIL.into());
        let mut h = Headers::new();
        h.push("x-evil", "a\x1b[2J\nb".into());
        r.headers = Some(h);
        assert_eq!(
            render("%{title} %{header.x-evil} %{headers}", &r),
            "Hi\\x1b[2J\\x9b\\x7f\\u{202e}txt.exe\\u{2028}\\n a\\x1b[2J\\nb \
             {\"x-evil\":\"a\\u001b[2J\\nb\"}\n"
        );
    }

    #[test]
    fn json_is_the_jsonl_record() {
        let mut r = ok_record();
        r.title = Some(EVIL.into());
        let line = render("%{json}", &r);
        assert_eq!(
            line,
            crate::output::format::tests::line(&printer(Format::Jsonl), &r)
        );
        let back: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, serde_json::to_value(&r).unwrap());
        // `headers` only with --include-headers, right after `extract`; null without a response.
        r.headers = Some(Headers::new());
        assert!(!render("%{json}", &r).contains("headers"));
        let p = Printer::write_out("%{json}", true).unwrap();
        let mut out = Vec::new();
        p.write(&invalid_input(), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(r#""extract":{},"headers":null,"saved_to":null"#),
            "{text}"
        );
    }

    #[test]
    fn header_needs() {
        let needs =
            |t: &str, include: bool| Printer::write_out(t, include).unwrap().needs_headers();
        assert!(!needs("%{url} %{server} %{json} %{extract.x}", false));
        assert!(needs("%{header.server}", false));
        assert!(needs("%{headers}", false));
        assert!(needs("%{json}", true));
        assert!(!needs("%{url}", true));
    }
}
