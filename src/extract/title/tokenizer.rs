//! The tokenizer: a cut-down WHATWG HTML tokenizer that only skips what must be skipped to find
//! the real `<title>`. It owns the state loop, the carry-over that makes the result independent
//! of chunk boundaries, the scan limits, deciding what a `<` starts, and the states that skip
//! comments, bogus comments, CDATA and raw-text elements (`script`, `style`, …) or collect the
//! title's bytes. Tags and their attributes are read in `tag`.

use memchr::memchr;

use super::charset::Source;
use super::tag::{Attr, Kind};
use super::{TitleScanner, CARRY_CAP, PRESCAN_LIMIT, TITLE_CAP};
use crate::extract::class::{ends_name, find};

/// Tokenizer states; each skips one kind of construct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Text between tags: looking for the next `<`.
    Data,
    /// Inside a tag name longer than [`NAME_MAX`](super::NAME_MAX): skipping to its end.
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

/// What a state handler did with the bytes it was given.
pub(super) enum Step {
    /// Consumed this many bytes; go on.
    Advance(usize),
    /// Consumed this many bytes; what follows cannot be decided without more input.
    NeedMore(usize),
}

impl TitleScanner {
    /// Runs the tokenizer over `data`, splicing it onto the carry-over from the last call.
    ///
    /// The tokenizer stops short only before a construct it cannot decide yet, and then fewer
    /// than [`LOOKAHEAD`](super::LOOKAHEAD) bytes remain; those are kept in `carry` and retried
    /// with the bytes that follow. So the result never depends on where chunks were split.
    pub(super) fn push(&mut self, mut data: &[u8]) {
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

#[cfg(test)]
mod tests {
    use crate::extract::title::testing::{split_invariant, title, title_chunked};
    use crate::extract::title::{TitleScanner, SCAN_LIMIT};

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
}
