//! A field's value in a record ([`Cell`]) and its plain rendering, shared by every format: each
//! format handles nulls and strings its own way and hands the rest to [`write_plain_cell`], which
//! writes numbers and booleans as in JSON.

use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::{Map, Value};

use super::jsonl::{write_json, write_json_error};
use super::text::push_text;
use super::{Field, EXTRACT_PREFIX};
use crate::record::{Headers, Record, RecordError};

/// One field's value, typed so each format can render it its own way.
#[derive(Debug, Clone, Copy)]
pub(super) enum Cell<'a> {
    Null,
    Str(&'a str),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Map(&'a Map<String, Value>),
    Headers(&'a Headers),
    Error(&'a RecordError),
    /// A non-string, non-null extracted value.
    Value(&'a Value),
}

impl Field {
    /// The value of this field in `rec`.
    pub(super) fn cell<'a>(&self, rec: &'a Record) -> Cell<'a> {
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
            Field::Headers => rec.headers.as_ref().map_or(Cell::Null, Cell::Headers),
            Field::Row => match rec.carried.as_ref().and_then(|c| c.row.as_ref()) {
                Some(row) => Cell::Map(row),
                None => Cell::Null,
            },
            Field::Id => value_cell(rec.carried.as_ref().and_then(|c| c.id.as_ref())),
            Field::Tag => value_cell(rec.carried.as_ref().and_then(|c| c.tag.as_ref())),
            Field::Sha256 => opt_str(&rec.sha256),
            Field::DuplicateOf => rec.duplicate_of.map_or(Cell::Null, Cell::UInt),
            Field::ExtractKey(name) => value_cell(rec.extract.get(&name[EXTRACT_PREFIX.len()..])),
        }
    }
}

/// A JSON value's cell: strings as strings, null and absent as null.
fn value_cell(value: Option<&Value>) -> Cell<'_> {
    match value {
        None | Some(Value::Null) => Cell::Null,
        Some(Value::String(s)) => Cell::Str(s),
        Some(v) => Cell::Value(v),
    }
}

/// Non-string cells as text: numbers and booleans as in JSON, structures as compact JSON.
pub(super) fn write_plain_cell(out: &mut Vec<u8>, cell: Cell<'_>) {
    match cell {
        Cell::Null => {}
        Cell::Str(s) => push_text(out, s),
        Cell::UInt(n) => write_u64(out, n),
        Cell::Float(x) => write_f64(out, x),
        Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Cell::Map(m) => write_json(out, m),
        Cell::Headers(h) => write_json(out, h),
        Cell::Error(e) => write_json_error(out, e),
        Cell::Value(v) => write_json(out, v),
    }
}

/// Appends `n` in decimal.
pub(super) fn write_u64(out: &mut Vec<u8>, n: u64) {
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
