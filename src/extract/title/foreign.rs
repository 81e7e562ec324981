//! Foreign content and templates: the stack of open `<svg>`, `<math>` and `<template>`
//! elements (two bits each in a `u64`), and the HTML tags that break out of SVG/MathML.
//!
//! These are the only elements whose nesting decides whether a `<title>` is the document's: an
//! SVG `<title>` is a tooltip, and a template's content is not part of the document. Browsers
//! track a full stack of open elements; a title finder needs only these, and only to
//! [`OPEN_MAX`] levels.

use super::TitleScanner;

/// Code of an open HTML `<template>` in [`TitleScanner::open`].
pub(super) const OPEN_TEMPLATE: u64 = 1;
/// Code of an open `<svg>`.
pub(super) const OPEN_SVG: u64 = 2;
/// Code of an open `<math>`.
pub(super) const OPEN_MATH: u64 = 3;
/// Most nesting levels of `open` tracked (two bits each in a `u64`).
pub(super) const OPEN_MAX: u32 = 32;

impl TitleScanner {
    /// Whether the innermost tracked open element is `<svg>` or `<math>`: the scanner is in
    /// foreign content, where `<title>` is an SVG/MathML element and nothing is raw text.
    pub(super) fn in_foreign(&self) -> bool {
        self.depth > 0 && self.open_code(self.depth - 1) != OPEN_TEMPLATE
    }

    /// The code of the tracked open element at `index`.
    fn open_code(&self, index: u32) -> u64 {
        (self.open >> (2 * index)) & 3
    }

    /// The tracked open elements with their positions, innermost first (a copy: the caller may
    /// change `depth` with the result).
    pub(super) fn open_positions(&self) -> impl Iterator<Item = (u32, u64)> {
        let (open, depth) = (self.open, self.depth);
        (0..depth).rev().map(move |at| (at, (open >> (2 * at)) & 3))
    }

    /// Records an opened `<svg>`, `<math>` or `<template>`. Past [`OPEN_MAX`] levels (never seen
    /// in real pages) further ones are not tracked.
    pub(super) fn open_push(&mut self, code: u64) {
        if self.depth < OPEN_MAX {
            let shift = 2 * self.depth;
            self.open = (self.open & !(3 << shift)) | (code << shift);
            self.depth += 1;
        }
    }

    /// An HTML breakout tag in foreign content: browsers close the SVG/MathML elements up to
    /// the nearest HTML element.
    pub(super) fn close_foreign(&mut self) {
        while self.in_foreign() {
            self.depth -= 1;
        }
    }
}

/// The HTML start tags that end SVG/MathML content (WHATWG "parsing main inforeign"; `font` is
/// left out since it breaks out only with certain attributes).
pub(super) fn is_breakout(name: &[u8]) -> bool {
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
pub(super) fn is_html_container(name: &[u8]) -> bool {
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
