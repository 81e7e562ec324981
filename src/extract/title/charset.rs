//! Charset detection, by priority: a byte order mark, then the Content-Type charset (given to
//! [`TitleScanner::new`]), then the first `<meta>` that names a known charset, else UTF-8. This
//! file owns the BOM check at the start of the body, the transcoding of bodies whose encoding is
//! not ASCII-compatible (UTF-16, ISO-2022-JP) so the tokenizer can read them, and the recording
//! of a `<meta>`'s `charset`, `http-equiv` and `content` attributes while its tag is read.

use encoding_rs::{CoderResult, Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252, X_USER_DEFINED};
use memchr::memchr;

use super::tokenizer::State;
use super::{TitleScanner, NAME_MAX};
use crate::extract::class::is_space;

/// What decided the encoding; a source decides only while nothing stronger has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// Nothing yet: UTF-8 unless a `<meta>` says otherwise.
    Default,
    /// A `<meta>`.
    Meta,
    /// The Content-Type header.
    Header,
    /// A byte order mark.
    Bom,
}

/// The `<meta>` attribute whose value is being recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    /// None of interest.
    None,
    /// `charset`.
    Charset,
    /// `http-equiv`.
    HttpEquiv,
    /// `content`.
    Content,
}

/// The attributes of a `<meta>` that can declare a charset, each bounded.
pub(super) struct MetaAttrs {
    /// The current attribute's name, lowercased.
    pub(super) name: Small<NAME_MAX>,
    /// Where the current attribute's value goes.
    pub(super) slot: Slot,
    /// Which slots were seen (bit per slot): as in browsers, a repeated attribute is ignored.
    pub(super) seen: u8,
    /// `charset` value; labels are short, a longer value is not a label.
    pub(super) charset: Small<40>,
    /// `http-equiv` value; only "content-type" matters.
    pub(super) http_equiv: Small<12>,
    /// `content` value; a longer one is cut (the charset is near its start).
    pub(super) content: Small<128>,
}

/// A fixed-capacity byte buffer that remembers whether anything did not fit.
pub(super) struct Small<const N: usize> {
    /// Storage.
    buf: [u8; N],
    /// Bytes in use.
    len: usize,
    /// Whether a push did not fit.
    overflow: bool,
}

impl<const N: usize> Small<N> {
    /// An empty buffer.
    pub(super) const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            overflow: false,
        }
    }

    /// Empties the buffer.
    pub(super) fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
    }

    /// Appends what fits of `bytes`.
    pub(super) fn push(&mut self, bytes: &[u8]) {
        let n = (N - self.len).min(bytes.len());
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        self.overflow |= n < bytes.len();
    }

    /// The bytes kept (a prefix, if something did not fit).
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The bytes, if all of them fit.
    fn complete(&self) -> Option<&[u8]> {
        (!self.overflow).then(|| self.bytes())
    }
}

/// Size of the stack buffer used when transcoding a non-ASCII-compatible body to UTF-8.
const TRANSCODE_CHUNK: usize = 1024;

/// Whether the bytes could still become a byte order mark.
pub(super) fn may_be_bom(head: &[u8]) -> bool {
    matches!(head, [] | [0xEF | 0xFF | 0xFE] | [0xEF, 0xBB])
}

impl TitleScanner {
    /// Settles the encoding from a BOM at the start of `head` (the body's first bytes, enough to
    /// tell), sets up transcoding if needed, and returns the BOM's length.
    pub(super) fn start_body(&mut self, head: &[u8]) -> usize {
        self.sniffed = true;
        let skip = match Encoding::for_bom(head) {
            Some((encoding, len)) => {
                self.encoding = encoding;
                self.source = Source::Bom;
                len
            }
            None => 0,
        };
        if !self.encoding.is_ascii_compatible() {
            // The tokenizer works on ASCII-compatible bytes; a UTF-16 (or ISO-2022-JP) body is
            // transcoded to UTF-8 first, so its title comes out as UTF-8.
            self.decoder = Some(self.encoding.new_decoder_without_bom_handling());
        }
        skip
    }

    /// Passes body bytes (after any BOM) to the tokenizer, transcoding them if needed.
    pub(super) fn body(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let Some(mut decoder) = self.decoder.take() else {
            self.push(data);
            return;
        };
        let mut out = [0u8; TRANSCODE_CHUNK];
        let mut src = data;
        while self.state != State::Done {
            let (result, read, written, _) = decoder.decode_to_utf8(src, &mut out, false);
            src = &src[read..];
            self.push(&out[..written]);
            if result == CoderResult::InputEmpty {
                break;
            }
        }
        self.decoder = Some(decoder);
    }

    /// An attribute name is complete: decide where its value goes.
    pub(super) fn attr_name_end(&mut self) {
        if !self.tag.capture {
            return;
        }
        let meta = &mut self.meta;
        let name = meta.name.complete().unwrap_or_default();
        let (slot, bit) = if name.eq_ignore_ascii_case(b"charset") {
            (Slot::Charset, 1)
        } else if name.eq_ignore_ascii_case(b"http-equiv") {
            (Slot::HttpEquiv, 2)
        } else if name.eq_ignore_ascii_case(b"content") {
            (Slot::Content, 4)
        } else {
            (Slot::None, 0)
        };
        // As in browsers, only the first of repeated attributes counts.
        if bit == 0 || meta.seen & bit != 0 {
            meta.slot = Slot::None;
        } else {
            meta.seen |= bit;
            meta.slot = slot;
        }
    }

    /// Records part of an attribute value, if it is one of interest.
    pub(super) fn capture_value(&mut self, bytes: &[u8]) {
        if !self.tag.capture {
            return;
        }
        match self.meta.slot {
            Slot::None => {}
            Slot::Charset => self.meta.charset.push(bytes),
            Slot::HttpEquiv => self.meta.http_equiv.push(bytes),
            Slot::Content => self.meta.content.push(bytes),
        }
    }

    /// A `<meta>` was read while the charset is undecided: adopt its charset if it names one.
    pub(super) fn apply_meta(&mut self) {
        let meta = &self.meta;
        let label = if meta.seen & 1 != 0 {
            meta.charset.complete()
        } else if meta.seen & 6 == 6
            && meta
                .http_equiv
                .complete()
                .is_some_and(|v| v.eq_ignore_ascii_case(b"content-type"))
        {
            charset_from_content(meta.content.bytes())
        } else {
            None
        };
        // The replacement encoding would turn the whole page into one U+FFFD; a meta naming it
        // is treated like an unknown label.
        let Some(encoding) = label.and_then(Encoding::for_label_no_replacement) else {
            return;
        };
        // WHATWG: a meta cannot select UTF-16 (the page would not be readable as ASCII to find
        // the meta), and x-user-defined means windows-1252.
        self.encoding = if encoding == UTF_16BE || encoding == UTF_16LE {
            UTF_8
        } else if encoding == X_USER_DEFINED {
            WINDOWS_1252
        } else {
            encoding
        };
        self.source = Source::Meta;
    }
}

/// The WHATWG "algorithm for extracting a character encoding from a meta element": the label
/// after `charset=` in a `content` value such as `text/html; charset=utf-8`.
fn charset_from_content(content: &[u8]) -> Option<&[u8]> {
    let mut pos = 0;
    loop {
        let found = content[pos..]
            .windows(7)
            .position(|w| w.eq_ignore_ascii_case(b"charset"))?;
        pos += found + 7;
        while content.get(pos).is_some_and(|&b| is_space(b)) {
            pos += 1;
        }
        if content.get(pos) != Some(&b'=') {
            // Not this one (e.g. "charsetfoo"); look for another.
            continue;
        }
        pos += 1;
        while content.get(pos).is_some_and(|&b| is_space(b)) {
            pos += 1;
        }
        let rest = &content[pos..];
        let first = *rest.first()?;
        if first == b'"' || first == b'\'' {
            // Quoted: up to the same quote; an unmatched quote gives nothing.
            return memchr(first, &rest[1..]).map(|len| &rest[1..=len]);
        }
        let len = rest.iter().position(|&b| is_space(b) || b == b';');
        return Some(&rest[..len.unwrap_or(rest.len())]);
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::title::testing::{split_invariant, title, title_with};
    use crate::extract::title::TITLE_CAP;
    use encoding_rs::{SHIFT_JIS, WINDOWS_1251};

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    fn utf16be(text: &str) -> Vec<u8> {
        let mut out = vec![0xFE, 0xFF];
        out.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        out
    }

    #[test]
    fn latin1_via_header() {
        assert_eq!(
            title_with(Some("ISO-8859-1"), b"<title>Caf\xe9</title>").as_deref(),
            Some("Caf\u{e9}")
        );
        // WHATWG: iso-8859-1 is windows-1252.
        assert_eq!(
            title_with(Some("iso-8859-1"), b"<title>\x93q\x94</title>").as_deref(),
            Some("\u{201c}q\u{201d}")
        );
    }

    #[test]
    fn header_beats_meta() {
        let doc = b"<meta charset=windows-1251><title>Caf\xe9</title>";
        assert_eq!(
            title_with(Some("latin1"), doc).as_deref(),
            Some("Caf\u{e9}")
        );
    }

    #[test]
    fn unknown_header_label_is_ignored() {
        assert_eq!(
            title_with(Some("no-such-charset"), b"<title>Caf\xc3\xa9</title>").as_deref(),
            Some("Caf\u{e9}")
        );
        let (cp1251, _, _) = WINDOWS_1251.encode("\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442}");
        let mut doc = b"<meta charset=windows-1251><title>".to_vec();
        doc.extend_from_slice(&cp1251);
        doc.extend_from_slice(b"</title>");
        assert_eq!(
            title_with(Some("bogus"), &doc).as_deref(),
            Some("\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442}")
        );
    }

    #[test]
    fn meta_charset_windows_1251() {
        let privet = "\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442}"; // Привет
        let (bytes, _, _) = WINDOWS_1251.encode(privet);
        for meta in [
            &b"<meta charset=\"windows-1251\">"[..],
            b"<meta charset='windows-1251'>",
            b"<meta charset=windows-1251>",
            b"<META CHARSET = \"Windows-1251\" />",
            b"<meta name=x charset=cp1251>",
        ] {
            let mut doc = b"<html><head>".to_vec();
            doc.extend_from_slice(meta);
            doc.extend_from_slice(b"<title>");
            doc.extend_from_slice(&bytes);
            doc.extend_from_slice(b"</title>");
            assert_eq!(
                title(&doc).as_deref(),
                Some(privet),
                "{}",
                String::from_utf8_lossy(meta)
            );
            assert_eq!(split_invariant(None, &doc).as_deref(), Some(privet));
        }
    }

    #[test]
    fn meta_http_equiv_shift_jis() {
        let nihon = "\u{65e5}\u{672c}"; // 日本
        let (bytes, _, _) = SHIFT_JIS.encode(nihon);
        for meta in [
            &b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=shift_jis\">"[..],
            b"<meta http-equiv='content-type' content='text/html;charset=Shift_JIS'>",
            b"<meta content=\"text/html; charset='shift_jis'\" http-equiv=CONTENT-TYPE>",
            b"<meta http-equiv=Content-Type content=text/html;charset=sjis>",
        ] {
            let mut doc = meta.to_vec();
            doc.extend_from_slice(b"<title>");
            doc.extend_from_slice(&bytes);
            doc.extend_from_slice(b"</title>");
            assert_eq!(
                title(&doc).as_deref(),
                Some(nihon),
                "{}",
                String::from_utf8_lossy(meta)
            );
        }
    }

    #[test]
    fn meta_that_does_not_count() {
        let doc = b"<meta content=\"text/html; charset=windows-1251\"><title>Caf\xc3\xa9</title>";
        assert_eq!(
            title(doc).as_deref(),
            Some("Caf\u{e9}"),
            "content without http-equiv"
        );
        let doc = b"<!-- <meta charset=windows-1251> --><title>Caf\xc3\xa9</title>";
        assert_eq!(
            title(doc).as_deref(),
            Some("Caf\u{e9}"),
            "meta in a comment"
        );
        let doc = b"<meta charset=nonsense><meta charset=windows-1251><title>\xcf</title>";
        assert_eq!(
            title(doc).as_deref(),
            Some("\u{41f}"),
            "an unknown label is skipped"
        );
        let doc = b"<meta charset=windows-1251><meta charset=latin1><title>\xcf</title>";
        assert_eq!(
            title(doc).as_deref(),
            Some("\u{41f}"),
            "the first meta wins"
        );
        let doc = b"<meta charset=utf-16le><title>Caf\xc3\xa9</title>";
        assert_eq!(
            title(doc).as_deref(),
            Some("Caf\u{e9}"),
            "a meta cannot select UTF-16"
        );
        let doc = b"<meta charset=x-user-defined><title>\x93</title>";
        assert_eq!(
            title(doc).as_deref(),
            Some("\u{201c}"),
            "x-user-defined means windows-1252"
        );
    }

    #[test]
    fn meta_after_title_within_prescan_window() {
        let doc = b"<title>Caf\xe9</title><meta charset=latin1><body>";
        assert_eq!(split_invariant(None, doc).as_deref(), Some("Caf\u{e9}"));
        // Past the first 1024 bytes a meta no longer counts: lossy UTF-8.
        let mut doc = b"<title>Caf\xe9</title>".to_vec();
        doc.resize(1030, b' ');
        doc.extend_from_slice(b"<meta charset=latin1>");
        assert_eq!(title(&doc).as_deref(), Some("Caf\u{fffd}"));
        // A meta straddling byte 1024 does not count either.
        let mut doc = b"<title>Caf\xe9</title>".to_vec();
        doc.resize(1010, b' ');
        doc.extend_from_slice(b"<meta charset=latin1>");
        assert_eq!(split_invariant(None, &doc).as_deref(), Some("Caf\u{fffd}"));
    }

    #[test]
    fn split_at_every_byte_position_legacy_and_utf16() {
        let privet = "\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442}";
        let (bytes, _, _) = WINDOWS_1251.encode(privet);
        let mut doc =
            b"<meta http-equiv=content-type content='text/html; charset=windows-1251'><title>"
                .to_vec();
        doc.extend_from_slice(&bytes);
        doc.extend_from_slice(b"</title>");
        assert_eq!(split_invariant(None, &doc).as_deref(), Some(privet));

        let doc = utf16le(
            "<!-- <title>no</title> --><title>\u{65e5}\u{672c} &amp; \u{1f600}</title>",
            true,
        );
        assert_eq!(
            split_invariant(None, &doc).as_deref(),
            Some("\u{65e5}\u{672c} & \u{1f600}")
        );
    }

    #[test]
    fn bom_utf8() {
        assert_eq!(
            title(b"\xEF\xBB\xBF<title>Caf\xc3\xa9</title>").as_deref(),
            Some("Caf\u{e9}")
        );
        // The BOM beats both the header and a meta.
        let doc = b"\xEF\xBB\xBF<meta charset=windows-1251><title>Caf\xc3\xa9</title>";
        assert_eq!(
            title_with(Some("iso-8859-1"), doc).as_deref(),
            Some("Caf\u{e9}")
        );
        assert_eq!(
            split_invariant(Some("iso-8859-1"), doc).as_deref(),
            Some("Caf\u{e9}")
        );
    }

    #[test]
    fn bom_utf16() {
        let doc = utf16le(
            "<html><title>Caf\u{e9} &amp; \u{65e5}\u{672c}</title>",
            true,
        );
        assert_eq!(title(&doc).as_deref(), Some("Caf\u{e9} & \u{65e5}\u{672c}"));
        assert_eq!(
            title_with(Some("utf-8"), &doc).as_deref(),
            Some("Caf\u{e9} & \u{65e5}\u{672c}")
        );
        let doc = utf16be("<meta charset=latin1><title>Caf\u{e9}</title>");
        assert_eq!(split_invariant(None, &doc).as_deref(), Some("Caf\u{e9}"));
        // UTF-16 from the header, without a BOM.
        let doc = utf16le("<title>Caf\u{e9}</title>", false);
        assert_eq!(
            title_with(Some("utf-16le"), &doc).as_deref(),
            Some("Caf\u{e9}")
        );
        assert_eq!(
            title_with(Some("utf-16"), &doc).as_deref(),
            Some("Caf\u{e9}")
        );
        // A UTF-16 title longer than the cap is cut between characters.
        let doc = utf16le(&format!("<title>{}</title>", "\u{65e5}".repeat(2000)), true);
        assert_eq!(title(&doc), Some("\u{65e5}".repeat(TITLE_CAP / 3)));
    }

    #[test]
    fn iso_2022_jp_by_header_is_transcoded() {
        let (bytes, _, _) = encoding_rs::ISO_2022_JP.encode("<title>\u{65e5}\u{672c}</title>");
        assert_eq!(
            split_invariant(Some("iso-2022-jp"), &bytes).as_deref(),
            Some("\u{65e5}\u{672c}")
        );
    }

    #[test]
    fn replacement_encoding_by_header_has_no_title() {
        assert_eq!(title_with(Some("iso-2022-kr"), b"<title>x</title>"), None);
    }
}
