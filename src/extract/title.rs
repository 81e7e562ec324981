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

use std::borrow::Cow;

use encoding_rs::{
    CoderResult, Decoder, Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252, X_USER_DEFINED,
};
use memchr::memchr;

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
/// Size of the stack buffer used when transcoding a non-ASCII-compatible body to UTF-8.
const TRANSCODE_CHUNK: usize = 1024;

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
    /// each (see [`OPEN_TEMPLATE`]); the only elements whose nesting decides whether a
    /// `<title>` is the document's.
    open: u64,
    /// How many entries of `open` are in use (at most [`OPEN_MAX`]).
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

/// Tokenizer states; each skips one kind of construct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Text between tags: looking for the next `<`.
    Data,
    /// Inside a tag name longer than [`NAME_MAX`]: skipping to its end.
    TagName,
    /// After a tag name, reading attributes up to the `>`.
    Attrs(Attr),
    /// Inside `<!-- … -->`.
    Comment,
    /// Inside a bogus comment (`<!DOCTYPE …>`, `<?…>`, `</ …>`): up to the next `>`.
    Bogus,
    /// Inside `<![CDATA[ … ]]>` (only in SVG/MathML).
    Cdata,
    /// Inside a raw-text element, up to `</` + this name.
    RawText(&'static [u8]),
    /// Inside the title: collecting its bytes up to `</title`.
    TitleText,
    /// Finished: the title was found, or the scanner gave up.
    Done,
}

/// Attribute states of the WHATWG tokenizer, reduced to what finding the tag's end needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attr {
    /// Between attributes.
    BeforeName,
    /// In an attribute name.
    Name,
    /// After a name, before a possible `=`.
    AfterName,
    /// After `=`, before the value.
    BeforeValue,
    /// In a value quoted with this byte.
    Quoted(u8),
    /// In an unquoted value.
    Unquoted,
}

/// The tags the scanner acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Any tag that needs only to be skipped.
    Other,
    /// `title`.
    Title,
    /// An element whose content is raw text, with its (lowercase) name.
    RawText(&'static [u8]),
    /// `plaintext`: everything after it is text.
    Plaintext,
    /// `meta`: may declare the charset.
    Meta,
    /// `svg` or `math` (with its [`OPEN_SVG`]/[`OPEN_MATH`] code).
    Foreign(u64),
    /// `template`.
    Template,
    /// An HTML tag that ends SVG/MathML content (only classified inside it).
    Breakout,
}

/// The tag being read.
#[derive(Clone, Copy, Debug)]
struct Tag {
    /// Which tag.
    kind: Kind,
    /// Whether it is an end tag.
    end: bool,
    /// Whether the last byte was a `/` that would make a following `>` self-closing.
    slash: bool,
    /// Whether its attributes are recorded (a `<meta>` while the charset is undecided).
    capture: bool,
}

/// What decided the encoding; a source decides only while nothing stronger has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
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
enum Slot {
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
struct MetaAttrs {
    /// The current attribute's name, lowercased.
    name: Small<NAME_MAX>,
    /// Where the current attribute's value goes.
    slot: Slot,
    /// Which slots were seen (bit per slot): as in browsers, a repeated attribute is ignored.
    seen: u8,
    /// `charset` value; labels are short, a longer value is not a label.
    charset: Small<40>,
    /// `http-equiv` value; only "content-type" matters.
    http_equiv: Small<12>,
    /// `content` value; a longer one is cut (the charset is near its start).
    content: Small<128>,
}

/// A fixed-capacity byte buffer that remembers whether anything did not fit.
struct Small<const N: usize> {
    /// Storage.
    buf: [u8; N],
    /// Bytes in use.
    len: usize,
    /// Whether a push did not fit.
    overflow: bool,
}

impl<const N: usize> Small<N> {
    /// An empty buffer.
    const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            overflow: false,
        }
    }

    /// Empties the buffer.
    fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
    }

    /// Appends what fits of `bytes`.
    fn push(&mut self, bytes: &[u8]) {
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

/// What a state handler did with the bytes it was given.
enum Step {
    /// Consumed this many bytes; go on.
    Advance(usize),
    /// Consumed this many bytes; what follows cannot be decided without more input.
    NeedMore(usize),
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
        let text = decode(encoding, self.title, self.truncated);
        let text = match htmlize::unescape(text.as_str()) {
            Cow::Borrowed(_) => text,
            Cow::Owned(unescaped) => unescaped,
        };
        collapse_whitespace(text)
    }

    /// Settles the encoding from a BOM at the start of `head` (the body's first bytes, enough to
    /// tell), sets up transcoding if needed, and returns the BOM's length.
    fn start_body(&mut self, head: &[u8]) -> usize {
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
    fn body(&mut self, data: &[u8]) {
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

    /// Runs the tokenizer over `data`, splicing it onto the carry-over from the last call.
    ///
    /// The tokenizer stops short only before a construct it cannot decide yet, and then fewer
    /// than [`LOOKAHEAD`] bytes remain; those are kept in `carry` and retried with the bytes
    /// that follow. So the result never depends on where chunks were split.
    fn push(&mut self, mut data: &[u8]) {
        while self.carry_len > 0 && !data.is_empty() && self.state != State::Done {
            let take = (CARRY_CAP - self.carry_len).min(data.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&data[..take]);
            self.carry_len += take;
            data = &data[take..];
            let joined = self.carry;
            let len = self.carry_len;
            let used = self.run(&joined[..len]);
            self.carry.copy_within(used..len, 0);
            self.carry_len = len - used;
            if self.carry_len == CARRY_CAP {
                // Cannot happen (LOOKAHEAD bytes always decide); never loop forever on a bug.
                debug_assert!(false, "title scanner stalled");
                self.state = State::Done;
            }
        }
        if self.carry_len > 0 || data.is_empty() || self.state == State::Done {
            return;
        }
        let used = self.run(data);
        let rest = &data[used..];
        if self.state == State::Done {
            return;
        }
        if rest.len() >= CARRY_CAP {
            debug_assert!(false, "title scanner left {} bytes", rest.len());
            self.state = State::Done;
            return;
        }
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carry_len = rest.len();
    }

    /// Tokenizes `buf` (which starts at position `self.pos`); returns the bytes consumed.
    fn run(&mut self, buf: &[u8]) -> usize {
        let used = self.scan(buf);
        self.pos += used;
        used
    }

    /// The tokenizer loop: hands the unconsumed bytes to the current state's handler.
    fn scan(&mut self, buf: &[u8]) -> usize {
        let mut i = 0;
        loop {
            // Bytes at or past the limit are never looked at; reaching it ends the scan. The
            // limit can drop mid-buffer (to the prescan window, once the title is complete).
            let avail = self.limit.saturating_sub(self.pos);
            let capped = avail <= buf.len();
            let end = avail.min(buf.len());
            if self.state == State::Done {
                return i;
            }
            if i >= end {
                if capped {
                    self.state = State::Done;
                }
                return i;
            }
            let s = &buf[i..end];
            let step = match self.state {
                State::Data => self.data(s),
                State::TagName => self.tag_name_rest(s),
                State::Attrs(attr) => self.attrs(s, attr),
                State::Comment => self.comment(s),
                State::Bogus => self.bogus(s),
                State::Cdata => self.cdata(s),
                State::RawText(name) => self.raw_text(s, name),
                State::TitleText => self.title_text(s),
                State::Done => return i,
            };
            match step {
                Step::Advance(n) => i += n,
                Step::NeedMore(n) => {
                    // Bytes past the limit will never be looked at, so nothing can decide it.
                    if capped {
                        self.state = State::Done;
                    }
                    return i + n;
                }
            }
        }
    }

    /// Text: jump to the next `<` and see what it starts.
    fn data(&mut self, s: &[u8]) -> Step {
        match find(b'<', s) {
            None => Step::Advance(s.len()),
            Some(at) => match self.markup(&s[at..]) {
                Some(n) => Step::Advance(at + n),
                None => Step::NeedMore(at),
            },
        }
    }

    /// Decides what the `<` at `s[0]` starts; returns the bytes consumed, `None` if more are
    /// needed. Follows the WHATWG tag-open and markup-declaration-open states.
    fn markup(&mut self, s: &[u8]) -> Option<usize> {
        let b1 = *s.get(1)?;
        if b1.is_ascii_alphabetic() {
            return self.tag_open(s, 1, false);
        }
        match b1 {
            b'/' => {
                let b2 = *s.get(2)?;
                if b2.is_ascii_alphabetic() {
                    self.tag_open(s, 2, true)
                } else if b2 == b'>' {
                    // `</>` is ignored.
                    Some(3)
                } else {
                    self.state = State::Bogus;
                    Some(2)
                }
            }
            b'!' => match *s.get(2)? {
                b'-' => {
                    if *s.get(3)? != b'-' {
                        self.state = State::Bogus;
                        return Some(2);
                    }
                    // `<!-->` and `<!--->` are complete (empty) comments.
                    match *s.get(4)? {
                        b'>' => Some(5),
                        b'-' if *s.get(5)? == b'>' => Some(6),
                        _ => {
                            self.tail = [0; 3];
                            self.state = State::Comment;
                            Some(4)
                        }
                    }
                }
                b'[' if self.in_foreign() => {
                    // CDATA sections exist only in SVG/MathML; elsewhere they are bogus comments.
                    const CDATA: &[u8] = b"<![CDATA[";
                    let n = s.len().min(CDATA.len());
                    if s[..n] != CDATA[..n] {
                        self.state = State::Bogus;
                        Some(2)
                    } else if n < CDATA.len() {
                        None
                    } else {
                        self.tail = [0; 3];
                        self.state = State::Cdata;
                        Some(CDATA.len())
                    }
                }
                _ => {
                    self.state = State::Bogus;
                    Some(2)
                }
            },
            b'?' => {
                self.state = State::Bogus;
                Some(2)
            }
            // A `<` that starts nothing is text.
            _ => Some(1),
        }
    }

    /// Reads the tag name starting at `s[start]` and enters the tag; returns the bytes consumed
    /// (the name's terminator is left for the attribute states), `None` if more are needed.
    fn tag_open(&mut self, s: &[u8], start: usize, end: bool) -> Option<usize> {
        let window = s.len().min(start + NAME_MAX + 1);
        match s[start..window].iter().position(|&b| ends_name(b)) {
            Some(len) => {
                let kind = self.classify(&s[start..start + len], end);
                self.begin_tag(kind, end);
                Some(start + len)
            }
            None if window == start + NAME_MAX + 1 => {
                // Longer than any name of interest: skip the rest of it.
                self.begin_tag(Kind::Other, end);
                self.state = State::TagName;
                Some(window)
            }
            None => None,
        }
    }

    /// Which tag `name` (at most [`NAME_MAX`] bytes, any case) is.
    fn classify(&self, name: &[u8], end: bool) -> Kind {
        // Most tags matter to nobody: decide those from the first letter (and, for end tags,
        // from there being no SVG/MathML or template open) before looking at the whole name.
        let foreign = self.in_foreign();
        if !foreign {
            if end && self.depth == 0 {
                return Kind::Other;
            }
            if !matches!(
                name[0] | 0x20,
                b't' | b's' | b'x' | b'i' | b'n' | b'p' | b'm'
            ) {
                return Kind::Other;
            }
        }
        if end {
            return if name.eq_ignore_ascii_case(b"svg") {
                Kind::Foreign(OPEN_SVG)
            } else if name.eq_ignore_ascii_case(b"math") {
                Kind::Foreign(OPEN_MATH)
            } else if name.eq_ignore_ascii_case(b"template") {
                Kind::Template
            } else if foreign && (is_breakout(name) || is_html_container(name)) {
                // In SVG/MathML, the end tag of an enclosing HTML element closes the foreign
                // content (browsers: when that element is open, which is assumed here).
                Kind::Breakout
            } else {
                Kind::Other
            };
        }
        // Only the names of the right length are compared.
        let candidates: &[(&[u8], Kind)] = match name.len() {
            3 => &[
                (b"svg", Kind::Foreign(OPEN_SVG)),
                (b"xmp", Kind::RawText(b"xmp")),
            ],
            4 => &[(b"meta", Kind::Meta), (b"math", Kind::Foreign(OPEN_MATH))],
            5 => &[(b"title", Kind::Title), (b"style", Kind::RawText(b"style"))],
            6 => &[
                (b"script", Kind::RawText(b"script")),
                (b"iframe", Kind::RawText(b"iframe")),
            ],
            7 => &[(b"noembed", Kind::RawText(b"noembed"))],
            8 => &[
                (b"template", Kind::Template),
                (b"textarea", Kind::RawText(b"textarea")),
                (b"noframes", Kind::RawText(b"noframes")),
                // Browsers run scripts, so `noscript` content is raw text to them.
                (b"noscript", Kind::RawText(b"noscript")),
            ],
            9 => &[(b"plaintext", Kind::Plaintext)],
            _ => &[],
        };
        match candidates
            .iter()
            .find(|(tag, _)| tag.eq_ignore_ascii_case(name))
        {
            Some(&(_, kind)) => kind,
            None if foreign && is_breakout(name) => Kind::Breakout,
            None => Kind::Other,
        }
    }

    /// Starts reading a tag's attributes.
    fn begin_tag(&mut self, kind: Kind, end: bool) {
        let capture = kind == Kind::Meta && !end && self.source == Source::Default;
        self.tag = Tag {
            kind,
            end,
            slash: false,
            capture,
        };
        if capture {
            self.meta.name.clear();
            self.meta.slot = Slot::None;
            self.meta.seen = 0;
            self.meta.charset.clear();
            self.meta.http_equiv.clear();
            self.meta.content.clear();
        }
        self.state = State::Attrs(Attr::BeforeName);
    }

    /// The rest of an over-long tag name.
    fn tag_name_rest(&mut self, s: &[u8]) -> Step {
        match s.iter().position(|&b| ends_name(b)) {
            Some(at) => {
                self.state = State::Attrs(Attr::BeforeName);
                Step::Advance(at)
            }
            None => Step::Advance(s.len()),
        }
    }

    /// Attributes up to the tag's `>`, per the WHATWG attribute states (so a `>` inside a
    /// quoted value does not end the tag). Records `<meta>` attributes when `capture` is on.
    fn attrs(&mut self, s: &[u8], mut attr: Attr) -> Step {
        let mut i = 0;
        while i < s.len() {
            let b = s[i];
            match attr {
                Attr::Quoted(quote) => {
                    let Some(len) = find(quote, &s[i..]) else {
                        self.capture_value(&s[i..]);
                        break;
                    };
                    self.capture_value(&s[i..i + len]);
                    i += len + 1;
                    attr = Attr::BeforeName;
                    self.tag.slash = false;
                    continue;
                }
                Attr::Unquoted => {
                    let len = run_len(&s[i..], WS | GT);
                    self.capture_value(&s[i..i + len]);
                    i += len;
                    if i < s.len() {
                        if s[i] == b'>' {
                            self.tag_end();
                            return Step::Advance(i + 1);
                        }
                        attr = Attr::BeforeName;
                        i += 1;
                    }
                    continue;
                }
                Attr::BeforeName => match b {
                    b'/' => {
                        self.tag.slash = true;
                        i += 1;
                        continue;
                    }
                    b'>' => {
                        self.tag_end();
                        return Step::Advance(i + 1);
                    }
                    _ if is_space(b) => {}
                    _ => {
                        // Even `=` starts a name here (WHATWG: unexpected-equals-sign).
                        if self.tag.capture {
                            self.meta.name.clear();
                            self.meta.name.push(&[b]);
                        }
                        attr = Attr::Name;
                    }
                },
                Attr::Name => {
                    let len = run_len(&s[i..], WS | SLASH | EQ | GT);
                    if self.tag.capture {
                        self.meta.name.push(&s[i..i + len]);
                    }
                    i += len;
                    let Some(&b) = s.get(i) else { break };
                    self.attr_name_end();
                    match b {
                        b'/' => {
                            attr = Attr::BeforeName;
                            self.tag.slash = true;
                            i += 1;
                            continue;
                        }
                        b'=' => attr = Attr::BeforeValue,
                        b'>' => {
                            self.tag_end();
                            return Step::Advance(i + 1);
                        }
                        _ => attr = Attr::AfterName,
                    }
                }
                Attr::AfterName => match b {
                    b'/' => {
                        attr = Attr::BeforeName;
                        self.tag.slash = true;
                        i += 1;
                        continue;
                    }
                    b'=' => attr = Attr::BeforeValue,
                    b'>' => {
                        self.tag_end();
                        return Step::Advance(i + 1);
                    }
                    _ if is_space(b) => {}
                    _ => {
                        if self.tag.capture {
                            self.meta.name.clear();
                        }
                        attr = Attr::Name;
                        self.tag.slash = false;
                        continue;
                    }
                },
                Attr::BeforeValue => match b {
                    b'"' | b'\'' => attr = Attr::Quoted(b),
                    b'>' => {
                        self.tag_end();
                        return Step::Advance(i + 1);
                    }
                    _ if is_space(b) => {}
                    _ => {
                        attr = Attr::Unquoted;
                        self.tag.slash = false;
                        continue;
                    }
                },
            }
            // Any byte but `/` cancels a pending self-closing slash.
            self.tag.slash = false;
            i += 1;
        }
        self.state = State::Attrs(attr);
        Step::Advance(s.len())
    }

    /// An attribute name is complete: decide where its value goes.
    fn attr_name_end(&mut self) {
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
    fn capture_value(&mut self, bytes: &[u8]) {
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

    /// The tag's `>` was consumed: act on the tag.
    fn tag_end(&mut self) {
        let Tag {
            kind,
            end,
            slash,
            capture,
        } = self.tag;
        self.state = State::Data;
        let foreign = self.in_foreign();
        if end {
            match kind {
                // As in browsers: closes the innermost open element of that name, looking only
                // through SVG/MathML content (an HTML element in between stops the search).
                Kind::Foreign(code) => {
                    if let Some(at) = self
                        .open_positions()
                        .take_while(|&(_, c)| c != OPEN_TEMPLATE)
                        .find(|&(_, c)| c == code)
                    {
                        self.depth = at.0;
                    }
                }
                // Closes the innermost template and everything opened inside it.
                Kind::Template => {
                    if let Some((at, _)) = self.open_positions().find(|&(_, c)| c == OPEN_TEMPLATE)
                    {
                        self.depth = at;
                    }
                }
                Kind::Breakout if foreign => self.close_foreign(),
                _ => {}
            }
            return;
        }
        match kind {
            Kind::Title if !foreign => {
                if self.title_done || self.open_positions().any(|(_, c)| c == OPEN_TEMPLATE) {
                    // Not the document's title (or not its first): skip its text.
                    self.state = State::RawText(b"title");
                } else {
                    self.state = State::TitleText;
                }
            }
            // In SVG/MathML these are ordinary elements, with markup inside.
            Kind::RawText(name) if !foreign => self.state = State::RawText(name),
            Kind::Plaintext if !foreign => self.state = State::Done,
            Kind::Meta => {
                // `meta` is also a breakout tag.
                self.close_foreign();
                if capture {
                    self.apply_meta();
                }
            }
            // `<svg/>` is complete; inside SVG/MathML a nested one is a foreign element of that
            // name, which its end tag closes all the same.
            Kind::Foreign(code) if !slash => self.open_push(code),
            // Inside SVG/MathML, `template` is an ordinary foreign element.
            Kind::Template if !foreign => self.open_push(OPEN_TEMPLATE),
            Kind::Breakout => self.close_foreign(),
            _ => {}
        }
    }

    /// Whether the innermost tracked open element is `<svg>` or `<math>`: the scanner is in
    /// foreign content, where `<title>` is an SVG/MathML element and nothing is raw text.
    fn in_foreign(&self) -> bool {
        self.depth > 0 && self.open_code(self.depth - 1) != OPEN_TEMPLATE
    }

    /// The code of the tracked open element at `index`.
    fn open_code(&self, index: u32) -> u64 {
        (self.open >> (2 * index)) & 3
    }

    /// The tracked open elements with their positions, innermost first (a copy: the caller may
    /// change `depth` with the result).
    fn open_positions(&self) -> impl Iterator<Item = (u32, u64)> {
        let (open, depth) = (self.open, self.depth);
        (0..depth).rev().map(move |at| (at, (open >> (2 * at)) & 3))
    }

    /// Records an opened `<svg>`, `<math>` or `<template>`. Past [`OPEN_MAX`] levels (never seen
    /// in real pages) further ones are not tracked.
    fn open_push(&mut self, code: u64) {
        if self.depth < OPEN_MAX {
            let shift = 2 * self.depth;
            self.open = (self.open & !(3 << shift)) | (code << shift);
            self.depth += 1;
        }
    }

    /// An HTML breakout tag in foreign content: browsers close the SVG/MathML elements up to
    /// the nearest HTML element.
    fn close_foreign(&mut self) {
        while self.in_foreign() {
            self.depth -= 1;
        }
    }

    /// A `<meta>` was read while the charset is undecided: adopt its charset if it names one.
    fn apply_meta(&mut self) {
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

    /// Inside `<!-- … -->`: up to `-->` or `--!>`.
    fn comment(&mut self, s: &[u8]) -> Step {
        match memchr(b'>', s) {
            None => {
                push_tail(&mut self.tail, s);
                Step::Advance(s.len())
            }
            Some(at) => {
                push_tail(&mut self.tail, &s[..at]);
                if self.tail[1..] == *b"--" || self.tail == *b"--!" {
                    self.state = State::Data;
                } else {
                    push_tail(&mut self.tail, b">");
                }
                Step::Advance(at + 1)
            }
        }
    }

    /// Inside a bogus comment: up to the next `>`.
    fn bogus(&mut self, s: &[u8]) -> Step {
        match find(b'>', s) {
            None => Step::Advance(s.len()),
            Some(at) => {
                self.state = State::Data;
                Step::Advance(at + 1)
            }
        }
    }

    /// Inside `<![CDATA[`: up to `]]>`.
    fn cdata(&mut self, s: &[u8]) -> Step {
        match memchr(b'>', s) {
            None => {
                push_tail(&mut self.tail, s);
                Step::Advance(s.len())
            }
            Some(at) => {
                push_tail(&mut self.tail, &s[..at]);
                if self.tail[1..] == *b"]]" {
                    self.state = State::Data;
                } else {
                    push_tail(&mut self.tail, b">");
                }
                Step::Advance(at + 1)
            }
        }
    }

    /// Inside a raw-text element: up to its end tag.
    fn raw_text(&mut self, s: &[u8], name: &'static [u8]) -> Step {
        let mut i = 0;
        loop {
            let Some(at) = memchr(b'<', &s[i..]).map(|at| i + at) else {
                return Step::Advance(s.len());
            };
            match end_tag_at(&s[at..], name) {
                None => return Step::NeedMore(at),
                Some(false) => i = at + 1,
                Some(true) => {
                    self.begin_tag(Kind::Other, true);
                    return Step::Advance(at + 2 + name.len());
                }
            }
        }
    }

    /// Inside the title: collect its bytes up to `</title`.
    fn title_text(&mut self, s: &[u8]) -> Step {
        let mut i = 0;
        loop {
            let Some(at) = find(b'<', &s[i..]).map(|at| i + at) else {
                self.push_title(&s[i..]);
                return Step::Advance(s.len());
            };
            match end_tag_at(&s[at..], b"title") {
                None => {
                    self.push_title(&s[i..at]);
                    return Step::NeedMore(at);
                }
                // Title text may contain `<`: it is RCDATA.
                Some(false) => {
                    self.push_title(&s[i..=at]);
                    i = at + 1;
                }
                Some(true) => {
                    self.push_title(&s[i..at]);
                    self.title_closed();
                    return Step::Advance(at + 2 + b"title".len());
                }
            }
        }
    }

    /// Appends raw title bytes, up to the cap.
    fn push_title(&mut self, bytes: &[u8]) {
        let n = (TITLE_CAP - self.title.len()).min(bytes.len());
        self.title.extend_from_slice(&bytes[..n]);
        self.truncated |= n < bytes.len();
    }

    /// `</title` was seen: finish, or read on to the end of the prescan window for a `<meta>`
    /// when that could still change how the title decodes.
    fn title_closed(&mut self) {
        self.title_done = true;
        let charset_matters = self.source == Source::Default
            // Bytes at or above 0x80 decode differently per charset; ESC starts ISO-2022-JP
            // escape sequences. Plain ASCII reads the same in every ASCII-compatible charset.
            && self.title.iter().any(|&b| b >= 0x80 || b == 0x1b);
        if charset_matters {
            // The end tag's `>` and attributes still need skipping before the next tag.
            self.begin_tag(Kind::Other, true);
            self.limit = PRESCAN_LIMIT;
        } else {
            self.state = State::Done;
        }
    }
}

/// Byte classes for the tokenizer's inner loops (bit flags, so a loop can stop at any of several).
const WS: u8 = 1;
/// `/`.
const SLASH: u8 = 2;
/// `=`.
const EQ: u8 = 4;
/// `>`.
const GT: u8 = 8;

/// The class of every byte: ASCII whitespace as the HTML tokenizer sees it (CR is normalised to
/// LF before it), `/`, `=`, `>`, or none.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    table[b' ' as usize] = WS;
    table[b'\t' as usize] = WS;
    table[b'\n' as usize] = WS;
    table[b'\r' as usize] = WS;
    table[0x0c] = WS;
    table[b'/' as usize] = SLASH;
    table[b'=' as usize] = EQ;
    table[b'>' as usize] = GT;
    table
};

/// The length of the run of bytes at the start of `s` in none of the classes `stop`.
#[inline]
fn run_len(s: &[u8], stop: u8) -> usize {
    s.iter()
        .position(|&b| CLASS[usize::from(b)] & stop != 0)
        .unwrap_or(s.len())
}

/// `memchr`, but a short look first: in markup the next `<`, `>` or quote is usually a few bytes
/// away, where testing eight bytes at a time in a register beats `memchr`'s per-call set-up.
#[inline]
fn find(needle: u8, s: &[u8]) -> Option<usize> {
    const NEAR: usize = 32;
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = ONES * u64::from(needle);
    let near = s.len().min(NEAR);
    let mut at = 0;
    while at + 8 <= near {
        let mut word = [0u8; 8];
        word.copy_from_slice(&s[at..at + 8]);
        // A zero byte of `x` is a match; the lowest flagged byte is exact (little-endian order).
        let x = u64::from_le_bytes(word) ^ pattern;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    if let Some(pos) = s[at..near].iter().position(|&b| b == needle) {
        return Some(at + pos);
    }
    if s.len() <= NEAR {
        return None;
    }
    memchr(needle, &s[NEAR..]).map(|pos| pos + NEAR)
}

/// Code of an open HTML `<template>` in [`TitleScanner::open`].
const OPEN_TEMPLATE: u64 = 1;
/// Code of an open `<svg>`.
const OPEN_SVG: u64 = 2;
/// Code of an open `<math>`.
const OPEN_MATH: u64 = 3;
/// Most nesting levels of `open` tracked (two bits each in a `u64`).
const OPEN_MAX: u32 = 32;

/// Whether the bytes could still become a byte order mark.
fn may_be_bom(head: &[u8]) -> bool {
    matches!(head, [] | [0xEF | 0xFF | 0xFE] | [0xEF, 0xBB])
}

/// ASCII whitespace as the HTML tokenizer sees it.
#[inline]
fn is_space(b: u8) -> bool {
    CLASS[usize::from(b)] == WS
}

/// Whether `b` ends a tag name.
#[inline]
fn ends_name(b: u8) -> bool {
    CLASS[usize::from(b)] & (WS | SLASH | GT) != 0
}

/// Whether `s` (starting with `<`) is the end tag `</name` followed by whitespace, `/` or `>`.
/// `None` when the bytes so far match but are too few to tell.
fn end_tag_at(s: &[u8], name: &[u8]) -> Option<bool> {
    let need = 2 + name.len() + 1;
    if s.len() >= need {
        return Some(
            s[1] == b'/' && s[2..need - 1].eq_ignore_ascii_case(name) && ends_name(s[need - 1]),
        );
    }
    let so_far = s.get(1).is_none_or(|&b| b == b'/')
        && s.iter()
            .skip(2)
            .zip(name)
            .all(|(b, n)| b.to_ascii_lowercase() == *n);
    (!so_far).then_some(false)
}

/// The HTML start tags that end SVG/MathML content (WHATWG "parsing main inforeign"; `font` is
/// left out since it breaks out only with certain attributes).
fn is_breakout(name: &[u8]) -> bool {
    const NAMES: &[&[u8]] = &[
        b"b",
        b"big",
        b"blockquote",
        b"body",
        b"br",
        b"center",
        b"code",
        b"dd",
        b"div",
        b"dl",
        b"dt",
        b"em",
        b"embed",
        b"h1",
        b"h2",
        b"h3",
        b"h4",
        b"h5",
        b"h6",
        b"head",
        b"hr",
        b"i",
        b"img",
        b"li",
        b"listing",
        b"menu",
        b"meta",
        b"nobr",
        b"ol",
        b"p",
        b"pre",
        b"ruby",
        b"s",
        b"small",
        b"span",
        b"strong",
        b"strike",
        b"sub",
        b"sup",
        b"table",
        b"tt",
        b"u",
        b"ul",
        b"var",
    ];
    NAMES.iter().any(|known| known.eq_ignore_ascii_case(name))
}

/// HTML-only element names (none is an SVG or `MathML` element) whose end tag, seen inside
/// SVG/`MathML`, is taken to close an enclosing HTML element and so the foreign content; with the
/// [`is_breakout`] names this covers the containers an unclosed `<svg>` is found in.
fn is_html_container(name: &[u8]) -> bool {
    const NAMES: &[&[u8]] = &[
        b"article",
        b"aside",
        b"button",
        b"details",
        b"figcaption",
        b"figure",
        b"footer",
        b"form",
        b"header",
        b"html",
        b"label",
        b"main",
        b"nav",
        b"object",
        b"picture",
        b"section",
        b"summary",
        b"tbody",
        b"td",
        b"tfoot",
        b"th",
        b"thead",
        b"tr",
    ];
    NAMES.iter().any(|known| known.eq_ignore_ascii_case(name))
}

/// Keeps the last three bytes seen, for end markers (`-->`, `]]>`) split across inputs.
fn push_tail(tail: &mut [u8; 3], bytes: &[u8]) {
    if let Some(last) = bytes.len().checked_sub(3).map(|from| &bytes[from..]) {
        tail.copy_from_slice(last);
    } else {
        for &b in bytes {
            *tail = [tail[1], tail[2], b];
        }
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
    use encoding_rs::{SHIFT_JIS, WINDOWS_1251};

    /// Scans `doc` fed in one piece.
    fn title(doc: &[u8]) -> Option<String> {
        title_with(None, doc)
    }

    /// Scans `doc` fed in one piece, with a Content-Type charset.
    fn title_with(header: Option<&str>, doc: &[u8]) -> Option<String> {
        let mut scanner = TitleScanner::new(header);
        scanner.feed(doc);
        scanner.finish()
    }

    /// Scans `doc` fed in pieces of the given lengths (the last piece takes the rest).
    fn title_chunked(header: Option<&str>, doc: &[u8], sizes: &[usize]) -> Option<String> {
        let mut scanner = TitleScanner::new(header);
        let mut rest = doc;
        for &size in sizes {
            let (piece, tail) = rest.split_at(size.min(rest.len()));
            if scanner.feed(piece) {
                return scanner.finish();
            }
            rest = tail;
        }
        scanner.feed(rest);
        scanner.finish()
    }

    /// Asserts that every way of splitting `doc` (one byte at a time, and in two at each
    /// offset) gives the same title as feeding it whole, and returns that title.
    fn split_invariant(header: Option<&str>, doc: &[u8]) -> Option<String> {
        let whole = title_with(header, doc);
        let mut scanner = TitleScanner::new(header);
        for byte in doc.chunks(1) {
            if scanner.feed(byte) {
                break;
            }
        }
        assert_eq!(
            scanner.finish(),
            whole,
            "byte at a time: {:?}",
            String::from_utf8_lossy(doc)
        );
        for cut in 0..=doc.len() {
            let split = title_chunked(header, doc, &[cut]);
            assert_eq!(
                split,
                whole,
                "split at {cut}: {:?}",
                String::from_utf8_lossy(doc)
            );
        }
        whole
    }

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
    fn comment_decoy() {
        let doc = b"<!-- <title>no</title> --><title>yes</title>";
        assert_eq!(split_invariant(None, doc).as_deref(), Some("yes"));
        let doc = b"<!-- a -- b --!><!----><!--><!---><title>yes</title>";
        assert_eq!(split_invariant(None, doc).as_deref(), Some("yes"));
        let doc = b"<!--!><title>no</title>--><title>yes</title>";
        assert_eq!(split_invariant(None, doc).as_deref(), Some("yes"));
        let doc = b"<!DOCTYPE html><?xml version=\"1.0\"?><! x ><title>yes</title>";
        assert_eq!(title(doc).as_deref(), Some("yes"));
    }

    #[test]
    fn script_decoy() {
        let doc = b"<script>var s = \"<title>no</title>\"; if (a<b) {} </scripts></script ><title>yes</title>";
        assert_eq!(split_invariant(None, doc).as_deref(), Some("yes"));
        let doc = b"<script type=\"text/template\"><title>no</title></SCRIPT\n><title>yes</title>";
        assert_eq!(title(doc).as_deref(), Some("yes"));
    }

    #[test]
    fn style_decoy() {
        let doc = b"<style>/* <title>no</title> */ a::before { content: '</title>' }</style><title>yes</title>";
        assert_eq!(split_invariant(None, doc).as_deref(), Some("yes"));
    }

    #[test]
    fn other_raw_text_decoys() {
        for doc in [
            &b"<textarea><title>no</title></textarea><title>yes</title>"[..],
            b"<noscript><title>no</title></noscript><title>yes</title>",
            b"<xmp><title>no</title></xmp><title>yes</title>",
            b"<iframe><title>no</title></iframe><title>yes</title>",
            b"<noembed><title>no</title></noembed><title>yes</title>",
            b"<noframes><title>no</title></noframes><title>yes</title>",
            b"<template><title>no</title></template><title>yes</title>",
            b"<svg><title>no</title></svg><title>yes</title>",
            b"<svg viewBox='0 0 1 1'><g><title>no</title></g></svg><title>yes</title>",
            b"<svg/><title>yes</title>",
            b"<svg><![CDATA[<title>no</title>]]></svg><title>yes</title>",
            b"<svg><p><title>yes</title>",
            b"<math><mi>x</mi></math><title>yes</title>",
        ] {
            assert_eq!(
                split_invariant(None, doc).as_deref(),
                Some("yes"),
                "{}",
                String::from_utf8_lossy(doc)
            );
        }
        assert_eq!(title(b"<svg><title>no</title><desc>x</desc>"), None);
    }

    #[test]
    fn attribute_decoys() {
        let doc = b"<a title=\"<title>no</title>\" data-x='<title>no'><title>yes</title>";
        assert_eq!(split_invariant(None, doc).as_deref(), Some("yes"));
        let doc = b"<img alt=a>b<title>yes</title>";
        assert_eq!(title(doc).as_deref(), Some("yes"));
        // The `"` is part of an unquoted value, so it does not open a quoted one.
        let doc = b"<a href=x\"y><title>yes</title>";
        assert_eq!(title(doc).as_deref(), Some("yes"));
    }

    #[test]
    fn titles_decoy() {
        let doc =
            b"<titles>no</titles><titlebar>no</titlebar><title-x>no</title-x><title>yes</title>";
        assert_eq!(split_invariant(None, doc).as_deref(), Some("yes"));
        // `</titles>` inside the title is text, not its end.
        assert_eq!(
            title(b"<title>a</titles>b</title>").as_deref(),
            Some("a</titles>b")
        );
    }

    #[test]
    fn uppercase() {
        assert_eq!(title(b"<TITLE>Up</TITLE>").as_deref(), Some("Up"));
        assert_eq!(title(b"<TiTlE>Mixed</tItLe >").as_deref(), Some("Mixed"));
        assert_eq!(title(b"<title>End</title\n>").as_deref(), Some("End"));
        assert_eq!(
            title(b"<title>End</title foo=\"bar\">").as_deref(),
            Some("End")
        );
        assert_eq!(title(b"<title>End</title/>").as_deref(), Some("End"));
    }

    #[test]
    fn attributes_on_title() {
        assert_eq!(
            title(b"<title id=\"x\">Attr</title>").as_deref(),
            Some("Attr")
        );
        assert_eq!(
            title(b"<title data-a='>' lang=en>Attr</title>").as_deref(),
            Some("Attr")
        );
        assert_eq!(
            title(b"<title\nclass=a/>Attr</title>").as_deref(),
            Some("Attr")
        );
    }

    #[test]
    fn title_text_is_rcdata() {
        assert_eq!(
            title(b"<title>a <b>bold</b> <!-- c --></title>").as_deref(),
            Some("a <b>bold</b> <!-- c -->")
        );
        assert_eq!(title(b"<title>1 < 2</title>").as_deref(), Some("1 < 2"));
    }

    #[test]
    fn only_the_first_title_counts() {
        let doc = b"<title>first</title><title>second</title>";
        assert_eq!(title(doc).as_deref(), Some("first"));
        let doc = b"<title>Caf\xc3\xa9</title><title>second</title>";
        assert_eq!(split_invariant(None, doc).as_deref(), Some("Caf\u{e9}"));
    }

    #[test]
    fn title_in_body_counts() {
        let doc = b"<html><body><p>hello</p><title>late</title></body>";
        assert_eq!(title(doc).as_deref(), Some("late"));
    }

    #[test]
    fn plaintext_gives_up() {
        let mut scanner = TitleScanner::new(None);
        assert!(scanner.feed(b"<plaintext><title>no</title>"));
        assert_eq!(scanner.finish(), None);
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

    #[test]
    fn unterminated_title_at_eof() {
        assert_eq!(title(b"<title>never closed"), None);
        assert_eq!(title(b"<title>almost</title"), None);
        assert_eq!(title(b"<title>almost</tit"), None);
        assert_eq!(title(b"<title"), None);
        let mut scanner = TitleScanner::new(None);
        assert!(!scanner.feed(b"<title>open"));
        assert_eq!(scanner.finish(), None);
    }

    #[test]
    fn gives_up_after_one_mebibyte() {
        let filler = b"<p class=\"x\">filler text <b>bold</b></p>\n".repeat(1024);
        let mut scanner = TitleScanner::new(None);
        let mut fed = 0;
        let mut done = false;
        while fed < 2 * SCAN_LIMIT {
            done = scanner.feed(&filler);
            fed += filler.len();
            if done {
                break;
            }
        }
        assert!(done);
        assert!(
            fed >= SCAN_LIMIT && fed < SCAN_LIMIT + filler.len(),
            "gave up after {fed} bytes"
        );
        assert_eq!(scanner.finish(), None);

        // A title that ends right at the limit counts; one a byte later does not.
        let tag = b"<title>t</title>";
        let mut doc = vec![b' '; SCAN_LIMIT - tag.len()];
        doc.extend_from_slice(tag);
        assert_eq!(title(&doc).as_deref(), Some("t"));
        assert_eq!(
            title_chunked(None, &doc, &[SCAN_LIMIT - 3, 1, 1]).as_deref(),
            Some("t")
        );
        let mut doc = vec![b' '; SCAN_LIMIT - tag.len() + 1];
        doc.extend_from_slice(tag);
        assert_eq!(title(&doc), None);
        assert_eq!(title_chunked(None, &doc, &[SCAN_LIMIT - 3, 1, 1]), None);
        // A title open at the limit is given up.
        let mut doc = vec![b' '; SCAN_LIMIT - 10];
        doc.extend_from_slice(b"<title>abcdefgh</title>");
        assert_eq!(title(&doc), None);
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
