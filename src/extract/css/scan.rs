//! The tokenizer loop: text between tags, what a `<` starts, and the states that skip
//! comments, bogus comments and CDATA or pass raw text through, plus the carry-over that makes
//! the result independent of how the body was split into pieces.
//!
//! A state handler stops short only before a construct it cannot decide yet (a `<` whose next
//! bytes are missing, the possible end of a comment, a tag without its `>`). That tail is kept in
//! `carry` and retried with the next bytes: a few at a time for short constructs, up to the next
//! `>` for a tag (whose end-finder resumes where it was, so no tag byte is walked twice). As soon
//! as the retried bytes are consumed, the rest of the piece is scanned in place.

use memchr::memchr;

use super::name::{self, key_of};
use super::tag::{ends_name, TagEnd};
use super::{CssRun, TAG_CAP};
use crate::extract::class::find;

/// Bytes added to a short carried construct per retry (more than any such construct needs).
const STEP: usize = 32;

/// Where the tokenizer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Text: looking for the next `<`.
    Data,
    /// In a tag that starts at the beginning of `carry`: its first `seen` bytes were walked.
    Tag { end: TagEnd, seen: usize },
    /// In a tag longer than [`TAG_CAP`]: skipping to its end.
    SkipTag(TagEnd),
    /// Just after `<!--` (`<!-->` and `<!--->` are whole comments).
    CommentStart,
    /// In a comment, looking for `-->` (or `--!>`).
    Comment,
    /// In `<!…>`, `<?…>` or `</…>` not starting with a letter: up to the next `>`.
    Bogus,
    /// In `<![CDATA[ … ]]>` (SVG/MathML only): text.
    Cdata,
    /// In a raw-text element: text up to `</` + this name.
    RawText(&'static [u8]),
    /// After `<plaintext>`: the rest is text.
    Plaintext,
    /// Every extractor is done.
    Done,
}

impl State {
    /// Whether the carry-over left at the end of the body is text.
    pub(super) fn carry_is_text(self, carry: &[u8]) -> bool {
        match self {
            State::Data => !carry.starts_with(b"<!"),
            State::RawText(_) | State::Cdata | State::Plaintext => true,
            _ => false,
        }
    }
}

impl CssRun {
    /// Feeds a piece of the decoded body.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !self.carry.is_empty() && !data.is_empty() && self.state != State::Done {
            let old = self.carry.len();
            let take = match self.state {
                State::Tag { .. } => memchr(b'>', data).map_or(data.len(), |k| k + 1),
                _ => data.len().min(STEP),
            };
            self.carry.extend_from_slice(&data[..take]);
            let buf = std::mem::take(&mut self.carry);
            let used = self.run(&buf);
            self.carry = buf;
            if used >= old {
                // The carried bytes are consumed; what is left of them is in `data`.
                self.carry.clear();
                data = &data[used - old..];
                break;
            }
            self.carry.drain(..used);
            data = &data[take..];
            if let State::Tag { end, .. } = self.state {
                if self.carry.len() > TAG_CAP {
                    self.state = State::SkipTag(end);
                    self.carry.clear();
                }
            }
        }
        if !self.carry.is_empty() || data.is_empty() || self.state == State::Done {
            return;
        }
        let used = self.run(data);
        let rest = &data[used..];
        match self.state {
            State::Tag { end, .. } if rest.len() > TAG_CAP => self.state = State::SkipTag(end),
            State::Done => {}
            _ => self.carry.extend_from_slice(rest),
        }
    }

    /// Runs the tokenizer over `s`; how many bytes it consumed (the rest needs more input).
    fn run(&mut self, s: &[u8]) -> usize {
        let mut i = 0;
        loop {
            match self.state {
                State::Done => return s.len(),
                State::Data => {
                    let Some(k) = find(b'<', &s[i..]) else {
                        self.text(&s[i..]);
                        return s.len();
                    };
                    let lt = i + k;
                    self.text(&s[i..lt]);
                    match self.markup(s, lt) {
                        Some(next) => i = next,
                        None => return lt,
                    }
                }
                State::Tag { mut end, seen } => {
                    // Only ever at the start of the carry-over.
                    match end.advance(&s[seen..]) {
                        Some(k) => i = self.tag(&s[..=seen + k], end.self_closing),
                        None => {
                            self.state = State::Tag { end, seen: s.len() };
                            return 0;
                        }
                    }
                }
                State::SkipTag(mut end) => match end.advance(&s[i..]) {
                    Some(k) => {
                        self.state = State::Data;
                        i += k + 1;
                    }
                    None => {
                        self.state = State::SkipTag(end);
                        return s.len();
                    }
                },
                State::CommentStart => match (s.get(i), s.get(i + 1)) {
                    (Some(b'>'), _) => {
                        self.state = State::Data;
                        i += 1;
                    }
                    (Some(b'-'), Some(b'>')) => {
                        self.state = State::Data;
                        i += 2;
                    }
                    (None, _) | (Some(b'-'), None) => return i,
                    _ => self.state = State::Comment,
                },
                State::Comment => {
                    let from = i;
                    loop {
                        let Some(k) = memchr(b'>', &s[i..]) else {
                            // Keep what could start `--!>`.
                            return s.len().saturating_sub(3).max(from);
                        };
                        let gt = i + k;
                        i = gt + 1;
                        let before = &s[from..gt];
                        if before.ends_with(b"--") || before.ends_with(b"--!") {
                            self.state = State::Data;
                            break;
                        }
                    }
                }
                State::Bogus => match memchr(b'>', &s[i..]) {
                    Some(k) => {
                        self.state = State::Data;
                        i += k + 1;
                    }
                    None => return s.len(),
                },
                State::Cdata => {
                    let from = i;
                    loop {
                        let Some(k) = memchr(b'>', &s[i..]) else {
                            let keep = s.len().saturating_sub(2).max(from);
                            self.text(&s[from..keep]);
                            return keep;
                        };
                        let gt = i + k;
                        i = gt + 1;
                        if s[from..gt].ends_with(b"]]") {
                            self.text(&s[from..gt - 2]);
                            self.state = State::Data;
                            break;
                        }
                    }
                }
                State::RawText(end_name) => {
                    let from = i;
                    loop {
                        let Some(k) = memchr(b'<', &s[i..]) else {
                            self.text(&s[from..]);
                            return s.len();
                        };
                        let lt = i + k;
                        match raw_text_end(&s[lt..], end_name) {
                            Some(true) => {
                                self.text(&s[from..lt]);
                                self.state = State::Data;
                                i = lt;
                                break;
                            }
                            Some(false) => i = lt + 1,
                            None => {
                                self.text(&s[from..lt]);
                                return lt;
                            }
                        }
                    }
                }
                State::Plaintext => {
                    self.text(&s[i..]);
                    return s.len();
                }
            }
        }
    }

    /// Decides what the `<` at `s[lt]` starts and deals with it: where scanning goes on, or
    /// `None` when that needs bytes after `s`.
    #[inline]
    fn markup(&mut self, s: &[u8], lt: usize) -> Option<usize> {
        let b1 = *s.get(lt + 1)?;
        if b1.is_ascii_alphabetic() {
            return self.tag_from(s, lt, lt + 1);
        }
        match b1 {
            b'/' => {
                let b2 = *s.get(lt + 2)?;
                if b2.is_ascii_alphabetic() {
                    self.tag_from(s, lt, lt + 2)
                } else if b2 == b'>' {
                    Some(lt + 3)
                } else {
                    self.state = State::Bogus;
                    Some(lt + 2)
                }
            }
            b'!' => {
                let rest = &s[lt..];
                let cdata = self.tree.in_foreign();
                if rest.starts_with(b"<!--") {
                    self.state = State::CommentStart;
                    Some(lt + 4)
                } else if cdata && rest.starts_with(b"<![CDATA[") {
                    self.state = State::Cdata;
                    Some(lt + 9)
                } else if b"<!--".starts_with(rest) || (cdata && b"<![CDATA[".starts_with(rest)) {
                    None
                } else {
                    self.state = State::Bogus;
                    Some(lt + 2)
                }
            }
            b'?' => {
                self.state = State::Bogus;
                Some(lt + 1)
            }
            _ => {
                self.text(b"<");
                Some(lt + 1)
            }
        }
    }

    /// A tag at `s[lt]` whose name starts at `s[name]`: where scanning goes on if its `>` is
    /// in `s`; else `None`, with the state saying where its end-finder stopped.
    #[inline]
    fn tag_from(&mut self, s: &[u8], lt: usize, name: usize) -> Option<usize> {
        let mut end = TagEnd::new();
        match end.advance(&s[name..]) {
            Some(k) => Some(lt + self.tag(&s[lt..=name + k], end.self_closing)),
            None => {
                self.state = State::Tag {
                    end,
                    seen: s.len() - lt,
                };
                None
            }
        }
    }

    /// A whole tag `t` (`<` … `>`): opens or closes elements and picks the next state; a tag
    /// longer than [`TAG_CAP`] is skipped.
    /// Returns the length of `t`, the position after it when `t` starts at 0.
    #[inline]
    fn tag(&mut self, t: &[u8], self_closing: bool) -> usize {
        self.state = State::Data;
        if t.len() > TAG_CAP {
            // Skipped, as it is when it does not fit the carry-over.
            return t.len();
        }
        let is_end = t[1] == b'/';
        let from = if is_end { 2 } else { 1 };
        let len = t[from..]
            .iter()
            .position(|&b| ends_name(b))
            .unwrap_or(t.len() - from);
        let key = key_of(&t[from..from + len]);
        if is_end {
            self.end_tag(key);
        } else if let Some(opened) = self.start_tag(key, self_closing, &t[from + len..t.len() - 1])
        {
            if self.state != State::Done {
                if opened == name::PLAINTEXT {
                    self.state = State::Plaintext;
                } else if let Some(raw) = name::raw_text(opened) {
                    self.state = State::RawText(raw);
                }
            }
        }
        t.len()
    }
}

/// Whether `s` (from a `<`) is the end tag `</name` followed by whitespace, `/` or `>`; `None`
/// when `s` is too short to say.
fn raw_text_end(s: &[u8], name: &[u8]) -> Option<bool> {
    let len = 2 + name.len();
    for j in 1..len {
        let want = if j == 1 { b'/' } else { name[j - 2] };
        if s.get(j)?.to_ascii_lowercase() != want {
            return Some(false);
        }
    }
    let b = *s.get(len)?;
    Some(ends_name(b))
}
