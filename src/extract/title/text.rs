//! Turning the raw title bytes into the record's string: decode them from the document's
//! encoding (a title cut at the cap loses its incomplete last character, not a U+FFFD), resolve
//! the HTML character references, replace U+0000, collapse ASCII whitespace and trim. The
//! tokenizer only collects bytes; everything that depends on the final charset happens here,
//! once, at the end.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8};

use crate::extract::class::is_space;

/// The title as recorded: `bytes` (in `encoding`; `truncated` if cut at the cap) decoded, its
/// character references resolved and its whitespace collapsed. `None` if nothing is left.
pub(super) fn decode_title(
    encoding: &'static Encoding,
    bytes: Vec<u8>,
    truncated: bool,
) -> Option<String> {
    let text = decode(encoding, bytes, truncated);
    let text = match htmlize::unescape(text.as_str()) {
        Cow::Borrowed(_) => text,
        Cow::Owned(unescaped) => unescaped,
    };
    collapse_whitespace(text)
}

/// Decodes raw title bytes, reusing their buffer when they are already UTF-8; a title cut at the
/// cap drops its last, incomplete character.
fn decode(encoding: &'static Encoding, bytes: Vec<u8>, truncated: bool) -> String {
    if truncated {
        let mut decoder = encoding.new_decoder_without_bom_handling();
        let capacity = decoder
            .max_utf8_buffer_length(bytes.len())
            .unwrap_or(bytes.len() * 3);
        let mut text = String::with_capacity(capacity);
        // `last = false`: a trailing partial character is held back, not replaced with U+FFFD.
        let _ = decoder.decode_to_string(&bytes, &mut text, false);
        return text;
    }
    if encoding == UTF_8 {
        return String::from_utf8(bytes).unwrap_or_else(|err| {
            UTF_8
                .decode_without_bom_handling(err.as_bytes())
                .0
                .into_owned()
        });
    }
    let decoded = match encoding.decode_without_bom_handling(&bytes).0 {
        Cow::Owned(text) => Some(text),
        // Borrowed: the bytes were ASCII (or otherwise the same text in UTF-8).
        Cow::Borrowed(_) => None,
    };
    decoded.unwrap_or_else(|| String::from_utf8(bytes).unwrap_or_default())
}

/// Collapses runs of ASCII whitespace to one space and trims the ends; U+0000 becomes U+FFFD
/// (the WHATWG RCDATA rule). `None` if nothing is left.
fn collapse_whitespace(text: String) -> Option<String> {
    // Most titles are already clean (no NUL, no whitespace at the ends, single spaces between
    // words): return them as they are. One cheap pass, since bytes up to 0x20 are rare in titles
    // apart from the spaces.
    let bytes = text.as_bytes();
    let (&first, &last) = (bytes.first()?, bytes.last()?);
    let mut clean = !is_space(first) && !is_space(last);
    let mut prev = 0;
    for &b in bytes {
        if b <= b' ' && (b == 0 || (is_space(b) && (b != b' ' || prev == b' '))) {
            clean = false;
            break;
        }
        prev = b;
    }
    if clean {
        return Some(text);
    }
    let text = if text.contains('\0') {
        text.replace('\0', "\u{fffd}")
    } else {
        text
    };
    // Slicing at ASCII bytes keeps char boundaries, so no re-validation is needed.
    let mut out = String::with_capacity(text.len());
    let mut word_start = None;
    for (at, b) in text.bytes().enumerate() {
        match (is_space(b), word_start) {
            (true, Some(start)) => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&text[start..at]);
                word_start = None;
            }
            (false, None) => word_start = Some(at),
            _ => {}
        }
    }
    if let Some(start) = word_start {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&text[start..]);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use crate::extract::title::testing::{title, title_chunked};
    use crate::extract::title::TITLE_CAP;
    use encoding_rs::SHIFT_JIS;

    #[test]
    fn entities() {
        let doc = b"<title>Tom &amp; Jerry &eacute;&#233;&#x41; &lt;3 &nbsp;x</title>";
        assert_eq!(
            title(doc).as_deref(),
            Some("Tom & Jerry \u{e9}\u{e9}A <3 \u{a0}x")
        );
    }

    #[test]
    fn entities_full_table_and_multi_codepoint() {
        let doc = b"<title>&NotNestedGreaterGreater; &CounterClockwiseContourIntegral; &fjlig; &bne;</title>";
        assert_eq!(
            title(doc).as_deref(),
            Some("\u{2aa2}\u{338} \u{2233} fj =\u{20e5}")
        );
    }

    #[test]
    fn legacy_entities_without_semicolon() {
        let doc = b"<title>A &amp B &copy 2024 &ampx &copy2024 &notit; &nosuch;</title>";
        assert_eq!(
            title(doc).as_deref(),
            Some("A & B \u{a9} 2024 &x \u{a9}2024 \u{ac}it; &nosuch;")
        );
    }

    #[test]
    fn numeric_references_and_fixups() {
        assert_eq!(
            title(b"<title>a&#0;b</title>").as_deref(),
            Some("a\u{fffd}b")
        );
        assert_eq!(
            title(b"<title>&#X41;&#x42;&#67</title>").as_deref(),
            Some("ABC")
        );
        assert_eq!(
            title(b"<title>&#x80;&#150;&#x9F;</title>").as_deref(),
            Some("\u{20ac}\u{2013}\u{178}")
        );
        assert_eq!(
            title(b"<title>&#xD800;&#x110000;&#99999999999;</title>").as_deref(),
            Some("\u{fffd}\u{fffd}\u{fffd}")
        );
        assert_eq!(
            title(b"<title>&#; &#x; &#xZ;</title>").as_deref(),
            Some("&#; &#x; &#xZ;")
        );
        // A reference to whitespace is whitespace, so it collapses too.
        assert_eq!(
            title(b"<title>&#10;a&#9;&NewLine;b&#32;</title>").as_deref(),
            Some("a b")
        );
    }

    #[test]
    fn whitespace_collapse() {
        assert_eq!(
            title(b"<title>\n   Lots \t of\n\n space   </title>").as_deref(),
            Some("Lots of space")
        );
        assert_eq!(
            title(b"<title>\r\na\x0cb\r</title>").as_deref(),
            Some("a b")
        );
        // Non-ASCII whitespace is content.
        assert_eq!(
            title("<title>\u{a0}a\u{2003}b </title>".as_bytes()).as_deref(),
            Some("\u{a0}a\u{2003}b")
        );
    }

    #[test]
    fn control_characters_are_kept_and_nul_is_replaced() {
        assert_eq!(
            title(b"<title>a\x07b\x1b[31m\x00c</title>").as_deref(),
            Some("a\x07b\x1b[31m\u{fffd}c")
        );
    }

    #[test]
    fn none_and_empty() {
        assert_eq!(title(b""), None);
        assert_eq!(
            title(b"<html><head></head><body>no title</body></html>"),
            None
        );
        assert_eq!(title(b"<title></title>"), None);
        assert_eq!(title(b"<title> \n\t </title>"), None);
        assert_eq!(title(b"<title>&#32;</title>"), None);
    }

    #[test]
    fn title_longer_than_the_cap() {
        let mut doc = b"<title>".to_vec();
        doc.extend(std::iter::repeat_n(b'a', 5000));
        doc.extend_from_slice(b"</title>");
        assert_eq!(title(&doc), Some("a".repeat(TITLE_CAP)));
        // The cap falls in the middle of a two-byte character: it is dropped, not replaced.
        let mut doc = b"<title>x".to_vec();
        doc.extend("\u{e9}".repeat(3000).bytes());
        doc.extend_from_slice(b"</title>");
        let expected = format!("x{}", "\u{e9}".repeat((TITLE_CAP - 1) / 2));
        assert_eq!(title(&doc), Some(expected.clone()));
        assert_eq!(
            title_chunked(None, &doc, &[1000, 7, 3000, 1]),
            Some(expected)
        );
        // Same in a legacy encoding where the cap splits a double-byte character.
        let text = "\u{65e5}".repeat(3000);
        let (sjis, _, _) = SHIFT_JIS.encode(&text);
        let mut doc = b"<meta charset=shift_jis><title>x".to_vec();
        doc.extend_from_slice(&sjis);
        doc.extend_from_slice(b"</title>");
        assert_eq!(
            title(&doc),
            Some(format!("x{}", "\u{65e5}".repeat((TITLE_CAP - 1) / 2)))
        );
    }
}
