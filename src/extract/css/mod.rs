//! CSS extractors (`-e NAME=css:SELECTOR[@attr]`) on the streamed body, with volley's own
//! streaming matcher rather than an HTML rewriter.
//!
//! Why not lol_html (which this replaced): it tokenises and dispatches every byte, ~52,000
//! instructions for a 2 KB page, which nearly doubled the cost of a request. This matcher jumps
//! from `<` to `<` with `memchr`, reads a tag's name and finds its end, parses attributes only
//! when a selector or `@attr` asks for one, and keeps a stack of open elements with a few bits
//! per element for the compounds left of a combinator. Once every extractor has its value (the
//! first match ended, without `--extract-all`) `feed` does nothing.
//!
//! What it understands, as the HTML tokenizer does: comments (their text is not text), doctype
//! and bogus comments, CDATA in SVG/MathML, raw-text elements (`script`, `style`, `textarea`,
//! `title`, `xmp`, `iframe`, `noembed`, `noframes`, `noscript`: their content is text, not
//! markup), `<plaintext>`, quoted and unquoted attribute values (`>` in quotes does not end a
//! tag), and tag names ending only at whitespace, `/` or `>`. How elements nest is in `tree`.
//!
//! A match's value is all the text inside the element up to its end (nested elements' text
//! included), or with `@attr` the attribute's value; character references decoded, and a text's
//! whitespace collapsed. Values are capped at [`MAX_VALUE`] bytes.
//!
//! Bounded state whatever the body: a construct split by a chunk boundary is carried over —
//! at most a few bytes, or for a tag its bytes so far up to [`TAG_CAP`] (a longer tag is skipped:
//! it opens nothing and matches nothing) — plus the element stack (see `tree`) and the values.
//!
//! The pieces: `selector` (parsing), `name` (tag names as integers, and the HTML name tables),
//! `tag` (tag ends and attributes), `tree` (element stack and matching), `scan` (the tokenizer
//! states and the carry-over). This file holds the public API and the values.

mod name;
mod scan;
mod selector;
mod tag;
mod tree;

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;

pub use selector::Selector;

use name::NameKey;
use scan::State;
use tag::{Attrs, Span};
use tree::{Element, Program, Tree};

/// Longest text or attribute kept per match (the rest is dropped).
const MAX_VALUE: usize = 64 * 1024;
/// Longest tag kept while waiting for its end across chunks; a longer one is skipped.
const TAG_CAP: usize = 64 * 1024;

/// What one CSS extractor has gathered.
struct Slot {
    /// The attribute it takes instead of the text, lower-case.
    attr: Option<Vec<u8>>,
    /// One raw value per match (only the first unless `all`).
    values: Vec<Vec<u8>>,
    /// The first match has ended (and not `all`): stop looking.
    done: bool,
}

/// A match whose element is still open: its text goes to `slots[slot].values[value]`.
struct OpenMatch {
    depth: usize,
    slot: usize,
    value: usize,
}

/// The CSS extractors of one response.
pub struct CssRun {
    program: Program,
    tree: Tree,
    slots: Vec<Slot>,
    all: bool,
    /// Extractors not done yet; at zero the scan stops.
    pending: usize,
    /// Extractors that still look for a match (all of them with `all`).
    looking: usize,
    /// Matches collecting text, innermost last.
    matching: Vec<OpenMatch>,
    state: State,
    /// The undecided tail of the last piece (see `scan`).
    carry: Vec<u8>,
    /// Scratch space for the attributes of the tag being matched.
    spans: Vec<Span>,
}

impl CssRun {
    /// A run for `(selector, attr)` pairs, in order; with `all` every match is kept.
    pub fn new(specs: &[(&Selector, &Option<String>)], all: bool) -> Self {
        let selectors: Vec<&Selector> = specs.iter().map(|(s, _)| *s).collect();
        let program = Program::new(&selectors);
        let tree = Tree::new(program.words());
        CssRun {
            program,
            tree,
            slots: specs
                .iter()
                .map(|(_, attr)| Slot {
                    attr: attr.as_ref().map(|a| a.to_ascii_lowercase().into_bytes()),
                    values: Vec::new(),
                    done: false,
                })
                .collect(),
            all,
            pending: specs.len(),
            looking: specs.len(),
            matching: Vec::new(),
            state: if specs.is_empty() {
                State::Done
            } else {
                State::Data
            },
            carry: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// The values found per extractor, entities decoded; texts have their whitespace collapsed.
    pub fn finish(mut self) -> Vec<Vec<String>> {
        if self.state != State::Done {
            let carry = std::mem::take(&mut self.carry);
            if self.state.carry_is_text(&carry) {
                self.text(&carry);
            }
            self.pop_to(1);
        }
        self.slots
            .into_iter()
            .map(|slot| {
                let is_attr = slot.attr.is_some();
                slot.values
                    .into_iter()
                    .map(|v| {
                        let mut v = utf8(v);
                        if memchr::memchr(b'&', v.as_bytes()).is_some() {
                            v = htmlize::unescape(v).into_owned();
                        }
                        if is_attr || is_collapsed(&v) {
                            v
                        } else {
                            collapse(&v)
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Text content: appended to every match collecting text.
    #[inline]
    fn text(&mut self, t: &[u8]) {
        if t.is_empty() {
            return;
        }
        for m in &self.matching {
            let v = &mut self.slots[m.slot].values[m.value];
            let room = MAX_VALUE - v.len();
            v.extend_from_slice(&t[..t.len().min(room)]);
        }
    }

    /// A start tag: implicit end tags, then matching, then (unless void) a new open element.
    /// `raw` is what follows the name up to the `>`. Returns the element's name, so the
    /// scanner can switch to raw text.
    #[inline]
    fn start_tag(&mut self, name: NameKey, self_closing: bool, raw: &[u8]) -> Option<NameKey> {
        if let Some(d) = self.tree.implicit_close(name) {
            self.pop_to(d);
        }
        let foreign = self.tree.in_foreign() || name == name::SVG || name == name::MATH;
        let opens = !(name::is_void(name) || (self_closing && foreign));
        let position = self.tree.child(&self.program, name, opens)?;
        let try_match = self.looking > 0 && self.program.may_match(name);
        if try_match || (opens && self.program.words() > 0) {
            let mut spans = std::mem::take(&mut self.spans);
            let mut el = Element::new(name, position, Attrs::new(raw, &mut spans));
            if try_match {
                self.match_slots(&mut el, opens);
            }
            if opens {
                self.tree.push(&self.program, name, Some(&mut el), foreign);
            }
            self.spans = spans;
        } else if opens {
            self.tree.push(&self.program, name, None, foreign);
        }
        (opens && !foreign).then_some(name)
    }

    /// Tries every extractor still looking on `el`, recording the matches.
    fn match_slots(&mut self, el: &mut Element<'_>, opens: bool) {
        for i in 0..self.slots.len() {
            let slot = &self.slots[i];
            if slot.done || (!self.all && !slot.values.is_empty()) {
                continue;
            }
            if !self.tree.matches_slot(&self.program, i, el) {
                continue;
            }
            let slot = &mut self.slots[i];
            if let Some(attr) = &slot.attr {
                let Some(v) = el.attrs.get(attr) else {
                    continue;
                };
                slot.values.push(v[..v.len().min(MAX_VALUE)].to_vec());
                self.finished(i);
            } else {
                slot.values.push(Vec::new());
                if opens {
                    self.matching.push(OpenMatch {
                        depth: self.tree.depth() + 1,
                        slot: i,
                        value: slot.values.len() - 1,
                    });
                } else {
                    self.finished(i);
                }
            }
            if !self.all {
                self.looking -= 1;
            }
        }
    }

    /// An end tag: closes up to the innermost open element of its name.
    fn end_tag(&mut self, name: NameKey) {
        if self.tree.cancel_overflow() {
            return;
        }
        if let Some(d) = self.tree.find_open(name) {
            self.pop_to(d);
        }
    }

    /// Closes the elements at depth `d` and deeper, ending their matches.
    fn pop_to(&mut self, d: usize) {
        self.tree.pop_to(d);
        while self.matching.last().is_some_and(|m| m.depth >= d) {
            let m = self.matching.pop().expect("just checked");
            self.finished(m.slot);
        }
    }

    /// A value of extractor `i` is complete: without `all`, the extractor is done.
    fn finished(&mut self, i: usize) {
        if !self.all && !self.slots[i].done {
            self.slots[i].done = true;
            self.pending -= 1;
            if self.pending == 0 {
                self.state = State::Done;
            }
        }
    }
}

/// `v` as UTF-8, invalid sequences replaced; a character cut by [`MAX_VALUE`] is dropped.
fn utf8(mut v: Vec<u8>) -> String {
    if v.len() >= MAX_VALUE {
        let start = v.len().saturating_sub(4);
        if let Some(p) = v[start..].iter().rposition(|&b| b & 0xc0 != 0x80) {
            let lead = start + p;
            let need = match v[lead] {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => 1,
            };
            if v.len() - lead < need {
                v.truncate(lead);
            }
        }
    }
    match String::from_utf8(v) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Whether `s` is already as [`collapse`] would make it (the usual case: no copy then).
fn is_collapsed(s: &str) -> bool {
    let b = s.as_bytes();
    let space = |c: u8| c.is_ascii_whitespace() || c == 0x0b;
    s.is_ascii()
        && b.first().is_none_or(|&c| !space(c))
        && b.last().is_none_or(|&c| !space(c))
        && b.windows(2).all(|w| w[0] != b' ' || !space(w[1]))
        && !b.iter().any(|&c| space(c) && c != b' ')
}

/// Whitespace runs become one space; none at either end (Unicode whitespace, as
/// `split_whitespace` sees it; ASCII text takes a byte loop).
fn collapse(s: &str) -> String {
    if !s.is_ascii() {
        return s.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    let mut out = Vec::with_capacity(s.len());
    let mut space = false;
    for &b in s.as_bytes() {
        if b.is_ascii_whitespace() || b == 0x0b {
            space = !out.is_empty();
        } else {
            if space {
                out.push(b' ');
                space = false;
            }
            out.push(b);
        }
    }
    String::from_utf8(out).unwrap_or_default()
}
