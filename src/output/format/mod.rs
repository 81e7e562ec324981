//! Record printers: one [`Record`] in, exactly one line out, in the format the user chose (text for
//! people, JSON Lines or CSV for programs). The single writer task builds one [`Printer`] and calls
//! [`Printer::write`] per record into a reused buffer, so this is the hot path of a fast run: it
//! writes straight into the caller's `Vec<u8>`. JSONL and text allocate nothing else unless
//! network text actually needs escaping; CSV also builds the JSON text of a non-empty `extract` or
//! `error` cell before quoting it.
//!
//! Every format is terminal-safe (DESIGN §2): text, CSV and write-out templates pass network text
//! through [`escape_text`](super::sanitize::escape_text); JSON escapes the same characters as
//! `\uXXXX`, so the line is still valid JSON that parses back to the original string.
//!
//! # `--fields`
//!
//! Accepted names: every name in [`FIELDS`], plus `error_kind` and `error_message` (the two parts
//! of `error`), `host` ([`Record::host`]), `headers` (the response's header fields, see
//! [`Headers`](crate::record::Headers)), and `extract.NAME` (one extracted value). They select
//! and order the keys of a JSONL object, the columns of CSV, and the tab-separated cells of text.
//!
//! # `--include-headers`
//!
//! Adds `headers` right after `extract` to the default JSONL keys and CSV columns (an object, or
//! null when no response arrived; a compact JSON cell in CSV, empty for null or `{}`). The default
//! text line never shows headers: they would not fit on it.
//!
//! # `-w/--write-out TEMPLATE`
//!
//! One line per record instead of the format's: the template's text with each `%{NAME}` replaced
//! by a value. `NAME` is any `--fields` name (`%{status}`, `%{error_kind}`, `%{host}`,
//! `%{headers}`, `%{extract.NAME}`), `header.NAME` (that response header, any case), or `json`
//! (the record as JSONL prints it). Strings are text-escaped, null and missing values are empty,
//! numbers and booleans as in JSON, structures (`extract`, `error`, `headers`, non-string
//! extracted values) compact JSON. `\n`, `\t`, `\\` and `%%` stand for a newline, a tab, a
//! backslash and `%`; any other `\` or `%` is itself. An unknown name or an unclosed `%{` is an
//! error. Each record ends in exactly one `\n`: a template ending in `\n` does not get a second.
//!
//! # CSV columns
//!
//! One rule for every column: a field is one cell. Strings are text-escaped, null is an empty
//! cell, `extract` and `error` are compact JSON (empty for `{}` / null), `extract.NAME` is the
//! string itself or compact JSON for other values. Without `--fields` the columns are [`FIELDS`]
//! with `error` replaced by `error_kind,error_message`, so the common case needs no JSON parsing.
//! String cells starting with `=`, `+`, `-`, `@`, TAB or CR get a leading `'` (OWASP CSV
//! injection); numbers and booleans never do. Rows end in `\n`, like the other formats.

mod cell;
mod csv;
mod jsonl;
mod template;
mod text;

pub(crate) use text::write_size;

use self::csv::{write_csv_row, write_csv_text};
use self::jsonl::write_json_fields;
use self::template::Template;
use self::text::{write_text_fields, write_text_line};
use super::sanitize::write_json_str;
use crate::record::{Record, FIELDS};

/// How records are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// One human-readable line per record (the default).
    #[default]
    Text,
    /// One JSON object per line, in the record schema (DESIGN §2).
    Jsonl,
    /// RFC 4180 CSV with a header row; see the module docs for the column rule.
    Csv,
}

/// Turns records into lines. Built once (validating `--fields`), then used by the writer task.
#[derive(Debug, Clone)]
pub struct Printer {
    format: Format,
    /// The selected columns; `None` means the text layout.
    columns: Option<Vec<Column>>,
    /// Whether `columns` are the format's default (no `--fields`).
    default_columns: bool,
    color: bool,
    /// `-w/--write-out`: replaces the format's line.
    template: Option<Template>,
}

impl Printer {
    /// A printer for `format`. `fields` (the `--fields` list, names already split on commas;
    /// surrounding blanks are ignored) selects and orders the output; see the module docs for the
    /// accepted names. `color` adds ANSI colours to the default text layout only: `--fields` text,
    /// JSONL and CSV stay plain because programs read them.
    ///
    /// Fails with a message for the user when a field name is unknown, repeated, or the list is
    /// empty.
    pub fn new(
        format: Format,
        fields: Option<Vec<String>>,
        color: bool,
    ) -> Result<Printer, String> {
        let default_columns = fields.is_none();
        let fields = match fields {
            Some(names) => Some(parse_fields(&names)?),
            // JSONL and CSV always have explicit columns; text has a layout of its own.
            None => match format {
                Format::Jsonl => Some(default_jsonl_fields()),
                Format::Csv => Some(default_csv_fields()),
                Format::Text => None,
            },
        };
        Ok(Printer {
            format,
            default_columns,
            columns: fields.map(Column::for_fields),
            color,
            template: None,
        })
    }

    /// A printer of one `-w/--write-out` line per record (see the [module docs](self) for the
    /// syntax).
    /// `include_headers` puts `headers` in `%{json}`, as `--include-headers` does in JSONL.
    ///
    /// Fails with a message for the user when the template names an unknown variable or a
    /// `%{` is not closed.
    pub fn write_out(template: &str, include_headers: bool) -> Result<Printer, String> {
        Ok(Printer {
            format: Format::Text,
            columns: None,
            default_columns: true,
            color: false,
            template: Some(Template::parse(template, include_headers)?),
        })
    }

    /// `--include-headers`: adds a `headers` key (column) after `extract` to the default JSONL
    /// and CSV layouts. An explicit `--fields` list stays as given, and the default text line never
    /// shows headers (they would not fit on it).
    pub fn with_headers(mut self, yes: bool) -> Printer {
        if let (true, true, Some(columns)) = (yes, self.default_columns, &self.columns) {
            let fields = columns.iter().map(|c| c.field.clone());
            self.columns = Some(Column::for_fields(with_headers_field(fields.collect())));
        }
        self
    }

    /// `--hash`: adds the `sha256` key (column) after `saved_to` in the default JSONL and CSV
    /// layouts and in `%{json}`.
    pub fn with_hash(mut self, yes: bool) -> Printer {
        if !yes {
            return self;
        }
        let add = |columns: &[Column]| {
            let mut fields: Vec<Field> = columns.iter().map(|c| c.field.clone()).collect();
            let at = fields
                .iter()
                .position(|f| *f == Field::SavedTo)
                .map_or(fields.len(), |i| i + 1);
            fields.insert(at, Field::Sha256);
            Column::for_fields(fields)
        };
        if let Some(template) = &mut self.template {
            template.json = add(&template.json);
        }
        if let (true, Some(columns)) = (self.default_columns, &self.columns) {
            self.columns = Some(add(columns));
        }
        self
    }

    /// `--dedupe`: adds the `duplicate_of` key (column) before `error` in the default JSONL and
    /// CSV layouts and in `%{json}`.
    pub fn with_dedupe(mut self, yes: bool) -> Printer {
        if !yes {
            return self;
        }
        let add = |columns: &[Column]| {
            let mut fields: Vec<Field> = columns.iter().map(|c| c.field.clone()).collect();
            let at = fields
                .iter()
                .position(|f| matches!(f, Field::Error | Field::ErrorKind))
                .unwrap_or(fields.len());
            fields.insert(at, Field::DuplicateOf);
            Column::for_fields(fields)
        };
        if let Some(template) = &mut self.template {
            template.json = add(&template.json);
        }
        if let (true, Some(columns)) = (self.default_columns, &self.columns) {
            self.columns = Some(add(columns));
        }
        self
    }

    /// `--input-format csv` (`row`) or `jsonl` (`ids`): adds the `row` key (column), or the `id`
    /// and `tag` keys, before `saved_to` in the default JSONL and CSV layouts and in `%{json}`. JSONL leaves `id`
    /// and `tag` out of a record whose input did not give them.
    pub fn with_carried(mut self, row: bool, ids: bool) -> Printer {
        if let Some(template) = &mut self.template {
            template.json = Column::for_fields(with_carried_fields(&template.json, row, ids));
        }
        if let (true, Some(columns)) = (self.default_columns, &self.columns) {
            self.columns = Some(Column::for_fields(with_carried_fields(columns, row, ids)));
        }
        self
    }

    /// Whether records need their [`headers`](Record::headers) for this output: a `headers`
    /// column, or a template that reads them. The fetcher copies headers only then.
    pub fn needs_headers(&self) -> bool {
        let column = |c: &Column| c.field == Field::Headers;
        self.columns.iter().flatten().any(column)
            || self.template.as_ref().is_some_and(Template::needs_headers)
    }

    /// Whether every line is the record's whole JSON form, key for key as serde_json writes a
    /// [`Record`] (JSONL without `--fields` or `-w`; a key that serde_json leaves out when absent
    /// may be `null` here), so it reads back into the same record.
    pub fn is_whole_json(&self) -> bool {
        self.format == Format::Jsonl && self.default_columns && self.template.is_none()
    }

    /// Appends the CSV header row (the column names); appends nothing for text and JSONL.
    pub fn header(&self, out: &mut Vec<u8>) {
        let (Format::Csv, Some(columns)) = (self.format, &self.columns) else {
            return;
        };
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_csv_text(out, column.field.name());
        }
        out.push(b'\n');
    }

    /// Appends exactly one line for `rec`, ending in `\n`.
    pub fn write(&self, rec: &Record, out: &mut Vec<u8>) {
        match (&self.template, self.format, &self.columns) {
            (Some(template), _, _) => template.render(rec, out),
            (None, Format::Jsonl, Some(columns)) => write_json_fields(out, rec, columns),
            (None, Format::Csv, Some(columns)) => write_csv_row(out, rec, columns),
            (None, Format::Text, Some(columns)) => write_text_fields(out, rec, columns),
            // `new` gives JSONL and CSV explicit fields, so only text gets here.
            (None, _, None) => write_text_line(out, rec, self.color),
        }
        out.push(b'\n');
    }
}

// ---------------------------------------------------------------------------------------------
// Fields

/// One selectable column.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Index,
    Input,
    Url,
    FinalUrl,
    Method,
    Status,
    Ok,
    Title,
    Server,
    ContentType,
    ContentLength,
    Bytes,
    Redirects,
    Attempts,
    ElapsedMs,
    Extract,
    SavedTo,
    Error,
    ErrorKind,
    ErrorMessage,
    Host,
    /// The response's header fields (`--include-headers`); not in [`FIELDS`].
    Headers,
    /// The CSV row the input came from (`--input-format csv`); not in [`FIELDS`].
    Row,
    /// The JSONL input's `id` (`--input-format jsonl`); not in [`FIELDS`].
    Id,
    /// The JSONL input's `tag` (`--input-format jsonl`); not in [`FIELDS`].
    Tag,
    /// The body's SHA-256 (`--hash sha256`); not in [`FIELDS`].
    Sha256,
    /// The first input with the same URL (`--dedupe`); not in [`FIELDS`].
    DuplicateOf,
    /// `extract.NAME`: one extracted value. Holds the whole field name.
    ExtractKey(Box<str>),
}

/// The names `--fields` accepts besides [`FIELDS`], for the error message.
const EXTRA_FIELDS: [&str; 10] = [
    "error_kind",
    "error_message",
    "host",
    "headers",
    "row",
    "id",
    "tag",
    "sha256",
    "duplicate_of",
    "extract.NAME",
];

/// What starts an `extract.NAME` field.
const EXTRACT_PREFIX: &str = "extract.";

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "index" => Field::Index,
            "input" => Field::Input,
            "url" => Field::Url,
            "final_url" => Field::FinalUrl,
            "method" => Field::Method,
            "status" => Field::Status,
            "ok" => Field::Ok,
            "title" => Field::Title,
            "server" => Field::Server,
            "content_type" => Field::ContentType,
            "content_length" => Field::ContentLength,
            "bytes" => Field::Bytes,
            "redirects" => Field::Redirects,
            "attempts" => Field::Attempts,
            "elapsed_ms" => Field::ElapsedMs,
            "extract" => Field::Extract,
            "saved_to" => Field::SavedTo,
            "error" => Field::Error,
            "error_kind" => Field::ErrorKind,
            "error_message" => Field::ErrorMessage,
            "host" => Field::Host,
            "headers" => Field::Headers,
            "row" => Field::Row,
            "id" => Field::Id,
            "tag" => Field::Tag,
            "sha256" => Field::Sha256,
            "duplicate_of" => Field::DuplicateOf,
            _ if name.starts_with(EXTRACT_PREFIX) && name.len() > EXTRACT_PREFIX.len() => {
                Field::ExtractKey(name.into())
            }
            _ => return None,
        })
    }

    fn name(&self) -> &str {
        match self {
            Field::Index => "index",
            Field::Input => "input",
            Field::Url => "url",
            Field::FinalUrl => "final_url",
            Field::Method => "method",
            Field::Status => "status",
            Field::Ok => "ok",
            Field::Title => "title",
            Field::Server => "server",
            Field::ContentType => "content_type",
            Field::ContentLength => "content_length",
            Field::Bytes => "bytes",
            Field::Redirects => "redirects",
            Field::Attempts => "attempts",
            Field::ElapsedMs => "elapsed_ms",
            Field::Extract => "extract",
            Field::SavedTo => "saved_to",
            Field::Error => "error",
            Field::ErrorKind => "error_kind",
            Field::ErrorMessage => "error_message",
            Field::Host => "host",
            Field::Headers => "headers",
            Field::Row => "row",
            Field::Id => "id",
            Field::Tag => "tag",
            Field::Sha256 => "sha256",
            Field::DuplicateOf => "duplicate_of",
            Field::ExtractKey(name) => name,
        }
    }
}

/// A selected field, with what the hot path needs precomputed.
#[derive(Debug, Clone)]
struct Column {
    field: Field,
    /// The JSON key with its punctuation: `{"name":` for the first column, `,"name":` after.
    json_key: Box<[u8]>,
}

impl Column {
    fn for_fields(fields: Vec<Field>) -> Vec<Column> {
        let columns = fields.into_iter().enumerate().map(|(i, field)| {
            let mut json_key = vec![if i == 0 { b'{' } else { b',' }];
            write_json_str(&mut json_key, field.name());
            json_key.push(b':');
            Column {
                field,
                json_key: json_key.into(),
            }
        });
        columns.collect()
    }
}

/// Validates and resolves a `--fields` list.
fn parse_fields(names: &[String]) -> Result<Vec<Field>, String> {
    let mut fields = Vec::with_capacity(names.len());
    for name in names {
        let name = name.trim();
        let field = Field::parse(name).ok_or_else(|| {
            let known: Vec<&str> = FIELDS.iter().chain(&EXTRA_FIELDS).copied().collect();
            format!(
                "unknown field `{name}` in --fields (known: {})",
                known.join(", ")
            )
        })?;
        if fields.contains(&field) {
            return Err(format!("field `{name}` appears twice in --fields"));
        }
        fields.push(field);
    }
    if fields.is_empty() {
        return Err("--fields needs at least one field name".to_owned());
    }
    Ok(fields)
}

/// The default JSONL fields: [`FIELDS`] in schema order.
fn default_jsonl_fields() -> Vec<Field> {
    FIELDS.iter().filter_map(|f| Field::parse(f)).collect()
}

/// `fields` with [`Field::Headers`] right after [`Field::Extract`] (`--include-headers`).
fn with_headers_field(mut fields: Vec<Field>) -> Vec<Field> {
    let at = fields
        .iter()
        .position(|f| *f == Field::Extract)
        .map_or(fields.len(), |i| i + 1);
    fields.insert(at, Field::Headers);
    fields
}

/// The fields of `columns` with `row` (or `id` and `tag`) before `saved_to`.
fn with_carried_fields(columns: &[Column], row: bool, ids: bool) -> Vec<Field> {
    let mut fields: Vec<Field> = columns.iter().map(|c| c.field.clone()).collect();
    let at = fields
        .iter()
        .position(|f| *f == Field::SavedTo)
        .unwrap_or(fields.len());
    let added = match (row, ids) {
        (true, _) => vec![Field::Row],
        (false, true) => vec![Field::Id, Field::Tag],
        (false, false) => vec![],
    };
    fields.splice(at..at, added);
    fields
}

/// [`FIELDS`] with `error` split in two (see the module docs).
fn default_csv_fields() -> Vec<Field> {
    FIELDS
        .iter()
        .flat_map(|&name| match name {
            "error" => vec![Field::ErrorKind, Field::ErrorMessage],
            _ => Field::parse(name).into_iter().collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    //! The records and helpers here are shared by the tests of every format file.

    use serde_json::Map;

    use super::*;
    use crate::record::{ErrorKind, RecordError};

    const URL: &str = "http://127.0.0.1:8080/p/1.html";

    pub(super) fn ok_record() -> Record {
        Record {
            index: 0,
            input: URL.into(),
            url: Some(URL.into()),
            final_url: Some(URL.into()),
            method: "GET".into(),
            status: Some(200),
            ok: true,
            title: Some("Page 1".into()),
            server: Some("nginx".into()),
            content_type: Some("text/html".into()),
            content_length: Some(1843),
            bytes: 1843,
            redirects: 0,
            attempts: 1,
            elapsed_ms: 12.3,
            extract: Map::new(),
            headers: None,
            carried: None,
            saved_to: None,
            sha256: None,
            duplicate_of: None,
            error: None,
        }
    }

    pub(super) fn connect_error() -> Record {
        let mut r = Record::unfetched(
            1,
            "127.0.0.2:9".into(),
            Some("http://127.0.0.2:9/".into()),
            "GET",
            RecordError::new(ErrorKind::Connect, "connection refused"),
        );
        r.attempts = 3;
        r.elapsed_ms = 3012.0;
        r
    }

    pub(super) fn invalid_input() -> Record {
        Record::unfetched(
            3,
            "ftp://x".into(),
            None,
            "GET",
            RecordError::new(ErrorKind::InvalidInput, "unsupported scheme `ftp`"),
        )
    }

    pub(super) fn line(printer: &Printer, rec: &Record) -> String {
        let mut out = Vec::new();
        printer.write(rec, &mut out);
        String::from_utf8(out).unwrap()
    }

    pub(super) fn printer(format: Format) -> Printer {
        Printer::new(format, None, false).unwrap()
    }

    pub(super) fn with_fields(format: Format, fields: &str) -> Printer {
        let names = fields.split(',').map(String::from).collect();
        Printer::new(format, Some(names), false).unwrap()
    }

    pub(super) const EVIL: &str = "Hi\x1b[2J\u{9b}\x7f\u{202e}txt.exe\u{2028}\n";

    #[test]
    fn fields_errors() {
        let err = Printer::new(
            Format::Text,
            Some(vec!["status".into(), "foo".into()]),
            false,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "unknown field `foo` in --fields (known: index, input, url, final_url, method, \
             status, ok, title, server, content_type, content_length, bytes, redirects, \
             attempts, elapsed_ms, extract, saved_to, error, error_kind, error_message, host, \
             headers, row, id, tag, sha256, duplicate_of, extract.NAME)"
        );
        let err = Printer::new(Format::Csv, Some(vec!["extract.".into()]), false).unwrap_err();
        assert!(
            err.starts_with("unknown field `extract.` in --fields"),
            "{err}"
        );
        let err = Printer::new(
            Format::Jsonl,
            Some(vec!["url".into(), " url".into()]),
            false,
        )
        .unwrap_err();
        assert_eq!(err, "field `url` appears twice in --fields");
        let err = Printer::new(Format::Jsonl, Some(vec![]), false).unwrap_err();
        assert_eq!(err, "--fields needs at least one field name");
    }

    #[test]
    fn include_headers_adds_a_key_after_extract_to_default_layouts_only() {
        let mut r = ok_record();
        let mut h = crate::record::Headers::new();
        h.push("server", "nginx".into());
        h.push("set-cookie", "a=1, b=2".into());
        r.headers = Some(h);
        let jsonl = printer(Format::Jsonl).with_headers(true);
        assert!(jsonl.needs_headers());
        let text = line(&jsonl, &r);
        assert!(
            text.contains(
                r#""extract":{},"headers":{"server":"nginx","set-cookie":"a=1, b=2"},"saved_to""#
            ),
            "{text}"
        );
        assert_eq!(text, serde_json::to_string(&r).unwrap() + "\n");
        assert!(line(&jsonl, &invalid_input()).contains(r#""extract":{},"headers":null,"#));
        // Without the flag the key is absent even when headers were kept.
        assert!(!line(&printer(Format::Jsonl), &r).contains("headers"));
        assert!(!printer(Format::Jsonl).with_headers(false).needs_headers());

        let csv = printer(Format::Csv).with_headers(true);
        let mut head = Vec::new();
        csv.header(&mut head);
        assert!(String::from_utf8(head)
            .unwrap()
            .contains(",extract,headers,saved_to,"));
        assert!(
            line(&csv, &r).contains(r#",,"{""server"":""nginx"",""set-cookie"":""a=1, b=2""}",,,"#)
        );
        assert!(line(&csv, &invalid_input()).contains(",0.0,,,,invalid_input,"));

        // Explicit --fields and the text line stay as they are.
        let fields = with_fields(Format::Jsonl, "status").with_headers(true);
        assert_eq!(line(&fields, &r), "{\"status\":200}\n");
        assert!(!fields.needs_headers());
        let text = printer(Format::Text).with_headers(true);
        assert!(!text.needs_headers());
        assert_eq!(line(&text, &r), line(&printer(Format::Text), &r));
        let fields = with_fields(Format::Text, "status,headers");
        assert!(fields.needs_headers());
        assert_eq!(
            line(&fields, &r),
            "200\t{\"server\":\"nginx\",\"set-cookie\":\"a=1, b=2\"}\n"
        );
    }

    #[test]
    fn carried_keys_for_csv_and_jsonl_inputs() {
        use crate::record::Carried;
        let mut r = ok_record();
        r.carried = Some(Box::new(Carried {
            id: Some(serde_json::json!({"n": 1})),
            ..Carried::default()
        }));
        let jsonl = printer(Format::Jsonl).with_carried(false, true);
        assert!(line(&jsonl, &r).contains(r#""extract":{},"id":{"n":1},"saved_to""#));
        // No `tag` given, none at all for a plain record.
        assert!(!line(&jsonl, &r).contains("tag"));
        assert!(!line(&jsonl, &ok_record()).contains("\"id\""));
        let csv = printer(Format::Csv).with_carried(true, false);
        let mut head = Vec::new();
        csv.header(&mut head);
        let head = String::from_utf8(head).unwrap();
        assert!(head.contains(",extract,row,saved_to,"), "{head}");
        r.carried = Some(Box::new(Carried {
            row: Some(Map::from_iter([("a".to_owned(), "x,y".into())])),
            ..Carried::default()
        }));
        let row = line(&csv, &r);
        assert!(row.contains(r#","{""a"":""x,y""}","#), "{row}");
        let jsonl = printer(Format::Jsonl).with_carried(true, false);
        assert!(line(&jsonl, &invalid_input()).contains(r#""extract":{},"row":null,"#));
        // An explicit --fields list stays as given.
        let fields = with_fields(Format::Jsonl, "status").with_carried(true, true);
        assert_eq!(line(&fields, &r), "{\"status\":200}\n");
    }

    #[test]
    fn every_schema_field_is_selectable_and_round_trips_its_name() {
        let extra = EXTRA_FIELDS.iter().filter(|f| **f != "extract.NAME");
        for name in FIELDS.iter().chain(extra).chain(&["extract.x"]) {
            let field = Field::parse(name).unwrap();
            assert_eq!(field.name(), *name);
            assert_eq!(
                Column::for_fields(vec![field])[0].json_key[..],
                *format!("{{\"{name}\":").as_bytes()
            );
        }
    }
}
