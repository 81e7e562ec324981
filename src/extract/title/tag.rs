//! Tags: reading a tag's name and deciding which of the few tags that matter it is, walking its
//! attributes up to the real `>` (so `<a title="<title>">` holds no title tag), and acting on
//! the tag once it ends: entering the title or a raw-text element, opening or closing
//! SVG/MathML/template content, or handing a `<meta>` to the charset detection.

use super::charset::{Slot, Source};
use super::foreign::{is_breakout, is_html_container, OPEN_MATH, OPEN_SVG, OPEN_TEMPLATE};
use super::tokenizer::{State, Step};
use super::{TitleScanner, NAME_MAX};
use crate::extract::class::{ends_name, find, is_space, run_len, EQ, GT, SLASH, WS};

/// Attribute states of the WHATWG tokenizer, reduced to what finding the tag's end needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Attr {
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
pub(super) enum Kind {
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
pub(super) struct Tag {
    /// Which tag.
    pub(super) kind: Kind,
    /// Whether it is an end tag.
    pub(super) end: bool,
    /// Whether the last byte was a `/` that would make a following `>` self-closing.
    pub(super) slash: bool,
    /// Whether its attributes are recorded (a `<meta>` while the charset is undecided).
    pub(super) capture: bool,
}

impl TitleScanner {
    /// Reads the tag name starting at `s[start]` and enters the tag; returns the bytes consumed
    /// (the name's terminator is left for the attribute states), `None` if more are needed.
    pub(super) fn tag_open(&mut self, s: &[u8], start: usize, end: bool) -> Option<usize> {
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
    pub(super) fn begin_tag(&mut self, kind: Kind, end: bool) {
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
    pub(super) fn tag_name_rest(&mut self, s: &[u8]) -> Step {
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
    pub(super) fn attrs(&mut self, s: &[u8], mut attr: Attr) -> Step {
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
                    if i == s.len() {
                        break;
                    }
                    self.attr_name_end();
                    // The byte that ended the name (space, `/`, `=` or `>`) means the same as
                    // after the name.
                    attr = Attr::AfterName;
                    continue;
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
}

#[cfg(test)]
mod tests {
    use crate::extract::title::testing::{split_invariant, title};

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
}
