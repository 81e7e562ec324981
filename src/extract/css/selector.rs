//! The selectors `css:` extractors accept, parsed once before any request: the subset of CSS
//! that lol_html supported (so switching engines took nothing away), and nothing a streaming
//! matcher cannot answer when a start tag is read — no sibling combinators, no `:last-child`,
//! no state pseudo-classes, no pseudo-elements. Anything else is refused with a message that
//! says what is not supported.

use std::sync::Arc;

use super::name::{key, NameKey};
use super::tree::Compiled;

/// A parsed `css:` selector: a list of complex selectors, matching an element when any does.
/// Compiled for the matcher once, when parsed; every response's run shares that.
#[derive(Debug, Clone)]
pub struct Selector {
    /// The alternatives of a selector list (`a, b`), in order (kept for the parser's tests).
    #[cfg(test)]
    pub(super) alts: Vec<Complex>,
    /// The form the matcher uses.
    pub(super) compiled: Arc<Compiled>,
}

/// Compounds joined by combinators, left to right: `compounds[i]` is followed by
/// `combinators[i]` and then `compounds[i + 1]`; the last compound is the subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Complex {
    pub(super) compounds: Vec<Compound>,
    pub(super) combinators: Vec<Combinator>,
}

/// How two compounds relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Combinator {
    /// Whitespace: the left element is an ancestor.
    Descendant,
    /// `>`: the left element is the parent.
    Child,
}

/// A type selector (or `*`) with simple selectors, all of which must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Compound {
    /// The tag name, or `None` for `*` (or no type selector).
    pub(super) tag: Option<NameKey>,
    pub(super) simple: Vec<Simple>,
}

/// One simple selector other than the type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Simple {
    /// `#id`.
    Id(Vec<u8>),
    /// `.class`.
    Class(Vec<u8>),
    /// `[name]` or `[name OP value]`; the name is lower-case.
    Attr {
        name: Vec<u8>,
        test: Option<AttrTest>,
    },
    /// `:nth-child(an+b)` (and `:first-child`), or the `-of-type` forms.
    Nth { a: i32, b: i32, of_type: bool },
    /// `:not(compound)`.
    Not(Box<Compound>),
}

/// The value test of an attribute selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AttrTest {
    pub(super) op: AttrOp,
    pub(super) value: Vec<u8>,
    /// The ` i` flag: compare ASCII letters without case.
    pub(super) ignore_case: bool,
}

/// The attribute operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AttrOp {
    /// `=`
    Equals,
    /// `~=`: one of the whitespace-separated words.
    Includes,
    /// `|=`: equal, or followed by `-`.
    DashMatch,
    /// `^=`
    Prefix,
    /// `$=`
    Suffix,
    /// `*=`
    Substring,
}

impl Selector {
    /// Parses a selector; the error says what is wrong or not supported.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut p = Parser {
            s: s.as_bytes(),
            at: 0,
        };
        p.skip_ws();
        let mut alts = vec![p.complex()?];
        while p.peek() == Some(b',') {
            p.at += 1;
            p.skip_ws();
            alts.push(p.complex()?);
        }
        match p.peek() {
            None => Ok(Selector {
                compiled: Arc::new(Compiled::new(&alts)),
                #[cfg(test)]
                alts,
            }),
            Some(b) => Err(p.unexpected(b)),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn skip_ws(&mut self) -> bool {
        let start = self.at;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0c)) {
            self.at += 1;
        }
        self.at > start
    }

    fn unexpected(&self, b: u8) -> String {
        match b {
            b'+' | b'~' => format!(
                "the `{}` combinator is not supported (only descendant and `>`)",
                b as char
            ),
            b'|' => "namespaces are not supported".to_owned(),
            _ => {
                let rest = String::from_utf8_lossy(&self.s[self.at..]);
                let c = rest.chars().next().unwrap_or('?');
                format!("unexpected `{c}` at byte {}", self.at)
            }
        }
    }

    /// Compounds and combinators, up to a `,` or the end.
    fn complex(&mut self) -> Result<Complex, String> {
        let mut compounds = vec![self.compound()?];
        let mut combinators = Vec::new();
        loop {
            let ws = self.skip_ws();
            let comb = match self.peek() {
                None | Some(b',') => break,
                Some(b'>') => {
                    self.at += 1;
                    self.skip_ws();
                    Combinator::Child
                }
                Some(b) if !ws => return Err(self.unexpected(b)),
                Some(b'+' | b'~') => return Err(self.unexpected(self.s[self.at])),
                Some(_) => Combinator::Descendant,
            };
            combinators.push(comb);
            compounds.push(self.compound()?);
        }
        Ok(Complex {
            compounds,
            combinators,
        })
    }

    fn compound(&mut self) -> Result<Compound, String> {
        let mut c = Compound::default();
        let start = self.at;
        match self.peek() {
            Some(b'*') => {
                self.at += 1;
                if self.peek() == Some(b'|') {
                    return Err(self.unexpected(b'|'));
                }
            }
            Some(b) if starts_ident(b, self.s.get(self.at + 1).copied()) => {
                let name = self.ident()?;
                if self.peek() == Some(b'|') {
                    return Err(self.unexpected(b'|'));
                }
                c.tag = Some(key(&name.to_ascii_lowercase()));
            }
            _ => {}
        }
        loop {
            match self.peek() {
                Some(b'#') => {
                    self.at += 1;
                    c.simple.push(Simple::Id(self.ident_or_name(true)?));
                }
                Some(b'.') => {
                    self.at += 1;
                    c.simple.push(Simple::Class(self.ident()?));
                }
                Some(b'[') => {
                    self.at += 1;
                    c.simple.push(self.attr()?);
                }
                Some(b':') => {
                    self.at += 1;
                    c.simple.push(self.pseudo()?);
                }
                _ => break,
            }
        }
        if self.at == start {
            return Err(match self.peek() {
                None => "a selector is missing".to_owned(),
                Some(b) => self.unexpected(b),
            });
        }
        Ok(c)
    }

    fn attr(&mut self) -> Result<Simple, String> {
        self.skip_ws();
        if self.peek() == Some(b'*') || self.peek() == Some(b'|') {
            return Err("namespaces are not supported".to_owned());
        }
        let name = self.ident()?.to_ascii_lowercase();
        if self.peek() == Some(b'|') && self.s.get(self.at + 1) != Some(&b'=') {
            return Err("namespaces are not supported".to_owned());
        }
        self.skip_ws();
        let op = match self.peek() {
            Some(b']') => {
                self.at += 1;
                return Ok(Simple::Attr { name, test: None });
            }
            Some(b'=') => {
                self.at += 1;
                AttrOp::Equals
            }
            Some(b) if self.s.get(self.at + 1) == Some(&b'=') => {
                let op = match b {
                    b'~' => AttrOp::Includes,
                    b'|' => AttrOp::DashMatch,
                    b'^' => AttrOp::Prefix,
                    b'$' => AttrOp::Suffix,
                    b'*' => AttrOp::Substring,
                    _ => return Err(self.unexpected(b)),
                };
                self.at += 2;
                op
            }
            Some(b) => return Err(self.unexpected(b)),
            None => return Err("unclosed `[`".to_owned()),
        };
        self.skip_ws();
        let value = match self.peek() {
            Some(q @ (b'"' | b'\'')) => self.string(q)?,
            Some(_) => self.ident()?,
            None => return Err("unclosed `[`".to_owned()),
        };
        self.skip_ws();
        let mut ignore_case = false;
        if let Some(b'i' | b'I' | b's' | b'S') = self.peek() {
            ignore_case = matches!(self.peek(), Some(b'i' | b'I'));
            self.at += 1;
            self.skip_ws();
        }
        match self.peek() {
            Some(b']') => self.at += 1,
            Some(b) => return Err(self.unexpected(b)),
            None => return Err("unclosed `[`".to_owned()),
        }
        Ok(Simple::Attr {
            name,
            test: Some(AttrTest {
                op,
                value,
                ignore_case,
            }),
        })
    }

    fn pseudo(&mut self) -> Result<Simple, String> {
        if self.peek() == Some(b':') {
            return Err("pseudo-elements are not supported".to_owned());
        }
        let name = self.ident()?.to_ascii_lowercase();
        let simple = match &name[..] {
            b"first-child" => Simple::Nth {
                a: 0,
                b: 1,
                of_type: false,
            },
            b"first-of-type" => Simple::Nth {
                a: 0,
                b: 1,
                of_type: true,
            },
            b"nth-child" | b"nth-of-type" => {
                let (a, b) = self.args(|p| p.nth())?;
                Simple::Nth {
                    a,
                    b,
                    of_type: name == b"nth-of-type",
                }
            }
            b"not" => Simple::Not(Box::new(self.args(|p| p.compound())?)),
            _ => {
                return Err(format!(
                    "`:{}` is not supported (use :first-child, :nth-child, :first-of-type, \
                     :nth-of-type or :not)",
                    String::from_utf8_lossy(&name)
                ))
            }
        };
        Ok(simple)
    }

    /// `( … )` around what `inner` parses, with optional whitespace inside.
    fn args<T>(&mut self, inner: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, String> {
        if self.peek() != Some(b'(') {
            return Err("a pseudo-class needs its `(…)` argument".to_owned());
        }
        self.at += 1;
        self.skip_ws();
        let v = inner(self)?;
        self.skip_ws();
        match self.peek() {
            Some(b')') => {
                self.at += 1;
                Ok(v)
            }
            Some(b) => Err(self.unexpected(b)),
            None => Err("unclosed `(`".to_owned()),
        }
    }

    /// `an+b`, `odd` or `even`.
    fn nth(&mut self) -> Result<(i32, i32), String> {
        let bad = || "not an `an+b` expression".to_owned();
        let start = self.at;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b' ' | b'\t' | b'\n'))
        {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.at])
            .map_err(|_| bad())?
            .trim()
            .to_ascii_lowercase();
        let text: String = text.split_whitespace().collect();
        match text.as_str() {
            "odd" => return Ok((2, 1)),
            "even" => return Ok((2, 0)),
            _ => {}
        }
        let number = |s: &str| -> Result<i32, String> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        let Some(n) = text.find('n') else {
            let (sign, digits) = sign(&text);
            return Ok((0, sign * number(digits)?));
        };
        let (sign_a, digits_a) = sign(&text[..n]);
        let a = if digits_a.is_empty() {
            sign_a
        } else {
            sign_a * number(digits_a)?
        };
        let rest = &text[n + 1..];
        let b = match rest.as_bytes().first() {
            None => 0,
            Some(b'+') => number(&rest[1..])?,
            Some(b'-') => -number(&rest[1..])?,
            Some(_) => return Err(bad()),
        };
        Ok((a, b))
    }

    /// A quoted string (the quote is at `self.at`), escapes resolved.
    fn string(&mut self, quote: u8) -> Result<Vec<u8>, String> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err("unclosed string".to_owned()),
                Some(b) if b == quote => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    if self.peek() == Some(b'\n') {
                        self.at += 1;
                    } else {
                        self.escape(&mut out)?;
                    }
                }
                Some(b) => {
                    out.push(b);
                    self.at += 1;
                }
            }
        }
    }

    /// A CSS identifier, escapes resolved.
    fn ident(&mut self) -> Result<Vec<u8>, String> {
        self.ident_or_name(false)
    }

    /// An identifier, or with `name` any run of name characters (`#id` may start with a digit).
    fn ident_or_name(&mut self, name: bool) -> Result<Vec<u8>, String> {
        match self.peek() {
            Some(b) if name || starts_ident(b, self.s.get(self.at + 1).copied()) => {}
            Some(b) => return Err(self.unexpected(b)),
            None => return Err("a name is missing at the end".to_owned()),
        }
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            if b == b'\\' {
                self.at += 1;
                self.escape(&mut out)?;
            } else if is_name_byte(b) {
                out.push(b);
                self.at += 1;
            } else {
                break;
            }
        }
        if out.is_empty() {
            return match self.peek() {
                Some(b) => Err(self.unexpected(b)),
                None => Err("a name is missing at the end".to_owned()),
            };
        }
        Ok(out)
    }

    /// After a `\`: up to 6 hex digits and one whitespace, or one character as itself.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        let hex = self.s[self.at..]
            .iter()
            .take(6)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if hex > 0 {
            let digits = std::str::from_utf8(&self.s[self.at..self.at + hex]).unwrap_or("0");
            let code = u32::from_str_radix(digits, 16).unwrap_or(0);
            let c = char::from_u32(code)
                .filter(|&c| c != '\0')
                .unwrap_or('\u{FFFD}');
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            self.at += hex;
            if matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0c)) {
                self.at += 1;
            }
            return Ok(());
        }
        let rest = std::str::from_utf8(&self.s[self.at..]).unwrap_or("");
        match rest.chars().next() {
            None => Err("a `\\` at the end".to_owned()),
            Some(c) => {
                out.extend_from_slice(&self.s[self.at..self.at + c.len_utf8()]);
                self.at += c.len_utf8();
                Ok(())
            }
        }
    }
}

fn sign(s: &str) -> (i32, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    }
}

/// Letters, digits, `-`, `_` and anything non-ASCII.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b >= 0x80
}

/// Whether an identifier can start with `b` (followed by `next`): not a digit, nor `-` + digit.
fn starts_ident(b: u8, next: Option<u8>) -> bool {
    match b {
        b'-' => !matches!(next, Some(n) if n.is_ascii_digit()),
        b'\\' => true,
        _ => is_name_byte(b) && !b.is_ascii_digit(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        Selector::parse(s).unwrap_err()
    }

    fn one(s: &str) -> Compound {
        let sel = Selector::parse(s).unwrap();
        assert_eq!(sel.alts.len(), 1);
        assert_eq!(sel.alts[0].compounds.len(), 1);
        sel.alts[0].compounds[0].clone()
    }

    #[test]
    fn accepted_forms() {
        for s in [
            "h1",
            "*",
            "H1",
            "#main",
            ".a.b",
            "div#x.y[z]",
            "[href]",
            "a[href='/x']",
            "a[href=\"/x\" i]",
            "a[rel~=next]",
            "[lang|=en]",
            "[href^=http]",
            "[href$='.pdf']",
            "[href*=\"x y\"]",
            "div p",
            "div > p",
            "div>p",
            "ul  li  >  a",
            "h1, h2 ,h3",
            "li:first-child",
            "li:nth-child(2n+1)",
            "li:nth-child( -n + 3 )",
            "li:nth-child(odd)",
            "li:nth-child(EVEN)",
            "li:nth-child(3)",
            "p:first-of-type",
            "p:nth-of-type(2n)",
            "p:not(.x)",
            "p:not(div.x[y])",
            "custom-el",
            ".\\31 23",
            "#1a",
        ] {
            assert!(Selector::parse(s).is_ok(), "{s}: {:?}", Selector::parse(s));
        }
    }

    #[test]
    fn parsed_structure() {
        let c = one("DIV#x.y[Data-A^='v' i]:nth-child(-2n+3):not(.z)");
        assert_eq!(c.tag, Some(key(b"div")));
        assert_eq!(
            c.simple,
            [
                Simple::Id(b"x".to_vec()),
                Simple::Class(b"y".to_vec()),
                Simple::Attr {
                    name: b"data-a".to_vec(),
                    test: Some(AttrTest {
                        op: AttrOp::Prefix,
                        value: b"v".to_vec(),
                        ignore_case: true
                    })
                },
                Simple::Nth {
                    a: -2,
                    b: 3,
                    of_type: false
                },
                Simple::Not(Box::new(Compound {
                    tag: None,
                    simple: vec![Simple::Class(b"z".to_vec())]
                })),
            ]
        );
        let sel = Selector::parse("ul li > a, b").unwrap();
        assert_eq!(sel.alts.len(), 2);
        assert_eq!(
            sel.alts[0].combinators,
            [Combinator::Descendant, Combinator::Child]
        );
        assert_eq!(one(".\\31 23").simple, [Simple::Class(b"123".to_vec())]);
        for (s, a, b) in [
            ("odd", 2, 1),
            ("even", 2, 0),
            ("n", 1, 0),
            ("-n+3", -1, 3),
            ("+n", 1, 0),
            ("2n - 1", 2, -1),
            ("-5", 0, -5),
            ("+7", 0, 7),
        ] {
            let c = one(&format!("a:nth-child({s})"));
            assert_eq!(
                c.simple,
                [Simple::Nth {
                    a,
                    b,
                    of_type: false
                }],
                "{s}"
            );
        }
    }

    #[test]
    fn rejected_forms_say_why() {
        assert_eq!(
            err("a + b"),
            "the `+` combinator is not supported (only descendant and `>`)"
        );
        assert_eq!(
            err("a ~ b"),
            "the `~` combinator is not supported (only descendant and `>`)"
        );
        assert_eq!(
            err("li:last-child"),
            "`:last-child` is not supported (use :first-child, :nth-child, :first-of-type, \
             :nth-of-type or :not)"
        );
        assert_eq!(
            err("a:hover"),
            "`:hover` is not supported (use :first-child, :nth-child, :first-of-type, \
             :nth-of-type or :not)"
        );
        assert_eq!(err("p::before"), "pseudo-elements are not supported");
        assert_eq!(err("div["), "a name is missing at the end");
        assert_eq!(err("[a=b"), "unclosed `[`");
        assert_eq!(err("[a='b]"), "unclosed string");
        assert_eq!(err(""), "a selector is missing");
        assert_eq!(err("a,"), "a selector is missing");
        assert_eq!(err("a >"), "a selector is missing");
        assert_eq!(err("svg|a"), "namespaces are not supported");
        assert_eq!(err("1a"), "unexpected `1` at byte 0");
        assert_eq!(err("a:nth-child(2x)"), "not an `an+b` expression");
        assert_eq!(
            err("a:nth-child"),
            "a pseudo-class needs its `(…)` argument"
        );
        assert_eq!(err("p:not(a b)"), "unexpected `b` at byte 8");
        assert_eq!(err("a)"), "unexpected `)` at byte 1");
    }
}
