//! Extractor specifications: `-e NAME=KIND:EXPR`, parsed and checked once, before any request.
//!
//! | kind | expression | value |
//! |---|---|---|
//! | `css` | a CSS selector, optionally `@attr` at the end | the text of the first match (entities decoded, whitespace collapsed), or its attribute |
//! | `json` | a JSONPath query (RFC 9535) | the first match, as a JSON value |
//! | `re` | a regular expression (Rust `regex` syntax) | the first capture group, or the whole match when there is none |
//! | `header` | a response header name | its value (repeated fields joined with `, `) |
//!
//! With `--extract-all` every extractor yields an array of all its matches. An extractor that
//! finds nothing yields `null`.

use std::str::FromStr;

use http::header::HeaderName;

/// One `-e NAME=KIND:EXPR`.
#[derive(Debug, Clone)]
pub struct Extractor {
    /// The key under `extract` in the record.
    pub name: String,
    /// What it looks for.
    pub kind: Kind,
}

/// What an extractor looks for (see the module docs).
#[derive(Debug, Clone)]
pub enum Kind {
    /// `css:SELECTOR` or `css:SELECTOR@attr`.
    Css {
        /// The selector.
        selector: super::css::Selector,
        /// The attribute to take instead of the text.
        attr: Option<String>,
    },
    /// `json:PATH`.
    Json(serde_json_path::JsonPath),
    /// `re:REGEX`.
    Re(regex::bytes::Regex),
    /// `header:NAME`.
    Header(HeaderName),
}

impl Kind {
    /// Whether the extractor needs the whole body in memory (JSON and regexes do; CSS and
    /// headers work on the stream).
    pub fn buffers_body(&self) -> bool {
        matches!(self, Kind::Json(_) | Kind::Re(_))
    }
}

/// Longest regex accepted once compiled (bounds the memory a pattern can take).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl FromStr for Extractor {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, String> {
        let (name, rest) = spec
            .split_once('=')
            .ok_or_else(|| format!("`{spec}` is not NAME=KIND:EXPR (e.g. price=json:$.price)"))?;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "`{name}` is not a name (letters, digits, `_` and `-`)"
            ));
        }
        let (kind, expr) = rest
            .split_once(':')
            .ok_or_else(|| format!("`{rest}` has no KIND: (css:, json:, re: or header:)"))?;
        let kind = match kind {
            "css" => css(expr)?,
            "json" => Kind::Json(
                serde_json_path::JsonPath::parse(expr)
                    .map_err(|e| format!("`{expr}` is not a JSONPath query: {e}"))?,
            ),
            "re" => Kind::Re(
                regex::bytes::RegexBuilder::new(expr)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| {
                        let first = e.to_string();
                        let last = first.lines().last().unwrap_or("").trim().to_owned();
                        format!("`{expr}` is not a regular expression: {last}")
                    })?,
            ),
            "header" => Kind::Header(
                HeaderName::from_bytes(expr.as_bytes())
                    .map_err(|_| format!("`{expr}` is not a header name"))?,
            ),
            other => {
                return Err(format!(
                    "unknown kind `{other}` (use css, json, re or header)"
                ))
            }
        };
        Ok(Extractor {
            name: name.to_owned(),
            kind,
        })
    }
}

/// `SELECTOR` or `SELECTOR@attr` (an `@` followed by a valid attribute name at the end).
fn css(expr: &str) -> Result<Kind, String> {
    let (sel, attr) = match expr.rsplit_once('@') {
        Some((s, a))
            if !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':')) =>
        {
            (s, Some(a.to_ascii_lowercase()))
        }
        _ => (expr, None),
    };
    let selector = super::css::Selector::parse(sel.trim())
        .map_err(|e| format!("`{sel}` is not a CSS selector volley supports: {e}"))?;
    Ok(Kind::Css { selector, attr })
}

/// Every extractor of a run, and whether they collect all matches.
#[derive(Debug, Clone, Default)]
pub struct Extractors {
    /// In command-line order.
    pub list: Vec<Extractor>,
    /// `--extract-all`.
    pub all: bool,
}

impl Extractors {
    /// Checks that names are unique.
    pub fn new(list: Vec<Extractor>, all: bool) -> Result<Self, String> {
        for (i, e) in list.iter().enumerate() {
            if list[..i].iter().any(|o| o.name == e.name) {
                return Err(format!("the name `{}` is used twice", e.name));
            }
        }
        Ok(Extractors { list, all })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Extractor, String> {
        s.parse()
    }

    #[test]
    fn kinds_parse() {
        let e = parse("price=json:$.chart.result[0].meta.regularMarketPrice").unwrap();
        assert_eq!(e.name, "price");
        assert!(matches!(e.kind, Kind::Json(_)));
        assert!(matches!(
            parse("v=re:version (\\d+)").unwrap().kind,
            Kind::Re(_)
        ));
        assert!(matches!(
            parse("s=header:Server").unwrap().kind,
            Kind::Header(_)
        ));
        match parse("link=css:a.next@HREF").unwrap().kind {
            Kind::Css { attr, .. } => assert_eq!(attr.as_deref(), Some("href")),
            k => panic!("{k:?}"),
        }
        match parse("h=css:div > h1").unwrap().kind {
            Kind::Css { attr, .. } => assert_eq!(attr, None),
            k => panic!("{k:?}"),
        }
        // A colon inside the expression belongs to it.
        assert!(matches!(parse("t=re:a:b").unwrap().kind, Kind::Re(_)));
    }

    #[test]
    fn malformed_specs_say_what_is_wrong() {
        let err = |s: &str| parse(s).unwrap_err();
        assert_eq!(
            err("price"),
            "`price` is not NAME=KIND:EXPR (e.g. price=json:$.price)"
        );
        assert_eq!(
            err("=json:$"),
            "`` is not a name (letters, digits, `_` and `-`)"
        );
        assert_eq!(
            err("a b=json:$"),
            "`a b` is not a name (letters, digits, `_` and `-`)"
        );
        assert_eq!(
            err("x=$.a"),
            "`$.a` has no KIND: (css:, json:, re: or header:)"
        );
        assert_eq!(
            err("x=xpath://a"),
            "unknown kind `xpath` (use css, json, re or header)"
        );
        assert!(err("x=json:$.[").starts_with("`$.[` is not a JSONPath query"));
        assert!(err("x=re:(").starts_with("`(` is not a regular expression"));
        assert_eq!(err("x=header:bad name"), "`bad name` is not a header name");
        assert!(err("x=css:div[").starts_with("`div[` is not a CSS selector"));
        assert_eq!(
            err("x=css:a + b"),
            "`a + b` is not a CSS selector volley supports: the `+` combinator is not supported \
             (only descendant and `>`)"
        );
        assert_eq!(
            err("x=css:li:last-child@href"),
            "`li:last-child` is not a CSS selector volley supports: `:last-child` is not \
             supported (use :first-child, :nth-child, :first-of-type, :nth-of-type or :not)"
        );
        assert_eq!(
            err("x=css:p::before"),
            "`p::before` is not a CSS selector volley supports: pseudo-elements are not supported"
        );
        let dup = Extractors::new(
            vec![parse("a=re:x").unwrap(), parse("a=re:y").unwrap()],
            false,
        );
        assert_eq!(dup.unwrap_err(), "the name `a` is used twice");
    }
}
