//! Tag names as one `u64`, so the element stack and type selectors compare names with one
//! instruction and keep no strings: names of up to 7 bytes are packed (with their length in the
//! top byte), longer ones are hashed (FNV-1a, top byte 0xFF). Two different long names could in
//! theory share a key (2^-56); nothing else can. The tables of names that change how the
//! document nests (void, raw-text, implicitly closed elements) live here too.

/// A lower-cased tag name reduced to a `u64`.
pub(super) type NameKey = u64;

/// The key of `name`, which must already be lower-case.
pub(super) const fn key(name: &[u8]) -> NameKey {
    if name.len() <= 7 {
        let mut k = (name.len() as u64) << 56;
        let mut i = 0;
        while i < name.len() {
            k |= (name[i] as u64) << (8 * i);
            i += 1;
        }
        k
    } else {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut i = 0;
        while i < name.len() {
            h ^= name[i] as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        h | (0xff << 56)
    }
}

/// The key of a tag name as written in the document (ASCII letters are lower-cased).
#[inline]
pub(super) fn key_of(name: &[u8]) -> NameKey {
    if name.len() <= 7 {
        let mut k = (name.len() as u64) << 56;
        for (i, &b) in name.iter().enumerate() {
            k |= u64::from(b.to_ascii_lowercase()) << (8 * i);
        }
        k
    } else {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in name {
            h ^= u64::from(b.to_ascii_lowercase());
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h | (0xff << 56)
    }
}

macro_rules! names {
    ($($id:ident = $s:literal),* $(,)?) => {
        $(pub(super) const $id: NameKey = key($s);)*
    };
}

names! {
    P = b"p", LI = b"li", DT = b"dt", DD = b"dd", TR = b"tr", TD = b"td", TH = b"th",
    OPTION = b"option", OPTGROUP = b"optgroup", TABLE = b"table", UL = b"ul", OL = b"ol",
    DL = b"dl", SVG = b"svg", MATH = b"math", PLAINTEXT = b"plaintext", HTML = b"html",
    BUTTON = b"button", CAPTION = b"caption", TEMPLATE = b"template", OBJECT = b"object",
    APPLET = b"applet", MARQUEE = b"marquee", TBODY = b"tbody", THEAD = b"thead",
    TFOOT = b"tfoot",
    AREA = b"area", BASE = b"base", BR = b"br", COL = b"col", EMBED = b"embed", HR = b"hr",
    IMG = b"img", INPUT = b"input", LINK = b"link", META = b"meta", PARAM = b"param",
    SOURCE = b"source", TRACK = b"track", WBR = b"wbr",
    SCRIPT = b"script", STYLE = b"style", TEXTAREA = b"textarea", TITLE = b"title",
    XMP = b"xmp", IFRAME = b"iframe", NOEMBED = b"noembed", NOFRAMES = b"noframes",
    NOSCRIPT = b"noscript",
    ADDRESS = b"address", ARTICLE = b"article", ASIDE = b"aside", BLOCKQUOTE = b"blockquote",
    DETAILS = b"details", DIV = b"div", FIELDSET = b"fieldset", FIGCAPTION = b"figcaption",
    FIGURE = b"figure", FOOTER = b"footer", FORM = b"form", H1 = b"h1", H2 = b"h2",
    H3 = b"h3", H4 = b"h4", H5 = b"h5", H6 = b"h6", HEADER = b"header", HGROUP = b"hgroup",
    MAIN = b"main", MENU = b"menu", NAV = b"nav", PRE = b"pre", SECTION = b"section",
    LISTING = b"listing", SUMMARY = b"summary", SEARCH = b"search",
}

/// Elements that never have content or an end tag.
pub(super) fn is_void(k: NameKey) -> bool {
    matches!(
        k,
        AREA | BASE
            | BR
            | COL
            | EMBED
            | HR
            | IMG
            | INPUT
            | LINK
            | META
            | PARAM
            | SOURCE
            | TRACK
            | WBR
    )
}

/// Elements whose content is text up to their end tag (in HTML content): the name to look for.
pub(super) fn raw_text(k: NameKey) -> Option<&'static [u8]> {
    Some(match k {
        SCRIPT => b"script",
        STYLE => b"style",
        TEXTAREA => b"textarea",
        TITLE => b"title",
        XMP => b"xmp",
        IFRAME => b"iframe",
        NOEMBED => b"noembed",
        NOFRAMES => b"noframes",
        NOSCRIPT => b"noscript",
        _ => return None,
    })
}

/// Start tags that close an open `<p>` (in button scope).
pub(super) fn closes_p(k: NameKey) -> bool {
    matches!(
        k,
        ADDRESS
            | ARTICLE
            | ASIDE
            | BLOCKQUOTE
            | DETAILS
            | DIV
            | DL
            | FIELDSET
            | FIGCAPTION
            | FIGURE
            | FOOTER
            | FORM
            | H1
            | H2
            | H3
            | H4
            | H5
            | H6
            | HEADER
            | HGROUP
            | HR
            | MAIN
            | MENU
            | NAV
            | OL
            | P
            | PRE
            | SECTION
            | TABLE
            | UL
            | LI
            | DT
            | DD
            | LISTING
            | SUMMARY
            | SEARCH
    )
}

/// Elements that bound the search for an element to close implicitly (the "scope" markers of
/// the HTML tree builder, simplified): an implicit end never reaches past them.
pub(super) fn is_scope(k: NameKey) -> bool {
    matches!(
        k,
        HTML | TABLE
            | TD
            | TH
            | CAPTION
            | BUTTON
            | TEMPLATE
            | OBJECT
            | APPLET
            | MARQUEE
            | SVG
            | MATH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_free_and_distinct() {
        assert_eq!(key_of(b"DiV"), key(b"div"));
        assert_eq!(key_of(b"BlockQuote"), key(b"blockquote"));
        assert_ne!(key(b"p"), key(b"p\0"));
        assert_ne!(key(b"abcdefg"), key(b"abcdefgh"));
        assert_ne!(key(b"noscript"), key(b"noframes"));
        assert!(is_void(key_of(b"BR")));
        assert_eq!(raw_text(key_of(b"Script")), Some(&b"script"[..]));
        assert!(closes_p(key(b"h3")) && !closes_p(key(b"span")));
    }
}
