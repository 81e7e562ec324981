//! The `title` extractor: finds the first `<title>` of an HTML document while its body streams
//! in, and turns it into the record's `title` field (DESIGN.md §2).
//!
//! This module owns everything between "a chunk of body bytes arrived" and "here is the title as
//! a clean string": whether a response is HTML at all ([`is_html`]), the charset parameter of a
//! Content-Type ([`charset_param`]), a small streaming tokenizer that knows just enough of the
//! WHATWG HTML tokenizer to find the real title element ([`TitleScanner`]), and the final
//! decoding (charset, character references, whitespace).
//!
//! Why a hand-written scanner rather than an HTML parser: it runs on every fetched page, tens of
//! thousands of pages per second per core, on bodies that arrive in chunks. Building a DOM (or
//! running a full tokenizer) for one short string would cost more than the fetch itself. The
//! scanner jumps from `<` to `<` with `memchr`, reads only the tags that matter, and keeps a
//! bounded state across chunks: a 32-byte carry-over for a construct split by a chunk boundary,
//! the few attributes of a `<meta>` being read, and at most 4 KiB of raw title bytes.
//!
//! What it understands, because each of these changes which title is "the first":
//! - comments, `<!DOCTYPE …>`, `<?xml …?>` and other bogus comments: a `<title>` in them is text;
//! - raw-text elements (`script`, `style`, `textarea`, `xmp`, `iframe`, `noembed`, `noframes`,
//!   `noscript`): their content is not markup, so a `<title>` in a JS string does not count;
//!   `<plaintext>` turns the rest of the document into text, so the scan gives up there;
//! - attribute values, quoted or not: `<a title="<title>">` contains no title tag;
//! - tag names end only at whitespace, `/` or `>` (`<titles>` is not `<title>`) and are compared
//!   without case; the title ends at `</title` followed by whitespace, `/` or `>`;
//! - `<svg>`/`<math>` content (an SVG `<title>` is a tooltip, not the document's title) and
//!   `<template>` content (not part of the document), tracked with a 64-bit stack of those open
//!   elements. As in browsers, an HTML "breakout" start tag (`<p>`, `<div>`, `<meta>`, …) ends
//!   SVG/MathML content, and so does, here, the end tag of a common HTML container (`</div>`,
//!   `</li>`, …), which browsers honour only when that element is open.
//!
//! Known approximations, all rare in real pages and chosen to keep the scanner small: HTML
//! inside SVG/MathML "integration points" (`<svg><title><title>x</title>` has an HTML title in
//! browsers) is not modelled; `<font color>` does not break out of SVG; the script-data
//! "escaped" states (`<script><!-- <script></script> -->`) are not modelled, so such a script
//! ends at its first `</script>`. Checked against html5ever on random tag soup: apart from these
//! and the unterminated-title rule, the results agree.
//!
//! Give-up rules (the scanner never reads past them):
//! - The title must be complete within the first 1 MiB of body. After 1 MiB without a complete
//!   `<title>…</title>`, `feed` returns true and `finish` returns `None`. The scan does **not**
//!   stop at `<body>`: browsers take the first title anywhere in the document, and pages without
//!   a head do put it in the body. A title still open at 1 MiB or at the end of the body
//!   (unterminated) gives `None`.
//! - `<plaintext>` (outside SVG/MathML) gives up, since nothing after it is markup.
//!
//! Charset, by priority: a BOM (UTF-8, UTF-16LE/BE), then the Content-Type charset, then the first
//! `<meta charset>` or `<meta http-equiv="Content-Type" content="…; charset=…">` whose label is
//! known, then UTF-8 with lossy replacement. Unknown labels are skipped, as browsers do.
//! A `<meta>` counts when it comes before the title, or when it comes after it but still within
//! the first 1024 bytes (the window of the WHATWG prescan) — the scanner reads on to byte 1024
//! only when no charset is known yet and the title has non-ASCII bytes, the one case where it can
//! change the result. As in browsers, a meta cannot select UTF-16 (it means UTF-8) and
//! x-user-defined means windows-1252. Documents in encodings that are not ASCII-compatible
//! (UTF-16 by BOM or header, ISO-2022-JP by header) are transcoded to UTF-8 before scanning.
//!
//! The title text is then decoded: all HTML5 character references (the full WHATWG table of
//! 2,231 names, including the legacy ones accepted without `;`, decimal and hex references with
//! the WHATWG fix-ups) via the `htmlize` crate; U+0000 becomes U+FFFD (the WHATWG RCDATA rule);
//! runs of ASCII whitespace become one space and the ends are trimmed. An empty result is `None`,
//! so `<title></title>` and `<title> </title>` give `None`. Other control characters are kept:
//! printers escape them for terminals.
//!
//! The pieces, one file each: `tokenizer` (the state loop, carry-over across chunks, and the
//! states that skip comments, CDATA, raw text and collect the title), `tag` (tag names and
//! attributes, and what each tag does to the scan), `foreign` (the open `<svg>`/`<math>`/
//! `<template>` elements), `charset` (BOM, header, `<meta>`, transcoding), `text` (decoding the
//! raw title bytes into the final string); the byte classes of the inner loops are in
//! `extract::class`, shared with the CSS matcher. This file holds the public API and the bounds
//! that keep the scanner's state small.

mod charset;
mod foreign;
mod tag;
#[cfg(test)]
mod testing;
mod text;
mod tokenizer;

use encoding_rs::{Decoder, Encoding, UTF_8};

use crate::extract::class::{ends_name, is_space};
use charset::{may_be_bom, MetaAttrs, Slot, Small, Source};
use tag::{Kind, Tag};
use tokenizer::State;

/// Most raw (undecoded) title bytes kept; a longer title is cut at a character boundary.
const TITLE_CAP: usize = 4 * 1024;
/// Body bytes scanned before giving up on finding a complete title.
const SCAN_LIMIT: usize = 1024 * 1024;
/// The WHATWG prescan window: a `<meta>` after the title still counts if it starts before this.
const PRESCAN_LIMIT: usize = 1024;
/// Longest tag name the scanner needs to recognise ("blockquote"); longer names are "other".
const NAME_MAX: usize = 10;
/// Most bytes, counted from a `<`, needed to decide what it starts (`</` + name + delimiter).
const LOOKAHEAD: usize = 16;
/// Room for an undecided construct at the end of a chunk plus the next bytes that decide it.
const CARRY_CAP: usize = 2 * LOOKAHEAD;

/// Finds the first `<title>` of an HTML document while its body streams in.
///
/// Feed the body (already decompressed) chunk by chunk with [`feed`](Self::feed); stop when it
/// returns true or the body ends, then call [`finish`](Self::finish). The result does not depend
/// on how the body was split into chunks. Memory stays bounded whatever the body: a few hundred
/// bytes of state plus at most 4 KiB of title.
pub struct TitleScanner {
    /// Where the tokenizer is.
    state: State,
    /// The tag being read, when `state` is `TagName` or `Attrs`.
    tag: Tag,
    /// The attributes of the `<meta>` being read, when it may decide the charset.
    meta: MetaAttrs,
    /// The unconsumed tail of the last input: a construct that needs more bytes to be decided.
    carry: [u8; CARRY_CAP],
    /// How many bytes of `carry` are in use.
    carry_len: usize,
    /// Bytes consumed by the tokenizer so far (its position in the (transcoded) body).
    pos: usize,
    /// The position at which the scan stops: [`SCAN_LIMIT`], or [`PRESCAN_LIMIT`] after a title.
    limit: usize,
    /// The first bytes of the body, held until it is known whether they are a BOM.
    sniff: [u8; 3],
    /// How many bytes of `sniff` are in use.
    sniff_len: usize,
    /// Whether the BOM question is settled (and `sniff` was passed on).
    sniffed: bool,
    /// The document's encoding as known so far.
    encoding: &'static Encoding,
    /// What decided `encoding`.
    source: Source,
    /// Transcodes the body to UTF-8 when its encoding is not ASCII-compatible.
    decoder: Option<Decoder>,
    /// Raw title bytes (in `encoding`, or UTF-8 when transcoding), at most [`TITLE_CAP`].
    title: Vec<u8>,
    /// Whether title bytes were dropped at the cap.
    truncated: bool,
    /// Whether `</title` was seen: `title` is complete.
    title_done: bool,
    /// The open `<svg>`, `<math>` and (HTML) `<template>` elements, innermost last, two bits
    /// each (see [`OPEN_TEMPLATE`](foreign::OPEN_TEMPLATE)); the only elements whose nesting
    /// decides whether a `<title>` is the document's.
    open: u64,
    /// How many entries of `open` are in use (at most [`OPEN_MAX`](foreign::OPEN_MAX)).
    depth: u32,
    /// The last three bytes of the comment or CDATA section being skipped.
    tail: [u8; 3],
}

impl std::fmt::Debug for TitleScanner {
    /// The scan's progress, not its buffers.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TitleScanner")
            .field("state", &self.state)
            .field("pos", &self.pos)
            .field("encoding", &self.encoding.name())
            .field("source", &self.source)
            .field("title_bytes", &self.title.len())
            .field("title_done", &self.title_done)
            .finish_non_exhaustive()
    }
}

impl TitleScanner {
    /// `header_charset`: the charset parameter of the Content-Type header, if any (raw label,
    /// e.g. "ISO-8859-1"). An unknown label is ignored, as browsers do.
    #[must_use]
    pub fn new(header_charset: Option<&str>) -> Self {
        let header = header_charset.and_then(|label| {
            // Most pages say utf-8; skip the label table for them.
            if label.eq_ignore_ascii_case("utf-8") {
                Some(UTF_8)
            } else {
                Encoding::for_label(label.as_bytes())
            }
        });
        let (encoding, source) = match header {
            Some(encoding) => (encoding, Source::Header),
            None => (UTF_8, Source::Default),
        };
        Self {
            state: State::Data,
            tag: Tag {
                kind: Kind::Other,
                end: false,
                slash: false,
                capture: false,
            },
            meta: MetaAttrs {
                name: Small::new(),
                slot: Slot::None,
                seen: 0,
                charset: Small::new(),
                http_equiv: Small::new(),
                content: Small::new(),
            },
            carry: [0; CARRY_CAP],
            carry_len: 0,
            pos: 0,
            limit: SCAN_LIMIT,
            sniff: [0; 3],
            sniff_len: 0,
            sniffed: false,
            encoding,
            source,
            decoder: None,
            title: Vec::new(),
            truncated: false,
            title_done: false,
            open: 0,
            depth: 0,
            tail: [0; 3],
        }
    }

    /// Feed the next chunk. Returns true once the scanner is finished (title found, or it gave
    /// up), after which the caller may stop feeding; further chunks are then ignored.
    pub fn feed(&mut self, mut chunk: &[u8]) -> bool {
        if self.state == State::Done {
            return true;
        }
        if !self.sniffed {
            // A BOM beats every other charset source, so the first bytes are looked at before
            // anything else; when the first chunk is too short to tell, they are held back.
            if self.sniff_len == 0 && chunk.len() >= 3 {
                let skip = self.start_body(chunk);
                chunk = &chunk[skip..];
            } else {
                let take = (3 - self.sniff_len).min(chunk.len());
                self.sniff[self.sniff_len..self.sniff_len + take].copy_from_slice(&chunk[..take]);
                self.sniff_len += take;
                chunk = &chunk[take..];
                if self.sniff_len < 3 && may_be_bom(&self.sniff[..self.sniff_len]) {
                    return false;
                }
                let head = self.sniff;
                let head = &head[..self.sniff_len];
                let skip = self.start_body(head);
                self.body(&head[skip..]);
            }
        }
        self.body(chunk);
        self.state == State::Done
    }

    /// The title, if one was found (call at the end of the body or after `feed` returned true).
    /// A body that ended inside an unterminated title gives `None`, and so does a title that is
    /// empty once whitespace is collapsed.
    #[must_use]
    pub fn finish(self) -> Option<String> {
        if !self.title_done {
            return None;
        }
        // Transcoded bodies produced UTF-8 title bytes.
        let encoding = if self.decoder.is_some() {
            UTF_8
        } else {
            self.encoding
        };
        text::decode_title(encoding, self.title, self.truncated)
    }
}

/// Whether a response should be scanned for a title: Content-Type is text/html or
/// application/xhtml+xml (case-insensitive, parameters ignored); when there is no Content-Type
/// (or it is blank), sniff: the first non-whitespace bytes of `first_chunk` start with
/// `<!doctype html`, `<html`, `<head` or `<title` (case-insensitive, after an optional UTF-8
/// BOM), followed by whitespace, `>`, `/` or the end of the chunk (as in WHATWG sniffing, so
/// `<htmlfoo` does not count).
#[must_use]
pub fn is_html(content_type: Option<&str>, first_chunk: &[u8]) -> bool {
    if let Some(content_type) = content_type {
        let essence = content_type.split(';').next().unwrap_or_default();
        let essence = essence.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        if !essence.is_empty() {
            return essence.eq_ignore_ascii_case("text/html")
                || essence.eq_ignore_ascii_case("application/xhtml+xml");
        }
    }
    let body = first_chunk
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(first_chunk);
    let Some(start) = body.iter().position(|&b| !is_space(b)) else {
        return false;
    };
    let body = &body[start..];
    [&b"<!doctype html"[..], b"<html", b"<head", b"<title"]
        .iter()
        .any(|pattern| {
            body.len() >= pattern.len()
                && body[..pattern.len()].eq_ignore_ascii_case(pattern)
                && body.get(pattern.len()).is_none_or(|&b| ends_name(b))
        })
}

/// The charset parameter of a Content-Type value, if any (handles quotes, case, spaces):
/// `text/html; Charset="UTF-8"` gives `UTF-8`. The first non-empty charset parameter wins.
#[must_use]
pub fn charset_param(content_type: &str) -> Option<&str> {
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut rest = &content_type[content_type.find(';')? + 1..];
    loop {
        rest = rest.trim_start_matches(is_ws);
        // A parameter is `name=value`; one without `=` is skipped.
        let sep = rest.find(['=', ';'])?;
        if rest.as_bytes()[sep] == b';' {
            rest = &rest[sep + 1..];
            continue;
        }
        let name = rest[..sep].trim_end_matches(is_ws);
        let after = rest[sep + 1..].trim_start_matches(is_ws);
        let (value, next) = match after.chars().next() {
            // A quoted string, up to its closing quote (a backslash escapes the next char).
            Some(quote @ ('"' | '\'')) => {
                let inner = &after[1..];
                let bytes = inner.as_bytes();
                let mut k = 0;
                while k < bytes.len() && bytes[k] != quote as u8 {
                    k += if bytes[k] == b'\\' { 2 } else { 1 };
                }
                let k = k.min(bytes.len());
                let tail = inner.get(k..).unwrap_or_default();
                (&inner[..k], tail.find(';').map(|at| &tail[at + 1..]))
            }
            _ => match after.find(';') {
                Some(at) => (after[..at].trim_end_matches(is_ws), Some(&after[at + 1..])),
                None => (after.trim_end_matches(is_ws), None),
            },
        };
        if name.eq_ignore_ascii_case("charset") && !value.is_empty() {
            return Some(value);
        }
        rest = next?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::title::testing::{split_invariant, title, title_chunked};

    #[test]
    fn scanner_is_send() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<TitleScanner>();
        assert!(format!("{:?}", TitleScanner::new(None)).starts_with("TitleScanner"));
    }

    #[test]
    fn plain() {
        let doc = b"<!doctype html><html><head><meta charset=utf-8><title>Example Domain</title>\
                    </head><body><h1>x</h1></body></html>";
        assert_eq!(title(doc).as_deref(), Some("Example Domain"));
    }

    #[test]
    fn feed_reports_done_once_the_title_is_known() {
        let mut scanner = TitleScanner::new(None);
        assert!(!scanner.feed(b"<html><title>Hi</ti"));
        assert!(scanner.feed(b"tle><body>"));
        assert!(scanner.feed(b"more"));
        assert_eq!(scanner.finish().as_deref(), Some("Hi"));
        // A non-ASCII title with no charset yet reads on through the prescan window.
        let mut scanner = TitleScanner::new(None);
        assert!(!scanner.feed(b"<title>Caf\xc3\xa9</title>"));
        assert!(scanner.feed(&[b' '; 1024]));
        assert_eq!(scanner.finish().as_deref(), Some("Caf\u{e9}"));
        // With the charset known from the header it stops at once.
        let mut scanner = TitleScanner::new(Some("utf-8"));
        assert!(scanner.feed(b"<title>Caf\xc3\xa9</title>"));
        assert_eq!(scanner.finish().as_deref(), Some("Caf\u{e9}"));
    }

    #[test]
    fn split_at_every_byte_position() {
        let mut doc = b"\xEF\xBB\xBF<!DOCTYPE html>\n<html lang=\"fr\"><head>\
            <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\">\
            <!-- <title>comment</title> --!>\
            <meta charset=\"utf-8\"/>\
            <script>if (a<b && c</d) document.write('<title>js</title>');</script>\
            <style>p::after{content:\"</title>\"}</style>\
            <svg><title>icon</title></svg>\
            <a title='<title>attr</title>'></a><titles>x</titles>\
            <TITLE class=main >\n  Caf\xc3\xa9 &amp; Cr&egrave;me &#x2014; &copy 2024 &lt;/TITLE&gt;\
            </tItLe >"
            .to_vec();
        doc.extend_from_slice(b"<body>trailing</body>");
        let expected = "Caf\u{e9} & Cr\u{e8}me \u{2014} \u{a9} 2024 </TITLE>";
        assert_eq!(split_invariant(None, &doc).as_deref(), Some(expected));
        // Without the BOM the meta decides (the same), with a latin1 header it loses to the BOM.
        assert_eq!(
            split_invariant(Some("latin1"), &doc).as_deref(),
            Some(expected)
        );
        assert_eq!(split_invariant(None, &doc[3..]).as_deref(), Some(expected));
    }

    #[test]
    fn random_chunkings_agree() {
        let doc =
            b"<html><head><script>x='<title>no</title>'</script><!-- c --><meta charset=latin1>\
                    <title a='1' b=\"2\">R\xe9sum\xe9 &amp; more</title></head>";
        let expected = Some("R\u{e9}sum\u{e9} & more".to_string());
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..2000 {
            let mut sizes = Vec::new();
            let mut total = 0;
            while total < doc.len() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let size = (seed % 23) as usize;
                sizes.push(size);
                total += size;
            }
            assert_eq!(title_chunked(None, doc, &sizes), expected, "{sizes:?}");
        }
    }

    #[test]
    fn is_html_cases() {
        assert!(is_html(Some("text/html"), b""));
        assert!(is_html(Some("TEXT/HTML; charset=utf-8"), b"{}"));
        assert!(is_html(Some(" text/html ;charset=x"), b""));
        assert!(is_html(Some("application/xhtml+xml"), b""));
        assert!(!is_html(Some("application/json"), b"<html>"));
        assert!(!is_html(Some("text/plain"), b"<!doctype html>"));
        assert!(!is_html(Some("text/html-sandboxed"), b"<html>"));
        assert!(is_html(None, b"<!DOCTYPE html><html>"));
        assert!(is_html(
            None,
            b"\xEF\xBB\xBF \n\t<!doctype HTML PUBLIC \"-//W3C//DTD\">"
        ));
        assert!(is_html(None, b"<HTML lang=en>"));
        assert!(is_html(None, b"  <head>"));
        assert!(is_html(None, b"<title>x</title>"));
        assert!(is_html(None, b"<html"));
        assert!(is_html(Some(""), b"<html>"));
        assert!(!is_html(None, b"<htmlx>"));
        assert!(!is_html(None, b"<?xml version=\"1.0\"?><rss>"));
        assert!(!is_html(None, b"{\"a\": \"<html>\"}"));
        assert!(!is_html(None, b"   "));
        assert!(!is_html(None, b""));
    }

    #[test]
    fn charset_param_cases() {
        assert_eq!(charset_param("text/html; Charset=\"UTF-8\""), Some("UTF-8"));
        assert_eq!(
            charset_param("text/html;charset=iso-8859-1"),
            Some("iso-8859-1")
        );
        assert_eq!(charset_param("text/html"), None);
        assert_eq!(charset_param("text/html;"), None);
        assert_eq!(charset_param("text/html; charset="), None);
        assert_eq!(
            charset_param("text/html; CHARSET = utf-8 ; q=1"),
            Some("utf-8")
        );
        assert_eq!(
            charset_param("text/html; charset='windows-1251'"),
            Some("windows-1251")
        );
        assert_eq!(
            charset_param("text/html; foo=\"a;charset=b\"; charset=utf-8"),
            Some("utf-8")
        );
        assert_eq!(
            charset_param("text/html; boundary; charset=latin1"),
            Some("latin1")
        );
        assert_eq!(
            charset_param("text/html; charset=\"unterminated"),
            Some("unterminated")
        );
        assert_eq!(charset_param("text/html; xcharset=a"), None);
    }

    /// Release-mode cost of a typical page:
    /// `cargo test --release --lib bench_typical_page -- --ignored --nocapture`.
    /// The minimum over many short batches, so that other processes on a shared machine
    /// inflate it as little as possible.
    #[test]
    #[ignore = "benchmark"]
    fn bench_typical_page() {
        use std::hint::black_box;
        use std::time::Instant;

        let mut page = b"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
            <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
            <link rel=\"stylesheet\" href=\"/static/css/main.css?v=123\">\n\
            <title>Example Domain &amp; Friends \xe2\x80\x94 a typical page</title>\n\
            <script src=\"/static/js/app.js\" defer></script>\n</head>\n<body>\n"
            .to_vec();
        while page.len() < 2000 {
            page.extend_from_slice(
                b"<div class=\"row\"><p>Some body text with <a href=\"/x\">a link</a>.</p></div>\n",
            );
        }
        let offset = memchr::memmem::find(&page, b"<title>").unwrap();
        let best = |header: Option<&str>| {
            let rounds = 2_000;
            (0..100)
                .map(|_| {
                    let start = Instant::now();
                    for _ in 0..rounds {
                        let mut scanner = TitleScanner::new(black_box(header));
                        for chunk in black_box(&page[..]).chunks(1460) {
                            if scanner.feed(chunk) {
                                break;
                            }
                        }
                        assert!(black_box(scanner.finish()).is_some());
                    }
                    start.elapsed().as_nanos() as f64 / f64::from(rounds)
                })
                .fold(f64::MAX, f64::min)
        };
        let with_header = best(Some("utf-8"));
        let without = best(None);
        println!(
            "{} B page, title at byte {offset}: {with_header:.0} ns/page with a header charset, \
             {without:.0} ns/page without (charset from the meta)",
            page.len(),
        );
    }
}
