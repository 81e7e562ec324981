//! Reading tags: where a tag ends (a resumable walk of the WHATWG tag and attribute states, so
//! `<a title="x>y">` ends at the second `>`, and a tag split across chunks is never re-read),
//! and its attributes, parsed only when some selector or `@attr` asks for one.

use std::borrow::Cow;

use memchr::memchr;

pub(super) use crate::extract::class::{ends_name, is_space};
use crate::extract::class::{run_len, EQ, GT, SLASH, WS};

/// The tokenizer states inside a tag that decide where it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum In {
    Name,
    BeforeAttr,
    AttrName,
    AfterAttrName,
    BeforeValue,
    DoubleQuoted,
    SingleQuoted,
    Unquoted,
    /// After a `/` outside a value: `>` makes the tag self-closing.
    Slash,
}

/// Finds the `>` that ends a tag, across as many pieces as it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct TagEnd {
    state: In,
    /// The tag ended with `/>` (outside a value).
    pub(super) self_closing: bool,
}

/// Where in `s`, from `i`, the first byte of a class in `stop` is (or `s.len()`).
#[inline]
fn skip_to(s: &[u8], i: usize, stop: u8) -> usize {
    i + run_len(&s[i..], stop)
}

impl TagEnd {
    /// A finder that starts on the first byte of the tag name.
    pub(super) fn new() -> Self {
        TagEnd {
            state: In::Name,
            self_closing: false,
        }
    }

    /// Walks `s` (the bytes after those already walked); the position of the closing `>` if it
    /// is in `s`.
    #[inline]
    pub(super) fn advance(&mut self, s: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < s.len() {
            match self.state {
                In::DoubleQuoted | In::SingleQuoted => {
                    let q = if self.state == In::DoubleQuoted {
                        b'"'
                    } else {
                        b'\''
                    };
                    i += memchr(q, &s[i..])? + 1;
                    self.state = In::BeforeAttr;
                    continue;
                }
                In::Name | In::AttrName | In::Unquoted => {
                    let stop = match self.state {
                        In::Name => WS | SLASH | GT,
                        In::AttrName => WS | SLASH | GT | EQ,
                        _ => WS | GT,
                    };
                    i = skip_to(s, i, stop);
                    let &b = s.get(i)?;
                    self.state = match (b, self.state) {
                        (b'>', _) => return Some(i),
                        (b'/', _) => In::Slash,
                        (b'=', _) => In::BeforeValue,
                        (_, In::AttrName) => In::AfterAttrName,
                        _ => In::BeforeAttr,
                    };
                }
                In::BeforeAttr => match s[i] {
                    b'>' => return Some(i),
                    b'/' => self.state = In::Slash,
                    b if is_space(b) => {}
                    _ => self.state = In::AttrName,
                },
                In::AfterAttrName => match s[i] {
                    b'>' => return Some(i),
                    b'/' => self.state = In::Slash,
                    b'=' => self.state = In::BeforeValue,
                    b if is_space(b) => {}
                    _ => self.state = In::AttrName,
                },
                In::BeforeValue => match s[i] {
                    b'>' => return Some(i),
                    b'"' => self.state = In::DoubleQuoted,
                    b'\'' => self.state = In::SingleQuoted,
                    b if is_space(b) => {}
                    _ => self.state = In::Unquoted,
                },
                In::Slash => {
                    if s[i] == b'>' {
                        self.self_closing = true;
                        return Some(i);
                    }
                    // Reconsume in "before attribute name".
                    self.state = In::BeforeAttr;
                    continue;
                }
            }
            i += 1;
        }
        None
    }
}

/// One attribute: where its name and value are in the tag's attribute bytes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Span {
    name: (u32, u32),
    value: (u32, u32),
}

/// The attributes of the tag being matched, parsed on first use.
pub(super) struct Attrs<'a> {
    /// The bytes after the tag name, up to (not including) the closing `>`.
    raw: &'a [u8],
    spans: &'a mut Vec<Span>,
    parsed: bool,
}

impl<'a> Attrs<'a> {
    /// Attributes to be read from `raw`, with `spans` as scratch space.
    pub(super) fn new(raw: &'a [u8], spans: &'a mut Vec<Span>) -> Self {
        Attrs {
            raw,
            spans,
            parsed: false,
        }
    }

    /// The raw value of the first attribute called `name` (lower-case), entities not decoded.
    pub(super) fn get(&mut self, name: &[u8]) -> Option<&'a [u8]> {
        if !self.parsed {
            parse(self.raw, self.spans);
            self.parsed = true;
        }
        let raw = self.raw;
        self.spans.iter().find_map(|s| {
            let n = &raw[s.name.0 as usize..s.name.1 as usize];
            n.eq_ignore_ascii_case(name)
                .then(|| &raw[s.value.0 as usize..s.value.1 as usize])
        })
    }

    /// The value of `name` with character references decoded.
    pub(super) fn decoded(&mut self, name: &[u8]) -> Option<Cow<'a, [u8]>> {
        self.get(name).map(decode)
    }
}

/// `v` with character references decoded (as the extractor's final values are).
pub(super) fn decode(v: &[u8]) -> Cow<'_, [u8]> {
    if memchr(b'&', v).is_none() {
        return Cow::Borrowed(v);
    }
    let s = String::from_utf8_lossy(v);
    Cow::Owned(htmlize::unescape(s).into_owned().into_bytes())
}

/// Splits attribute bytes into names and values, as the HTML tokenizer does.
fn parse(s: &[u8], out: &mut Vec<Span>) {
    out.clear();
    let n = s.len();
    let at = |i: usize| i as u32;
    let mut i = 0;
    loop {
        while i < n && (is_space(s[i]) || s[i] == b'/') {
            i += 1;
        }
        if i >= n {
            return;
        }
        let name_start = i;
        i += 1;
        while i < n && !(is_space(s[i]) || s[i] == b'/' || s[i] == b'=') {
            i += 1;
        }
        let name = (at(name_start), at(i));
        while i < n && is_space(s[i]) {
            i += 1;
        }
        let mut value = (at(i), at(i));
        if i < n && s[i] == b'=' {
            i += 1;
            while i < n && is_space(s[i]) {
                i += 1;
            }
            if i < n && (s[i] == b'"' || s[i] == b'\'') {
                let start = i + 1;
                let end = memchr(s[i], &s[start..]).map_or(n, |k| start + k);
                value = (at(start), at(end));
                i = (end + 1).min(n);
            } else {
                let start = i;
                while i < n && !is_space(s[i]) {
                    i += 1;
                }
                value = (at(start), at(i));
            }
        }
        out.push(Span { name, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(s: &str) -> Option<(usize, bool)> {
        let mut e = TagEnd::new();
        e.advance(s.as_bytes()).map(|i| (i, e.self_closing))
    }

    #[test]
    fn tag_ends() {
        assert_eq!(end("a>"), Some((1, false)));
        assert_eq!(end("a title='x>y'>"), Some((13, false)));
        assert_eq!(end("a title=\"x>y\">"), Some((13, false)));
        assert_eq!(end("a x=y\"z>w\">"), Some((7, false)));
        assert_eq!(end("br/>"), Some((3, true)));
        assert_eq!(end("a href=x/>"), Some((9, false)));
        assert_eq!(end("a \"q>"), Some((4, false)));
        assert_eq!(end("a title='x"), None);
        // Resuming gives the same answer as one pass.
        let mut e = TagEnd::new();
        assert_eq!(e.advance(b"a title='x"), None);
        assert_eq!(e.advance(b">y' /"), None);
        assert_eq!(e.advance(b">"), Some(0));
        assert!(e.self_closing);
    }

    #[test]
    fn attributes() {
        let raw = b" Class=\"a b\" id=x  data-v = 'p&amp;q' checked x='dup' /";
        let mut spans = Vec::new();
        let mut a = Attrs::new(raw, &mut spans);
        assert_eq!(a.get(b"class"), Some(&b"a b"[..]));
        assert_eq!(a.get(b"id"), Some(&b"x"[..]));
        assert_eq!(a.decoded(b"data-v").as_deref(), Some(&b"p&q"[..]));
        assert_eq!(a.get(b"checked"), Some(&b""[..]));
        assert_eq!(a.get(b"x"), Some(&b"dup"[..]));
        assert_eq!(a.get(b"nope"), None);
        let mut a = Attrs::new(b" a=1 a=2 b=c/d", &mut spans);
        assert_eq!(a.get(b"a"), Some(&b"1"[..]));
        assert_eq!(a.get(b"b"), Some(&b"c/d"[..]));
    }
}
