//! The element stack and selector matching. Elements are matched once, when their start tag is
//! read: the subject compound against the tag (attributes parsed only if a compound asks), the
//! compounds to its left against marks kept per open element — one bit per such compound, set
//! when that element opened. So a `div.a > p` costs a bit test per ancestor, and an element's
//! attributes are never kept.
//!
//! The stack follows the HTML tree builder where it matters for real pages: void elements never
//! open; an end tag closes up to the innermost open element of its name (and is ignored when
//! there is none); the common implicit end tags are applied (`<p>` closed by a block start tag,
//! `<li>` by `<li>`, `<dt>`/`<dd>` by either, `<tr>` by `<tr>`, `<td>`/`<th>` by a cell or row,
//! `<option>` by `<option>`/`<optgroup>`), each searching no further than the nearest scope
//! boundary (`table`, `td`, `button`, `svg`, …); `<x/>` opens `x` anyway, except inside
//! `<svg>`/`<math>`. Not modelled: foster parenting, the adoption agency (`<b><p></b>`), implied
//! `<html>`/`<head>`/`<body>`/`<tbody>`, and HTML tags breaking out of SVG.
//!
//! The stack is at most [`MAX_DEPTH`] deep; a start tag beyond that opens no level (and never
//! matches), and each end tag first cancels one such unopened start tag.

use std::sync::Arc;

use super::name::{self, NameKey};
use super::selector::{AttrOp, AttrTest, Combinator, Complex, Compound, Selector, Simple};
use super::tag::{is_space, Attrs};

/// Deepest element stack kept.
pub(super) const MAX_DEPTH: usize = 512;

/// One alternative of a selector, ready for matching.
#[derive(Debug)]
struct Alt {
    subject: Compound,
    /// The compounds to the left of the subject, right to left: the combinator to their right
    /// and their mark (numbered within the selector).
    chain: Vec<(Combinator, usize)>,
}

/// A selector compiled for matching (once, when parsed).
#[derive(Debug)]
pub(crate) struct Compiled {
    alts: Vec<Alt>,
    /// The compounds left of a combinator, by mark number.
    marked: Vec<Compound>,
    /// Whether sibling positions are needed (`:nth-child` and kin).
    nth: bool,
    /// Whether sibling counts per tag name are needed.
    of_type: bool,
    /// The tag names the subject can have, when every alternative names one.
    subjects: Option<Vec<NameKey>>,
}

impl Compiled {
    /// Whether an element `name` may be this selector's subject.
    #[inline]
    fn may_match(&self, name: NameKey) -> bool {
        self.subjects.as_ref().is_none_or(|s| s.contains(&name))
    }

    /// Compiles the alternatives of a selector list.
    pub(super) fn new(alts: &[Complex]) -> Self {
        let mut marked = Vec::new();
        let alts: Vec<Alt> = alts
            .iter()
            .map(|c| {
                let (subject, left) = c.compounds.split_last().expect("never empty");
                let chain = left
                    .iter()
                    .zip(&c.combinators)
                    .rev()
                    .map(|(compound, &comb)| {
                        marked.push(compound.clone());
                        (comb, marked.len() - 1)
                    })
                    .collect();
                Alt {
                    subject: subject.clone(),
                    chain,
                }
            })
            .collect();
        let all = || alts.iter().map(|a| &a.subject).chain(&marked);
        Compiled {
            nth: all().any(|c| uses_nth(c, false)),
            of_type: all().any(|c| uses_nth(c, true)),
            subjects: alts.iter().map(|a| a.subject.tag).collect(),
            alts,
            marked,
        }
    }
}

/// Whether `c` has a `:nth-…` (with `of_type`, an `-of-type` one).
fn uses_nth(c: &Compound, of_type: bool) -> bool {
    c.simple.iter().any(|s| match s {
        Simple::Nth { of_type: t, .. } => !of_type || *t,
        Simple::Not(inner) => uses_nth(inner, of_type),
        _ => false,
    })
}

/// Every extractor's compiled selector, for one response.
pub(super) struct Program {
    /// Per extractor: its selector and where its marks start.
    sels: Vec<(Arc<Compiled>, usize)>,
    /// Whether sibling positions are needed.
    nth: bool,
    /// Whether sibling counts per tag name are needed.
    of_type: bool,
    /// `u64` words of marks per open element.
    words: usize,
}

impl Program {
    /// The selectors of a run, in order.
    pub(super) fn new(selectors: &[&Selector]) -> Self {
        let mut marks = 0;
        let sels = selectors
            .iter()
            .map(|s| {
                let at = marks;
                marks += s.compiled.marked.len();
                (s.compiled.clone(), at)
            })
            .collect();
        Program {
            sels,
            nth: selectors.iter().any(|s| s.compiled.nth),
            of_type: selectors.iter().any(|s| s.compiled.of_type),
            words: marks.div_ceil(64),
        }
    }

    /// `u64` words of marks per open element.
    pub(super) fn words(&self) -> usize {
        self.words
    }

    /// Whether an element `name` may be some extractor's subject.
    #[inline]
    pub(super) fn may_match(&self, name: NameKey) -> bool {
        self.sels.iter().any(|(c, _)| c.may_match(name))
    }
}

/// An open element.
#[derive(Clone, Copy)]
struct Open {
    name: NameKey,
    /// Element children seen so far.
    children: u32,
    /// Where this element's per-name child counts start in [`Tree::types`].
    types_at: u32,
    /// Inside `<svg>` or `<math>` (itself included).
    foreign: bool,
}

/// The open elements; entry 0 is the document.
pub(super) struct Tree {
    open: Vec<Open>,
    /// [`Program::words`] words per entry of `open`.
    marks: Vec<u64>,
    /// Child counts per tag name, for `-of-type`; each open element's run is at the end while
    /// it is the innermost.
    types: Vec<(NameKey, u32)>,
    /// Start tags beyond [`MAX_DEPTH`] not yet cancelled by an end tag.
    overflow: u32,
    /// [`Program::words`].
    words: usize,
}

/// What a start tag is, for matching.
pub(super) struct Element<'a> {
    pub(super) name: NameKey,
    /// 1-based position among its parent's element children.
    index: u32,
    /// 1-based position among the siblings of its name (when counted).
    type_index: u32,
    pub(super) attrs: Attrs<'a>,
}

impl Tree {
    pub(super) fn new(words: usize) -> Self {
        Tree {
            open: {
                let mut open = Vec::with_capacity(32);
                open.push(Open {
                    name: 0,
                    children: 0,
                    types_at: 0,
                    foreign: false,
                });
                open
            },
            marks: vec![0; words],
            types: Vec::new(),
            overflow: 0,
            words,
        }
    }

    /// How many elements are open.
    pub(super) fn depth(&self) -> usize {
        self.open.len() - 1
    }

    /// Whether the innermost open element is in SVG or MathML content.
    pub(super) fn in_foreign(&self) -> bool {
        self.open.last().is_some_and(|o| o.foreign)
    }

    /// The depth down to which a start tag `name` closes elements implicitly (the new depth),
    /// if it does.
    pub(super) fn implicit_close(&self, name: NameKey) -> Option<usize> {
        if self.in_foreign() || self.overflow > 0 {
            return None;
        }
        // The innermost open `targets`, searching no further than `stops` or (with `scoped`)
        // a scope boundary.
        let find = |targets: &[NameKey], stops: &[NameKey], scoped: bool| -> Option<usize> {
            for (d, o) in self.open.iter().enumerate().skip(1).rev() {
                if targets.contains(&o.name) {
                    return Some(d);
                }
                if stops.contains(&o.name) || (scoped && name::is_scope(o.name)) {
                    return None;
                }
            }
            None
        };
        let mut to = None;
        match name {
            name::LI => to = find(&[name::LI], &[name::UL, name::OL], true),
            name::DT | name::DD => to = find(&[name::DT, name::DD], &[name::DL], true),
            name::TR => {
                // A row start closes the open cell too.
                to = find(
                    &[name::TR],
                    &[
                        name::TABLE,
                        name::TBODY,
                        name::THEAD,
                        name::TFOOT,
                        name::TEMPLATE,
                        name::HTML,
                    ],
                    false,
                )
            }
            name::TD | name::TH => to = find(&[name::TD, name::TH], &[name::TR, name::TABLE], true),
            name::OPTION | name::OPTGROUP => {
                to = (self.open.last().map(|o| o.name) == Some(name::OPTION)).then(|| self.depth())
            }
            _ => {}
        }
        if name::closes_p(name) {
            if let Some(p) = find(&[name::P], &[], true) {
                to = Some(to.map_or(p, |t| t.min(p)));
            }
        }
        to
    }

    /// Closes the elements at depth `d` and deeper.
    pub(super) fn pop_to(&mut self, d: usize) {
        if d < 1 || d > self.depth() {
            return;
        }
        self.types.truncate(self.open[d].types_at as usize);
        self.open.truncate(d);
        self.marks.truncate(d * self.words);
    }

    /// The depth of the innermost open element called `name`, if any (for its end tag).
    pub(super) fn find_open(&self, name: NameKey) -> Option<usize> {
        self.open
            .iter()
            .skip(1)
            .rposition(|o| o.name == name)
            .map(|p| p + 1)
    }

    /// Takes an end tag when start tags beyond the depth limit are pending: true if cancelled.
    pub(super) fn cancel_overflow(&mut self) -> bool {
        if self.overflow > 0 {
            self.overflow -= 1;
            true
        } else {
            false
        }
    }

    /// Counts a new child `name` of the innermost element; `None` when it is beyond the depth
    /// limit and `opens`, or when overflowing already.
    pub(super) fn child(
        &mut self,
        prog: &Program,
        name: NameKey,
        opens: bool,
    ) -> Option<(u32, u32)> {
        if self.overflow > 0 || (opens && self.depth() >= MAX_DEPTH) {
            if opens {
                self.overflow += 1;
            }
            return None;
        }
        if !prog.nth {
            return Some((0, 0));
        }
        let parent = self.open.last_mut().expect("document entry");
        parent.children += 1;
        let index = parent.children;
        let mut type_index = 0;
        if prog.of_type {
            let from = parent.types_at as usize;
            match self.types[from..].iter_mut().find(|(n, _)| *n == name) {
                Some((_, c)) => {
                    *c += 1;
                    type_index = *c;
                }
                None => {
                    self.types.push((name, 1));
                    type_index = 1;
                }
            }
        }
        Some((index, type_index))
    }

    /// Opens element `name` (already counted by [`child`](Self::child)), setting its marks
    /// from `el` (needed when there are marks); `foreign` says whether it is in SVG or MathML
    /// content.
    pub(super) fn push(
        &mut self,
        prog: &Program,
        name: NameKey,
        el: Option<&mut Element<'_>>,
        foreign: bool,
    ) {
        self.open.push(Open {
            name,
            children: 0,
            types_at: self.types.len() as u32,
            foreign,
        });
        let Some(el) = el.filter(|_| prog.words > 0) else {
            return;
        };
        let base = self.marks.len();
        self.marks.resize(base + prog.words, 0);
        for (c, at) in &prog.sels {
            for (m, compound) in c.marked.iter().enumerate() {
                if matches(compound, el) {
                    let m = at + m;
                    self.marks[base + m / 64] |= 1 << (m % 64);
                }
            }
        }
    }

    /// Whether the element at depth `d` has mark `m`.
    fn mark(&self, words: usize, d: usize, m: usize) -> bool {
        self.marks[d * words + m / 64] & (1 << (m % 64)) != 0
    }

    /// Whether `chain` holds with its first compound at or above depth `d` (per combinator).
    fn chain(&self, words: usize, chain: &[(Combinator, usize)], at: usize, d: usize) -> bool {
        let Some((&(comb, m), rest)) = chain.split_first() else {
            return true;
        };
        let m = at + m;
        match comb {
            Combinator::Child => {
                d >= 1 && self.mark(words, d, m) && self.chain(words, rest, at, d - 1)
            }
            Combinator::Descendant => (1..=d)
                .rev()
                .any(|p| self.mark(words, p, m) && self.chain(words, rest, at, p - 1)),
        }
    }

    /// Whether extractor `slot`'s selector matches `el`, a child of the innermost element.
    pub(super) fn matches_slot(&self, prog: &Program, slot: usize, el: &mut Element<'_>) -> bool {
        let (c, at) = &prog.sels[slot];
        c.alts.iter().any(|alt| {
            matches(&alt.subject, el) && self.chain(prog.words, &alt.chain, *at, self.depth())
        })
    }
}

impl<'a> Element<'a> {
    /// A start tag `name` at the given sibling positions.
    pub(super) fn new(name: NameKey, (index, type_index): (u32, u32), attrs: Attrs<'a>) -> Self {
        Element {
            name,
            index,
            type_index,
            attrs,
        }
    }
}

/// Whether `c` holds for `el`.
fn matches(c: &Compound, el: &mut Element<'_>) -> bool {
    if c.tag.is_some_and(|t| t != el.name) {
        return false;
    }
    c.simple.iter().all(|s| match s {
        Simple::Id(id) => el.attrs.decoded(b"id").is_some_and(|v| *v == **id),
        Simple::Class(class) => el.attrs.decoded(b"class").is_some_and(|v| {
            v.split(|&b| is_space(b))
                .any(|word| word == class.as_slice())
        }),
        Simple::Attr { name, test } => match el.attrs.decoded(name) {
            None => false,
            Some(v) => test.as_ref().is_none_or(|t| attr_test(t, &v)),
        },
        &Simple::Nth { a, b, of_type } => nth(a, b, if of_type { el.type_index } else { el.index }),
        Simple::Not(inner) => !matches(inner, el),
    })
}

/// Whether `index` (1-based) is `a*n + b` for some `n >= 0`.
fn nth(a: i32, b: i32, index: u32) -> bool {
    let diff = i64::from(index) - i64::from(b);
    let a = i64::from(a);
    if a == 0 {
        diff == 0
    } else {
        diff % a == 0 && diff / a >= 0
    }
}

fn attr_test(t: &AttrTest, v: &[u8]) -> bool {
    let eq = |x: &[u8], y: &[u8]| {
        if t.ignore_case {
            x.eq_ignore_ascii_case(y)
        } else {
            x == y
        }
    };
    let want = t.value.as_slice();
    let n = want.len();
    match t.op {
        AttrOp::Equals => eq(v, want),
        AttrOp::Includes => {
            n > 0
                && !want.iter().any(|&b| is_space(b))
                && v.split(|&b| is_space(b)).any(|w| eq(w, want))
        }
        AttrOp::DashMatch => eq(v, want) || (v.len() > n && v[n] == b'-' && eq(&v[..n], want)),
        AttrOp::Prefix => n > 0 && v.len() >= n && eq(&v[..n], want),
        AttrOp::Suffix => n > 0 && v.len() >= n && eq(&v[v.len() - n..], want),
        AttrOp::Substring => n > 0 && v.len() >= n && v.windows(n).any(|w| eq(w, want)),
    }
}
