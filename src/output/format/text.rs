//! The text format, for people: the default one-line layout (status, URL, title, size, time…,
//! coloured on a terminal), the tab-separated `--fields` layout, and the human size and duration
//! forms (`1.8KB`, `12ms`; the summary prints sizes the same way).

use serde_json::{Map, Value};

use super::cell::{write_plain_cell, write_u64, Cell};
use super::jsonl::write_json;
use super::Column;
use crate::output::sanitize::escape_text;
use crate::record::Record;

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
pub(super) fn push_text(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(escape_text(s).as_bytes());
}

/// The default text line:
/// `STATUS URL [title] [server] SIZE ELAPSED redirects=N NAME=VALUE… saved=PATH error=KIND: MSG`.
///
/// The URL is the final URL, else the requested one, else the input. Title and server appear when
/// present and non-empty; size only when a response arrived; elapsed only when something was sent,
/// so an invalid input reads `ERR ftp://x error=invalid_input: …` without noise.
pub(super) fn write_text_line(out: &mut Vec<u8>, rec: &Record, color: bool) {
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
    if let Some(digest) = &rec.sha256 {
        out.extend_from_slice(b" sha256=");
        out.extend_from_slice(digest.as_bytes());
    }
    if let Some(first) = rec.duplicate_of {
        out.extend_from_slice(b" duplicate_of=");
        write_u64(out, first);
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
pub(super) fn write_text_fields(out: &mut Vec<u8>, rec: &Record, columns: &[Column]) {
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

// ---------------------------------------------------------------------------------------------
// Sizes and durations

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
fn write_elapsed(out: &mut Vec<u8>, ms: f64) {
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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::output::format::tests::{
        connect_error, invalid_input, line, ok_record, printer, with_fields, EVIL,
    };
    use crate::output::format::{Format, Printer};
    use crate::record::{ErrorKind, RecordError};

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
