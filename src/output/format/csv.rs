//! The CSV format: a header row of field names, then one RFC 4180 row per record, one cell per
//! field. The column rule (escaping, JSON cells, formula neutralising) is in the module docs of
//! [`super`].

use serde_json::Value;

use super::cell::{write_plain_cell, Cell};
use super::Column;
use crate::output::sanitize::escape_text;
use crate::record::Record;

/// One record as one CSV row (without the line end), one cell per column.
pub(super) fn write_csv_row(out: &mut Vec<u8>, rec: &Record, columns: &[Column]) {
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match column.field.cell(rec) {
            Cell::Null => {}
            Cell::Str(s) => write_csv_text(out, s),
            Cell::Map(m) if m.is_empty() => {}
            Cell::Headers(h) if h.is_empty() => {}
            // Structures become JSON text, which may hold commas and quotes: quote it as text.
            cell @ (Cell::Map(_)
            | Cell::Headers(_)
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
pub(super) fn write_csv_text(out: &mut Vec<u8>, s: &str) {
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
    use serde_json::Value;

    use crate::output::format::tests::{
        invalid_input, line, ok_record, printer, with_fields, EVIL,
    };
    use crate::output::format::{Format, Printer};

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
}
