//! Record printers: one [`Record`] in, exactly one line out, in the format the user chose (text for
//! people, JSON Lines or CSV for programs). The single writer task builds one [`Printer`] and calls
//! [`Printer::write`] per record into a reused buffer, so this is the hot path of a fast run: it
//! writes straight into the caller's `Vec<u8>`. JSONL and text allocate nothing else unless
//! network text actually needs escaping; CSV also builds the JSON text of a non-empty `extract` or
//! `error` cell before quoting it.
//!
//! Every format is terminal-safe (DESIGN §2): text and CSV pass network text through
//! [`escape_text`]; JSON escapes the same characters as `\uXXXX`, so the line is still valid JSON
//! that parses back to the original string.
//!
//! # `--fields`
//!
//! Accepted names: every name in [`FIELDS`], plus `error_kind` and `error_message` (the two parts
//! of `error`), `host` ([`Record::host`]), and `extract.NAME` (one extracted value). They select
//! and order the keys of a JSONL object, the columns of CSV, and the tab-separated cells of text.
//!
//! # CSV columns
//!
//! One rule for every column: a field is one cell. Strings are text-escaped, null is an empty
//! cell, `extract` and `error` are compact JSON (empty for `{}` / null), `extract.NAME` is the
//! string itself or compact JSON for other values. Without `--fields` the columns are [`FIELDS`]
//! with `error` replaced by `error_kind,error_message`, so the common case needs no JSON parsing.
//! String cells starting with `=`, `+`, `-`, `@`, TAB or CR get a leading `'` (OWASP CSV
//! injection); numbers and booleans never do. Rows end in `\n`, like the other formats.

use std::io;

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, Serializer};
use serde_json::{Map, Value};

use super::sanitize::{escape_text, find_unsafe, json_u_escape, write_json_str};
use crate::record::{Record, RecordError, FIELDS};

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
    color: bool,
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
        let fields = match fields {
            Some(names) => Some(parse_fields(&names)?),
            // JSONL and CSV always have explicit columns; text has a layout of its own.
            None => match format {
                Format::Jsonl => Some(FIELDS.iter().filter_map(|f| Field::parse(f)).collect()),
                Format::Csv => Some(default_csv_fields()),
                Format::Text => None,
            },
        };
        Ok(Printer {
            format,
            columns: fields.map(Column::for_fields),
            color,
        })
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
        match (self.format, &self.columns) {
            (Format::Jsonl, Some(columns)) => write_json_fields(out, rec, columns),
            (Format::Csv, Some(columns)) => write_csv_row(out, rec, columns),
            (Format::Text, Some(columns)) => write_text_fields(out, rec, columns),
            // `new` gives JSONL and CSV explicit fields, so only text gets here.
            (_, None) => write_text_line(out, rec, self.color),
        }
        out.push(b'\n');
    }
}

// ---------------------------------------------------------------------------------------------
// Fields and cells

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
    /// `extract.NAME`: one extracted value. Holds the whole field name.
    ExtractKey(Box<str>),
}

/// The names `--fields` accepts besides [`FIELDS`], for the error message.
const EXTRA_FIELDS: [&str; 4] = ["error_kind", "error_message", "host", "extract.NAME"];

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
            Field::ExtractKey(name) => name,
        }
    }

    /// The value of this field in `rec`.
    fn cell<'a>(&self, rec: &'a Record) -> Cell<'a> {
        let opt_str = |s: &'a Option<String>| s.as_deref().map_or(Cell::Null, Cell::Str);
        match self {
            Field::Index => Cell::UInt(rec.index),
            Field::Input => Cell::Str(&rec.input),
            Field::Url => opt_str(&rec.url),
            Field::FinalUrl => opt_str(&rec.final_url),
            Field::Method => Cell::Str(&rec.method),
            Field::Status => rec.status.map_or(Cell::Null, |s| Cell::UInt(s.into())),
            Field::Ok => Cell::Bool(rec.ok),
            Field::Title => opt_str(&rec.title),
            Field::Server => opt_str(&rec.server),
            Field::ContentType => opt_str(&rec.content_type),
            Field::ContentLength => rec.content_length.map_or(Cell::Null, Cell::UInt),
            Field::Bytes => Cell::UInt(rec.bytes),
            Field::Redirects => Cell::UInt(rec.redirects.into()),
            Field::Attempts => Cell::UInt(rec.attempts.into()),
            Field::ElapsedMs => Cell::Float(rec.elapsed_ms),
            Field::Extract => Cell::Map(&rec.extract),
            Field::SavedTo => opt_str(&rec.saved_to),
            Field::Error => rec.error.as_ref().map_or(Cell::Null, Cell::Error),
            Field::ErrorKind => rec
                .error
                .as_ref()
                .map_or(Cell::Null, |e| Cell::Str(e.kind.as_str())),
            Field::ErrorMessage => rec
                .error
                .as_ref()
                .map_or(Cell::Null, |e| Cell::Str(&e.message)),
            Field::Host => rec.host().map_or(Cell::Null, Cell::Str),
            Field::ExtractKey(name) => match rec.extract.get(&name[EXTRACT_PREFIX.len()..]) {
                None | Some(Value::Null) => Cell::Null,
                Some(Value::String(s)) => Cell::Str(s),
                Some(v) => Cell::Value(v),
            },
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

/// One field's value, typed so each format can render it its own way.
#[derive(Debug, Clone, Copy)]
enum Cell<'a> {
    Null,
    Str(&'a str),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Map(&'a Map<String, Value>),
    Error(&'a RecordError),
    /// A non-string, non-null extracted value.
    Value(&'a Value),
}

// ---------------------------------------------------------------------------------------------
// JSON

/// A compact JSON formatter for extracted values (arbitrary JSON from the network) that escapes
/// what [`write_json_str`] escapes. serde_json already escapes C0 controls, `"` and `\`; every run
/// it would copy raw comes here, where the rest of the unsafe characters are split out.
struct SafeJson;

impl Formatter for SafeJson {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let mut rest = fragment;
        while let Some((i, c)) = find_unsafe(rest) {
            writer.write_all(&rest.as_bytes()[..i])?;
            // serde_json has already taken C0 controls, `"` and `\` out of the fragment, so what
            // is left to escape takes the `\uXXXX` form.
            writer.write_all(&json_u_escape(c))?;
            rest = &rest[i + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }
}

/// Serialises `value` as terminal-safe compact JSON (for extracted values).
fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let mut ser = Serializer::with_formatter(&mut *out, SafeJson);
    // Writing to a Vec cannot fail, and JSON values have only string keys, so neither can
    // serialisation.
    let result = value.serialize(&mut ser);
    debug_assert!(result.is_ok());
}

/// A JSON object with the selected keys in the selected order. Without `--fields` that is every
/// field of the schema, and the line equals serde_json's serialisation of the [`Record`] (a test
/// guards it) apart from the extra escapes — written by hand because this is the hot path.
fn write_json_fields(out: &mut Vec<u8>, rec: &Record, columns: &[Column]) {
    for column in columns {
        out.extend_from_slice(&column.json_key);
        match column.field.cell(rec) {
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::Str(s) => write_json_str(out, s),
            Cell::Map(m) if m.is_empty() => out.extend_from_slice(b"{}"),
            cell => write_plain_cell(out, cell),
        }
    }
    out.push(b'}');
}

/// The `error` object, as serde_json writes a [`RecordError`].
fn write_json_error(out: &mut Vec<u8>, error: &RecordError) {
    out.extend_from_slice(b"{\"kind\":");
    write_json_str(out, error.kind.as_str());
    out.extend_from_slice(b",\"message\":");
    write_json_str(out, &error.message);
    out.push(b'}');
}

// ---------------------------------------------------------------------------------------------
// Numbers, sizes, durations

/// Appends `n` in decimal.
fn write_u64(out: &mut Vec<u8>, n: u64) {
    // serde_json's formatter is itoa underneath; writing to a Vec cannot fail.
    let _ = CompactFormatter.write_u64(out, n);
}

/// Shortest round-trip form (`12.0`, `123.4`), as in JSON. Non-finite values never occur in a
/// record; they print as `null` like serde_json does.
fn write_f64(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        let _ = CompactFormatter.write_f64(out, x);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A size for people: `512B`, then base 1024 with one decimal: `1.8KB`, `3.4MB`, `1.2GB`.
pub(crate) fn write_size(out: &mut Vec<u8>, bytes: u64) {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if bytes < 1024 {
        write_u64(out, bytes);
        out.push(b'B');
        return;
    }
    let mut divisor: u128 = 1024;
    for (i, unit) in UNITS.iter().enumerate() {
        // Integer tenths, rounded half up, so 1023.96KB becomes 1.0MB rather than 1024.0KB.
        let tenths = (u128::from(bytes) * 10 + divisor / 2) / divisor;
        if tenths < 10_240 || i == UNITS.len() - 1 {
            write_tenths(out, tenths as u64);
            out.extend_from_slice(unit.as_bytes());
            return;
        }
        divisor *= 1024;
    }
}

/// An elapsed time for people: whole milliseconds below one second (`12ms`), else seconds with one
/// decimal (`1.2s`).
pub(crate) fn write_elapsed(out: &mut Vec<u8>, ms: f64) {
    let ms = if ms.is_finite() && ms > 0.0 { ms } else { 0.0 };
    let rounded = ms.round();
    if rounded < 1000.0 {
        write_u64(out, rounded as u64);
        out.extend_from_slice(b"ms");
    } else {
        write_tenths(out, (ms / 100.0).round() as u64);
        out.push(b's');
    }
}

/// `tenths` as `N.D`.
fn write_tenths(out: &mut Vec<u8>, tenths: u64) {
    write_u64(out, tenths / 10);
    out.push(b'.');
    out.push(b'0' + (tenths % 10) as u8);
}

// ---------------------------------------------------------------------------------------------
// Text

/// ANSI SGR colours; each coloured span is reset right after, so nothing bleeds.
const GREEN: &[u8] = b"\x1b[32m";
const CYAN: &[u8] = b"\x1b[36m";
const YELLOW: &[u8] = b"\x1b[33m";
const RED: &[u8] = b"\x1b[31m";
const BOLD: &[u8] = b"\x1b[1m";
const RESET: &[u8] = b"\x1b[0m";

/// Writes `text` wrapped in `sgr` when colour is on.
fn paint(out: &mut Vec<u8>, color: bool, sgr: &[u8], text: impl FnOnce(&mut Vec<u8>)) {
    if color {
        out.extend_from_slice(sgr);
        text(out);
        out.extend_from_slice(RESET);
    } else {
        text(out);
    }
}

/// Appends network text, escaped for the terminal.
fn push_text(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(escape_text(s).as_bytes());
}

/// The default text line:
/// `STATUS URL [title] [server] SIZE ELAPSED redirects=N NAME=VALUE… saved=PATH error=KIND: MSG`.
///
/// The URL is the final URL, else the requested one, else the input. Title and server appear when
/// present and non-empty; size only when a response arrived; elapsed only when something was sent,
/// so an invalid input reads `ERR ftp://x error=invalid_input: …` without noise.
fn write_text_line(out: &mut Vec<u8>, rec: &Record, color: bool) {
    write_status(out, rec.status, color);
    out.push(b' ');
    let target = rec.final_url.as_deref().or(rec.url.as_deref());
    push_text(out, target.unwrap_or(&rec.input));
    if let Some(title) = rec.title.as_deref().filter(|t| !t.is_empty()) {
        out.extend_from_slice(b" [");
        paint(out, color, BOLD, |out| push_text(out, title));
        out.push(b']');
    }
    if let Some(server) = rec.server.as_deref().filter(|s| !s.is_empty()) {
        out.extend_from_slice(b" [");
        push_text(out, server);
        out.push(b']');
    }
    if rec.status.is_some() {
        out.push(b' ');
        write_size(out, rec.bytes);
    }
    if rec.attempts > 0 {
        out.push(b' ');
        write_elapsed(out, rec.elapsed_ms);
    }
    if rec.redirects > 0 {
        out.extend_from_slice(b" redirects=");
        write_u64(out, rec.redirects.into());
    }
    write_text_extract(out, &rec.extract);
    if let Some(path) = &rec.saved_to {
        out.extend_from_slice(b" saved=");
        push_text(out, path);
    }
    if let Some(error) = &rec.error {
        out.push(b' ');
        paint(out, color, RED, |out| {
            out.extend_from_slice(b"error=");
            out.extend_from_slice(error.kind.as_str().as_bytes());
            out.extend_from_slice(b": ");
            push_text(out, &error.message);
        });
    }
}

/// The status code coloured by class, or `ERR` when no response arrived.
fn write_status(out: &mut Vec<u8>, status: Option<u16>, color: bool) {
    let Some(status) = status else {
        paint(out, color, RED, |out| out.extend_from_slice(b"ERR"));
        return;
    };
    let sgr = match status {
        200..=299 => GREEN,
        300..=399 => CYAN,
        400..=499 => YELLOW,
        500.. => RED,
        _ => b"",
    };
    paint(out, color && !sgr.is_empty(), sgr, |out| {
        write_u64(out, status.into())
    });
}

/// ` name=value` per extracted value: strings as escaped text, anything else as compact JSON.
fn write_text_extract(out: &mut Vec<u8>, extract: &Map<String, Value>) {
    for (name, value) in extract {
        out.push(b' ');
        push_text(out, name);
        out.push(b'=');
        match value {
            Value::String(s) => push_text(out, s),
            v => write_json(out, v),
        }
    }
}

/// `--fields` in text: values separated by one tab, null as `-`. Escaping turns any tab inside a
/// value into `\t`, so the separator is unambiguous.
fn write_text_fields(out: &mut Vec<u8>, rec: &Record, columns: &[Column]) {
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match column.field.cell(rec) {
            Cell::Null => out.push(b'-'),
            Cell::Str(s) => push_text(out, s),
            cell => write_plain_cell(out, cell),
        }
    }
}

/// Non-string cells as text: numbers and booleans as in JSON, structures as compact JSON.
fn write_plain_cell(out: &mut Vec<u8>, cell: Cell<'_>) {
    match cell {
        Cell::Null => {}
        Cell::Str(s) => push_text(out, s),
        Cell::UInt(n) => write_u64(out, n),
        Cell::Float(x) => write_f64(out, x),
        Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Cell::Map(m) => write_json(out, m),
        Cell::Error(e) => write_json_error(out, e),
        Cell::Value(v) => write_json(out, v),
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

fn write_csv_row(out: &mut Vec<u8>, rec: &Record, columns: &[Column]) {
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match column.field.cell(rec) {
            Cell::Null => {}
            Cell::Str(s) => write_csv_text(out, s),
            Cell::Map(m) if m.is_empty() => {}
            // Structures become JSON text, which may hold commas and quotes: quote it as text.
            cell @ (Cell::Map(_)
            | Cell::Error(_)
            | Cell::Value(Value::Array(_) | Value::Object(_))) => {
                let mut json = Vec::new();
                write_plain_cell(&mut json, cell);
                write_csv_text(out, &String::from_utf8_lossy(&json));
            }
            // Numbers and booleans never need quoting or formula neutralising.
            cell => write_plain_cell(out, cell),
        }
    }
}

/// One RFC 4180 text cell: escaped for the terminal, neutralised against spreadsheet formulas,
/// quoted when it holds `,` `"` CR or LF.
fn write_csv_text(out: &mut Vec<u8>, s: &str) {
    let s = escape_text(s);
    let formula = matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    // CR and LF never survive `escape_text`, so a comma or a quote is all that forces quoting.
    let quote = memchr::memchr2(b',', b'"', s.as_bytes()).is_some();
    if quote {
        out.push(b'"');
    }
    if formula {
        out.push(b'\'');
    }
    if quote {
        for (i, part) in s.split('"').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(part.as_bytes());
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ErrorKind;

    const URL: &str = "http://127.0.0.1:8080/p/1.html";

    fn ok_record() -> Record {
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
            saved_to: None,
            error: None,
        }
    }

    fn connect_error() -> Record {
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

    fn invalid_input() -> Record {
        Record::unfetched(
            3,
            "ftp://x".into(),
            None,
            "GET",
            RecordError::new(ErrorKind::InvalidInput, "unsupported scheme `ftp`"),
        )
    }

    fn line(printer: &Printer, rec: &Record) -> String {
        let mut out = Vec::new();
        printer.write(rec, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn printer(format: Format) -> Printer {
        Printer::new(format, None, false).unwrap()
    }

    fn with_fields(format: Format, fields: &str) -> Printer {
        let names = fields.split(',').map(String::from).collect();
        Printer::new(format, Some(names), false).unwrap()
    }

    const EVIL: &str = "Hi\x1b[2J\u{9b}\x7f\u{202e}txt.exe\u{2028}\n";

    // --- text -----------------------------------------------------------------------------

    #[test]
    fn text_ok_record() {
        assert_eq!(
            line(&printer(Format::Text), &ok_record()),
            "200 http://127.0.0.1:8080/p/1.html [Page 1] [nginx] 1.8KB 12ms\n"
        );
    }

    #[test]
    fn text_error_records() {
        let p = printer(Format::Text);
        assert_eq!(
            line(&p, &connect_error()),
            "ERR http://127.0.0.2:9/ 3.0s error=connect: connection refused\n"
        );
        assert_eq!(
            line(&p, &invalid_input()),
            "ERR ftp://x error=invalid_input: unsupported scheme `ftp`\n"
        );
        // A status that arrived before the error is shown, with what was read.
        let mut r = ok_record();
        r.ok = false;
        r.bytes = 8 << 20;
        r.error = Some(RecordError::new(ErrorKind::BodyTooLarge, "body over 8MiB"));
        assert_eq!(
            line(&p, &r),
            "200 http://127.0.0.1:8080/p/1.html [Page 1] [nginx] 8.0MB 12ms \
             error=body_too_large: body over 8MiB\n"
        );
    }

    #[test]
    fn text_redirects_extract_saved() {
        let mut r = ok_record();
        r.final_url = Some("http://127.0.0.1:8080/p/2.html".into());
        r.title = None;
        r.server = Some(String::new());
        r.redirects = 2;
        r.extract.insert("name".into(), Value::from("a b\tc"));
        r.extract
            .insert("price".into(), serde_json::json!([9.5, "x"]));
        r.saved_to = Some("out/1.html".into());
        assert_eq!(
            line(&printer(Format::Text), &r),
            "200 http://127.0.0.1:8080/p/2.html 1.8KB 12ms redirects=2 name=a b\\tc \
             price=[9.5,\"x\"] saved=out/1.html\n"
        );
    }

    #[test]
    fn text_escapes_network_text() {
        let mut r = connect_error();
        r.title = Some(EVIL.into());
        r.server = Some("x\ry".into());
        r.final_url = Some("http://a/\u{202e}".into());
        r.error = Some(RecordError::new(ErrorKind::Protocol, "bad\nheader"));
        assert_eq!(
            line(&printer(Format::Text), &r),
            "ERR http://a/\\u{202e} [Hi\\x1b[2J\\x9b\\x7f\\u{202e}txt.exe\\u{2028}\\n] [x\\ry] 3.0s \
             error=protocol: bad\\nheader\n"
        );
    }

    #[test]
    fn text_colour() {
        let p = Printer::new(Format::Text, None, true).unwrap();
        assert_eq!(
            line(&p, &ok_record()),
            "\x1b[32m200\x1b[0m http://127.0.0.1:8080/p/1.html [\x1b[1mPage 1\x1b[0m] [nginx] \
             1.8KB 12ms\n"
        );
        assert_eq!(
            line(&p, &invalid_input()),
            "\x1b[31mERR\x1b[0m ftp://x \x1b[31merror=invalid_input: unsupported scheme \
             `ftp`\x1b[0m\n"
        );
        let mut r = ok_record();
        r.title = None;
        r.server = None;
        for (status, sgr) in [
            (101, ""),
            (301, "\x1b[36m"),
            (404, "\x1b[33m"),
            (503, "\x1b[31m"),
        ] {
            r.status = Some(status);
            let reset = if sgr.is_empty() { "" } else { "\x1b[0m" };
            assert_eq!(
                line(&p, &r),
                format!("{sgr}{status}{reset} http://127.0.0.1:8080/p/1.html 1.8KB 12ms\n")
            );
        }
        // Colour never leaks into machine formats.
        let csv = Printer::new(Format::Csv, Some(vec!["status".into()]), true).unwrap();
        assert_eq!(line(&csv, &ok_record()), "200\n");
    }

    #[test]
    fn text_fields() {
        let p = with_fields(
            Format::Text,
            "status, url,title,error_kind,host,elapsed_ms,ok",
        );
        assert_eq!(
            line(&p, &ok_record()),
            "200\thttp://127.0.0.1:8080/p/1.html\tPage 1\t-\t127.0.0.1:8080\t12.3\ttrue\n"
        );
        let p = with_fields(Format::Text, "index,status,error,extract,extract.n,title");
        let mut r = invalid_input();
        r.extract.insert("n".into(), Value::from(3));
        r.title = Some("a\tb".into());
        assert_eq!(
            line(&p, &r),
            "3\t-\t{\"kind\":\"invalid_input\",\"message\":\"unsupported scheme `ftp`\"}\t\
             {\"n\":3}\t3\ta\\tb\n"
        );
    }

    // --- JSONL ----------------------------------------------------------------------------

    #[test]
    fn jsonl_is_serde_json_of_the_record() {
        let p = printer(Format::Jsonl);
        for r in [ok_record(), connect_error(), invalid_input()] {
            assert_eq!(line(&p, &r), serde_json::to_string(&r).unwrap() + "\n");
        }
        assert_eq!(
            line(&p, &ok_record()),
            "{\"index\":0,\"input\":\"http://127.0.0.1:8080/p/1.html\",\
             \"url\":\"http://127.0.0.1:8080/p/1.html\",\
             \"final_url\":\"http://127.0.0.1:8080/p/1.html\",\"method\":\"GET\",\"status\":200,\
             \"ok\":true,\"title\":\"Page 1\",\"server\":\"nginx\",\"content_type\":\"text/html\",\
             \"content_length\":1843,\"bytes\":1843,\"redirects\":0,\"attempts\":1,\
             \"elapsed_ms\":12.3,\"extract\":{},\"saved_to\":null,\"error\":null}\n"
        );
    }

    #[test]
    fn jsonl_escapes_controls_and_bidi_and_parses_back() {
        let mut r = invalid_input();
        r.input = EVIL.into();
        r.error = Some(RecordError::new(
            ErrorKind::InvalidInput,
            "\u{61c}\u{2066}x",
        ));
        let text = line(&printer(Format::Jsonl), &r);
        assert_eq!(
            text,
            "{\"index\":3,\"input\":\"Hi\\u001b[2J\\u009b\\u007f\\u202etxt.exe\\u2028\\n\",\
             \"url\":null,\"final_url\":null,\"method\":\"GET\",\"status\":null,\"ok\":false,\
             \"title\":null,\"server\":null,\"content_type\":null,\"content_length\":null,\
             \"bytes\":0,\"redirects\":0,\"attempts\":0,\"elapsed_ms\":0.0,\"extract\":{},\
             \"saved_to\":null,\"error\":{\"kind\":\"invalid_input\",\
             \"message\":\"\\u061c\\u2066x\"}}\n"
        );
        assert!(text[..text.len() - 1]
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b)));
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, serde_json::to_value(&r).unwrap());
    }

    #[test]
    fn jsonl_escapes_extracted_values() {
        let mut r = invalid_input();
        r.extract
            .insert("n".into(), serde_json::json!(["\u{2028}", 1.5, null]));
        r.extract
            .insert("t".into(), Value::from("a\u{202e}b\x1b\u{85}\""));
        let text = line(&printer(Format::Jsonl), &r);
        assert!(
            text.contains(r#","extract":{"n":["\u2028",1.5,null],"t":"a\u202eb\u001b\u0085\""},"#),
            "{text}"
        );
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, serde_json::to_value(&r).unwrap());
        // Text shows strings as text and other values as the same safe JSON.
        assert!(line(&printer(Format::Text), &r)
            .contains(r#" n=["\u2028",1.5,null] t=a\u{202e}b\x1b\x85" "#));
    }

    #[test]
    fn jsonl_fields() {
        let p = with_fields(
            Format::Jsonl,
            "status,url,error_kind,host,extract.x,elapsed_ms",
        );
        assert_eq!(
            line(&p, &ok_record()),
            "{\"status\":200,\"url\":\"http://127.0.0.1:8080/p/1.html\",\"error_kind\":null,\
             \"host\":\"127.0.0.1:8080\",\"extract.x\":null,\"elapsed_ms\":12.3}\n"
        );
        let p = with_fields(Format::Jsonl, "error,error_message");
        assert_eq!(
            line(&p, &invalid_input()),
            "{\"error\":{\"kind\":\"invalid_input\",\"message\":\"unsupported scheme `ftp`\"},\
             \"error_message\":\"unsupported scheme `ftp`\"}\n"
        );
    }

    // --- CSV ------------------------------------------------------------------------------

    fn header(p: &Printer) -> String {
        let mut out = Vec::new();
        p.header(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_default_columns_and_rows() {
        let p = printer(Format::Csv);
        assert_eq!(
            header(&p),
            "index,input,url,final_url,method,status,ok,title,server,content_type,\
             content_length,bytes,redirects,attempts,elapsed_ms,extract,saved_to,error_kind,\
             error_message\n"
        );
        assert_eq!(
            line(&p, &ok_record()),
            "0,http://127.0.0.1:8080/p/1.html,http://127.0.0.1:8080/p/1.html,\
             http://127.0.0.1:8080/p/1.html,GET,200,true,Page 1,nginx,text/html,1843,1843,0,1,\
             12.3,,,,\n"
        );
        assert_eq!(
            line(&p, &invalid_input()),
            "3,ftp://x,,,GET,,false,,,,,0,0,0,0.0,,,invalid_input,unsupported scheme `ftp`\n"
        );
        let mut r = ok_record();
        r.extract.insert("a".into(), Value::from("x,y"));
        let row = line(&p, &r);
        assert!(
            row.contains(",12.3,\"{\"\"a\"\":\"\"x,y\"\"}\",,,\n"),
            "{row}"
        );
        // No header for the other formats.
        assert_eq!(header(&printer(Format::Text)), "");
        assert_eq!(header(&printer(Format::Jsonl)), "");
    }

    #[test]
    fn csv_quoting_escaping_and_formula_neutralising() {
        let p = with_fields(Format::Csv, "title,status,extract.n,extract.s,extract.a");
        assert_eq!(header(&p), "title,status,extract.n,extract.s,extract.a\n");
        let mut r = ok_record();
        let mut row = |title: &str| {
            r.title = Some(title.into());
            line(&p, &r)
        };
        assert_eq!(row("Say \"hi\", ok"), "\"Say \"\"hi\"\", ok\",200,,,\n");
        assert_eq!(
            row("=HYPERLINK(\"x\")"),
            "\"'=HYPERLINK(\"\"x\"\")\",200,,,\n"
        );
        assert_eq!(row("-1+2"), "'-1+2,200,,,\n");
        assert_eq!(row("+1"), "'+1,200,,,\n");
        assert_eq!(row("@SUM(A1)"), "'@SUM(A1),200,,,\n");
        // Tab and CR are escaped first, so they no longer lead the cell.
        assert_eq!(row("\tx\r\n"), "\\tx\\r\\n,200,,,\n");
        assert_eq!(
            row(EVIL),
            "Hi\\x1b[2J\\x9b\\x7f\\u{202e}txt.exe\\u{2028}\\n,200,,,\n"
        );
        // Numbers are never neutralised; extracted strings are.
        r.title = None;
        r.extract.insert("n".into(), Value::from(-5));
        r.extract.insert("s".into(), Value::from("-5"));
        r.extract.insert("a".into(), serde_json::json!([1, 2]));
        assert_eq!(line(&p, &r), ",200,-5,'-5,\"[1,2]\"\n");
    }

    // --- --fields validation, sizes, durations --------------------------------------------

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
             extract.NAME)"
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
    fn every_schema_field_is_selectable_and_round_trips_its_name() {
        for name in FIELDS
            .iter()
            .chain(&["error_kind", "error_message", "host", "extract.x"])
        {
            let field = Field::parse(name).unwrap();
            assert_eq!(field.name(), *name);
            assert_eq!(
                Column::for_fields(vec![field])[0].json_key[..],
                *format!("{{\"{name}\":").as_bytes()
            );
        }
    }

    fn size(n: u64) -> String {
        let mut out = Vec::new();
        write_size(&mut out, n);
        String::from_utf8(out).unwrap()
    }

    fn elapsed(ms: f64) -> String {
        let mut out = Vec::new();
        write_elapsed(&mut out, ms);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sizes() {
        let cases = [
            (0, "0B"),
            (512, "512B"),
            (1023, "1023B"),
            (1024, "1.0KB"),
            (1843, "1.8KB"),
            (1_048_535, "1.0MB"),
            (3_565_158, "3.4MB"),
            (1_288_490_189, "1.2GB"),
            (u64::MAX, "16.0EB"),
        ];
        for (n, want) in cases {
            assert_eq!(size(n), want, "{n}");
        }
    }

    #[test]
    fn durations() {
        let cases = [
            (0.0, "0ms"),
            (0.4, "0ms"),
            (12.3, "12ms"),
            (999.4, "999ms"),
            (999.6, "1.0s"),
            (1234.0, "1.2s"),
            (61_000.0, "61.0s"),
            (f64::NAN, "0ms"),
            (-3.0, "0ms"),
        ];
        for (ms, want) in cases {
            assert_eq!(elapsed(ms), want, "{ms}");
        }
    }
}
