//! JSON output: the JSON Lines record (one object per line, keys in the selected order) and the
//! terminal-safe compact JSON that text and CSV also use for structured values.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

use super::cell::{write_plain_cell, Cell};
use super::{Column, Field};
use crate::output::sanitize::{find_unsafe, json_u_escape, write_json_str};
use crate::record::{Record, RecordError};

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
pub(super) fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let mut ser = Serializer::with_formatter(&mut *out, SafeJson);
    // Writing to a Vec cannot fail, and JSON values have only string keys, so neither can
    // serialisation.
    let result = value.serialize(&mut ser);
    debug_assert!(result.is_ok());
}

/// A JSON object with the selected keys in the selected order. Without `--fields` that is every
/// field of the schema, and the line equals serde_json's serialisation of the [`Record`] (a test
/// guards it) apart from the extra escapes — written by hand because this is the hot path.
pub(super) fn write_json_fields(out: &mut Vec<u8>, rec: &Record, columns: &[Column]) {
    for column in columns {
        let cell = column.field.cell(rec);
        // `id` and `tag` are present only when the input gave them (never the first key, whose
        // JSON text opens the object).
        if matches!(cell, Cell::Null)
            && matches!(column.field, Field::Id | Field::Tag)
            && column.json_key[0] == b','
        {
            continue;
        }
        out.extend_from_slice(&column.json_key);
        match cell {
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::Str(s) => write_json_str(out, s),
            Cell::Map(m) if m.is_empty() => out.extend_from_slice(b"{}"),
            cell => write_plain_cell(out, cell),
        }
    }
    out.push(b'}');
}

/// The `error` object, as serde_json writes a [`RecordError`].
pub(super) fn write_json_error(out: &mut Vec<u8>, error: &RecordError) {
    out.extend_from_slice(b"{\"kind\":");
    write_json_str(out, error.kind.as_str());
    out.extend_from_slice(b",\"message\":");
    write_json_str(out, &error.message);
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::output::format::tests::{
        connect_error, invalid_input, line, ok_record, printer, with_fields, EVIL,
    };
    use crate::output::format::Format;
    use crate::record::{ErrorKind, RecordError};

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
}
