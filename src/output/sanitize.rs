//! Making network text safe to print. Titles, `Server` headers, URLs and error messages come from
//! servers we do not trust; printed raw, an ESC sequence can rewrite the terminal, a newline can
//! forge a record, and a bidi override can make `evil.com` read as `moc.live` (DESIGN §2: "text
//! printed to a terminal never carries raw control or bidi characters from the network").
//!
//! One predicate, [`is_unsafe_char`], decides what is dangerous; [`escape_text`] applies it to
//! human-readable output and the JSON writer in `format` applies the same set as `\uXXXX`, so both
//! forms agree on what is safe.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must never reach a terminal raw: C0 controls (including `\t`, `\n`, `\r`), DEL, C1
/// controls, the bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), and the
/// Unicode line and paragraph separators U+2028/U+2029 (some viewers break lines on them, which
/// would split a record).
pub fn is_unsafe_char(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Whether the byte at `bytes[i]` may start an unsafe character. Every unsafe character is ASCII
/// or has one of three UTF-8 lead bytes (0xC2: C1, 0xD8: U+061C, 0xE2: U+2xxx), and lead bytes
/// never occur inside a character, so a byte scan finds every candidate without decoding.
#[inline]
fn is_candidate_byte(b: u8) -> bool {
    b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xd8 || b == 0xe2
}

/// Byte offset and value of the first unsafe character in `s`, if any.
///
/// This runs over every string of every record, so plain ASCII is skipped eight bytes at a time.
#[inline]
pub fn find_unsafe(s: &str) -> Option<(usize, char)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            if is_printable_ascii(word) {
                i += 8;
                continue;
            }
        }
        if is_candidate_byte(bytes[i]) {
            // `i` is a char boundary: candidates are ASCII or lead bytes.
            let c = s[i..].chars().next().unwrap_or('\0');
            if is_unsafe_char(c) {
                return Some((i, c));
            }
        }
        i += 1;
    }
    None
}

/// Whether all eight bytes of `word` are in 0x20..=0x7e (the classic SWAR byte tests from "Bit
/// Twiddling Hacks": a byte below 0x20, a byte equal to 0x7f, a byte with the high bit set).
#[inline]
fn is_printable_ascii(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let del = word ^ (ONES * 0x7f);
    let is_del = del.wrapping_sub(ONES) & !del;
    (word | below_space | is_del) & HIGH == 0
}

/// Escapes everything [`is_unsafe_char`] flags so the text stays on one line and cannot drive the
/// terminal: `\n`, `\t`, `\r` by name, other characters below U+0100 as `\xNN` (e.g. ESC →
/// `\x1b`, U+0085 → `\x85`), the rest as `\u{NNNN}` (e.g. `\u{202e}`). A backslash stays as is:
/// the output is for reading, not for parsing back.
///
/// Returns [`Cow::Borrowed`] when nothing needs escaping, which is the common case and must not
/// allocate.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    let Some((first, _)) = find_unsafe(s) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if is_unsafe_char(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Appends the visible escape of one unsafe character.
fn push_escape(out: &mut String, c: char) {
    // Writing to a String cannot fail.
    let _ = match c {
        '\n' => out.write_str("\\n"),
        '\t' => out.write_str("\\t"),
        '\r' => out.write_str("\\r"),
        c if (c as u32) < 0x100 => write!(out, "\\x{:02x}", c as u32),
        c => write!(out, "\\u{{{:04x}}}", c as u32),
    };
}

/// Appends `s` as a JSON string literal, quotes included: byte for byte what serde_json writes,
/// except that the characters [`is_unsafe_char`] flags and serde_json leaves raw (DEL, C1, bidi
/// controls, U+2028/U+2029) are written as `\uXXXX` too. The result parses back to `s`.
///
/// Hand-written rather than a serde_json `Formatter` hook because that hook can only rescan the
/// runs serde_json already scanned; one pass here halves the cost of a JSONL record.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // `bytes[start..i]` is the pending run that needs no escaping.
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            if is_plain_json(word) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            i += 1;
            continue;
        }
        if b >= 0x80 && !is_candidate_byte(b) {
            // Other lead bytes and all continuation bytes: nothing to escape starts here.
            i += 1;
            continue;
        }
        // `i` is a char boundary: ASCII or a lead byte.
        let c = s[i..].chars().next().unwrap_or('\0');
        if b >= 0x80 && !is_unsafe_char(c) {
            i += c.len_utf8();
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        write_json_escape(out, c);
        i += c.len_utf8();
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The escape of one character, spelled as serde_json spells it (short forms where JSON has them,
/// lowercase hex otherwise).
fn write_json_escape(out: &mut Vec<u8>, c: char) {
    let short: &[u8] = match c {
        '"' => b"\\\"",
        '\\' => b"\\\\",
        '\u{8}' => b"\\b",
        '\t' => b"\\t",
        '\n' => b"\\n",
        '\u{c}' => b"\\f",
        '\r' => b"\\r",
        _ => b"",
    };
    if !short.is_empty() {
        out.extend_from_slice(short);
        return;
    }
    out.extend_from_slice(&json_u_escape(c));
}

/// `\uXXXX` in lowercase hex, as serde_json writes it. Every character we escape is in the Basic
/// Multilingual Plane, so one escape suffices (no surrogate pairs).
pub fn json_u_escape(c: char) -> [u8; 6] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n = c as usize;
    [
        b'\\',
        b'u',
        HEX[(n >> 12) & 0xf],
        HEX[(n >> 8) & 0xf],
        HEX[(n >> 4) & 0xf],
        HEX[n & 0xf],
    ]
}

/// Whether all eight bytes of `word` can be copied into a JSON string as they are: printable ASCII
/// other than `"` and `\`.
#[inline]
fn is_plain_json(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_byte = |b: u8| {
        let x = word ^ (ONES * u64::from(b));
        x.wrapping_sub(ONES) & !x & HIGH != 0
    };
    is_printable_ascii(word) && !has_byte(b'"') && !has_byte(b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        for s in [
            "",
            "Example Domain",
            "héllo wörld — ok",
            "日本語",
            "a\\b",
            "\u{2010}\u{2030}",
        ] {
            assert!(matches!(escape_text(s), Cow::Borrowed(_)), "{s:?}");
        }
    }

    #[test]
    fn controls_are_escaped() {
        assert_eq!(escape_text("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(escape_text("l1\nl2\r\tx"), "l1\\nl2\\r\\tx");
        assert_eq!(escape_text("\0\x7f"), "\\x00\\x7f");
        assert_eq!(escape_text("c1:\u{85}\u{9b}"), "c1:\\x85\\x9b");
        // U+00A0 and U+00FF are printable: left alone.
        assert_eq!(escape_text("\u{a0}\u{ff}"), "\u{a0}\u{ff}");
    }

    #[test]
    fn bidi_and_separators_are_escaped() {
        assert_eq!(escape_text("abc\u{202e}gnp.exe"), "abc\\u{202e}gnp.exe");
        assert_eq!(
            escape_text("\u{61c}\u{200e}\u{200f}\u{202a}\u{2066}\u{2069}\u{2028}\u{2029}"),
            "\\u{061c}\\u{200e}\\u{200f}\\u{202a}\\u{2066}\\u{2069}\\u{2028}\\u{2029}"
        );
        // Neighbours of the escaped ranges stay.
        assert_eq!(
            escape_text("\u{200d}\u{202f}\u{2065}\u{206a}"),
            "\u{200d}\u{202f}\u{2065}\u{206a}"
        );
    }

    #[test]
    fn backslash_stays() {
        assert_eq!(escape_text("C:\\x1b\n"), "C:\\x1b\\n");
    }

    #[test]
    fn word_test_matches_byte_test() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let mut word = *b"abcdefgh";
                word[pos] = b;
                let want = (0x20..0x7f).contains(&b);
                assert_eq!(
                    is_printable_ascii(u64::from_le_bytes(word)),
                    want,
                    "{b:#x} at {pos}"
                );
            }
        }
        // Unsafe characters are found at any offset, after long clean runs too.
        for pad in 0..20 {
            let s = format!("{}\u{202e}{}", "x".repeat(pad), "y".repeat(pad));
            assert_eq!(find_unsafe(&s), Some((pad, '\u{202e}')));
        }
    }

    fn json(s: &str) -> String {
        let mut out = Vec::new();
        write_json_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_strings_match_serde_json_except_unsafe_chars() {
        for c in (0..0x3000u32).filter_map(char::from_u32) {
            for s in [format!("{c}"), format!("abcdefgh{c}ijklmnopq\"{c}")] {
                let ours = json(&s);
                assert_eq!(serde_json::from_str::<String>(&ours).unwrap(), s);
                if is_unsafe_char(c) {
                    assert!(ours.is_ascii(), "U+{:04X}: {ours}", c as u32);
                } else {
                    assert_eq!(
                        ours,
                        serde_json::to_string(&s).unwrap(),
                        "U+{:04X}",
                        c as u32
                    );
                }
            }
        }
        assert_eq!(json("\u{1F600}"), "\"\u{1F600}\"");
        assert_eq!(
            json("a\x1b\u{85}\x7f\u{202e}\u{2029}\"\\/\u{8}\u{c}"),
            r#""a\u001b\u0085\u007f\u202e\u2029\"\\/\b\f""#
        );
    }

    #[test]
    fn predicate_matches_byte_scan() {
        // Every unsafe char must be found by the byte scan, and no safe char may be.
        for c in (0..0x3000u32).filter_map(char::from_u32) {
            let s = format!("ab{c}cd");
            assert_eq!(
                find_unsafe(&s).is_some(),
                is_unsafe_char(c),
                "U+{:04X}",
                c as u32
            );
        }
    }
}
