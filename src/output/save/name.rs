//! File names for saved bodies (`--save DIR`): which relative path under DIR each response goes to.
//!
//! Everything here is pure — no file system access — so the rules can be tested exactly and the
//! store (`super::store`) only ever has to deal with a path that is already safe: relative, made
//! only of [`Component::Normal`](std::path::Component::Normal) parts, never empty, each part at
//! most 255 bytes, with no control or bidi characters. URLs, templates and `Content-Disposition`
//! headers all come from outside, so every component goes through one sanitiser.
//!
//! The rules, in the order they apply:
//!
//! * **Mirror** (the default): `host[_port]/path…`. The port is added only when it is not the
//!   scheme's default. IPv6 literals keep their brackets and write `:` as `-` (`[--1]_8080` for
//!   `http://[::1]:8080/`), which is valid on every common file system and cannot collide with a
//!   domain name. Each path segment is percent-decoded (invalid UTF-8 becomes U+FFFD) and
//!   sanitised; empty segments in the middle are dropped; an empty last segment (`/`, `/a/`)
//!   becomes `index.html`. When the URL has a query string — even an empty one, `?` — the first
//!   8 hex digits of the SHA-1 of the raw query are put before the last component's extension
//!   (`page.php?id=1` → `page.<8hex>.php`, `/?q=1` → `index.<8hex>.html`, `a?x` → `a.<8hex>`),
//!   so URLs that differ only in their query get different files. The fragment is ignored.
//! * **Template** (`--save-name`): `{host}` is the mirror's first component, `{path}` the rest of
//!   the mirror path (it may contain `/`), `{name}` the last component of `{path}`, `{index}` the
//!   input's index in decimal, `{sha1}` 40 hex digits of the SHA-1 of the URL without its
//!   fragment. `{{` and `}}` are literal braces. The rendered text is split on `/`, empty pieces
//!   are dropped (so a leading `/` does not make it absolute) and each piece is sanitised.
//!   Literal text in the template is not percent-decoded.
//! * **Content-Disposition**: a server-supplied file name replaces `{name}` — the mirror's last
//!   component, and the last component of `{path}` — after stripping everything up to the last
//!   `/` or `\`. A name that is empty, `.` or `..` after that is ignored.
//! * **Sanitising a component**: `/`, `\` and every character [`is_unsafe_char`] rejects (C0
//!   and C1 controls including NUL and ESC, DEL, bidi controls, U+2028/U+2029) become `_`; an
//!   empty component,
//!   `.` and `..` become `_`; a component starting with `.volley` (ASCII case-insensitive) gets a
//!   `_` prefix because DIR/.volley is volley's own state; a component over 255 bytes is cut at a
//!   character boundary and ends in `~` + 8 hex digits of the SHA-1 of the whole component, plus
//!   its extension when that is at most 16 bytes, so different long names stay different.

use std::fmt::Write as _;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;
use sha1::{Digest, Sha1};
use url::{Host, Url};

use crate::output::sanitize::is_unsafe_char;

/// Longest file name component most file systems accept, in bytes.
const MAX_COMPONENT: usize = 255;
/// Longest extension kept when a long component is shortened, in bytes (without the dot).
const MAX_KEPT_EXTENSION: usize = 16;
/// The placeholders a template may use, for error messages.
const PLACEHOLDERS: &str = "{host}, {path}, {name}, {index}, {sha1}";

/// How saved files are named.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Naming {
    /// Mirror the URL: `host[_port]/path`, with `index.html` for a directory and a short hash of
    /// the query string before the extension.
    #[default]
    Mirror,
    /// A `--save-name` template.
    Template(Template),
}

/// A parsed `--save-name` template such as `{host}/{index}-{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Literal text and placeholders, in order; never empty.
    parts: Vec<Part>,
}

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Text copied as is (braces already unescaped).
    Literal(String),
    /// `{host}`
    Host,
    /// `{path}`
    Path,
    /// `{name}`
    Name,
    /// `{index}`
    Index,
    /// `{sha1}`
    Sha1,
}

impl Template {
    /// Parses a template. Placeholders are `{host}`, `{path}`, `{name}`, `{index}` and `{sha1}`;
    /// `{{` and `}}` stand for literal braces.
    ///
    /// # Errors
    ///
    /// A message naming the problem: an empty template, one made only of `/`, an unknown
    /// placeholder (the message quotes it), an unclosed `{` or an unmatched `}`.
    pub fn parse(s: &str) -> Result<Template, String> {
        if s.is_empty() {
            return Err("empty file name template".to_string());
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = s.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.next_if(|&(_, c)| c == '{').is_some() => literal.push('{'),
                '}' if chars.next_if(|&(_, c)| c == '}').is_some() => literal.push('}'),
                '{' => {
                    let rest = &s[at + 1..];
                    let Some(len) = rest.find('}') else {
                        return Err(
                            "unclosed { in file name template (write {{ for a literal {)"
                                .to_string(),
                        );
                    };
                    let part = match &rest[..len] {
                        "host" => Part::Host,
                        "path" => Part::Path,
                        "name" => Part::Name,
                        "index" => Part::Index,
                        "sha1" => Part::Sha1,
                        other => {
                            return Err(format!(
                                "unknown placeholder {{{other}}} (use {PLACEHOLDERS})"
                            ))
                        }
                    };
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(part);
                    // Skip the name and the closing brace (all ASCII by now).
                    for _ in 0..=len {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(
                        "unmatched } in file name template (write }} for a literal })".to_string(),
                    )
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        let names_nothing = parts
            .iter()
            .all(|p| matches!(p, Part::Literal(text) if text.chars().all(|c| c == '/')));
        if names_nothing {
            return Err("file name template names no file (it is only `/`)".to_string());
        }
        Ok(Template { parts })
    }
}

impl std::str::FromStr for Template {
    type Err = String;

    fn from_str(s: &str) -> Result<Template, String> {
        Template::parse(s)
    }
}

/// What a saved file's name is made from.
#[derive(Debug, Clone, Copy)]
pub struct NameInput<'a> {
    /// The URL that was fetched (the final one after redirects, if the caller prefers that).
    pub url: &'a Url,
    /// The URL's position in the input, for `{index}`.
    pub index: u64,
    /// The server's file name from `Content-Disposition` (see [`disposition_filename`](super::disposition::disposition_filename)), when
    /// `--content-disposition` is on and the response had a usable one.
    pub disposition: Option<&'a str>,
}

/// The path, relative to the save directory, for one body. Always relative, made only of
/// normal components (no `.`, `..`, root or prefix), never empty, each component at most 255
/// bytes and free of control and bidi characters; see the module docs for the rules.
pub fn relative_path(naming: &Naming, input: &NameInput<'_>) -> PathBuf {
    let host = host_component(input.url);
    let mut path = mirror_components(input.url);
    if let Some(name) = input.disposition.and_then(disposition_component) {
        if let Some(last) = path.last_mut() {
            *last = name;
        }
    }
    let components: Vec<String> = match naming {
        Naming::Mirror => std::iter::once(host).chain(path).collect(),
        Naming::Template(template) => render(template, input, &host, &path),
    };
    let mut out = PathBuf::new();
    for component in &components {
        out.push(component);
    }
    if components.is_empty() {
        out.push("_");
    }
    out
}

/// Renders a template into sanitised components; empty pieces are dropped.
fn render(template: &Template, input: &NameInput<'_>, host: &str, path: &[String]) -> Vec<String> {
    let mut text = String::new();
    for part in &template.parts {
        match part {
            Part::Literal(literal) => text.push_str(literal),
            Part::Host => text.push_str(host),
            Part::Path => text.push_str(&path.join("/")),
            Part::Name => text.push_str(path.last().map_or("_", String::as_str)),
            Part::Index => {
                let _ = write!(text, "{}", input.index);
            }
            Part::Sha1 => {
                let mut url = input.url.clone();
                url.set_fragment(None);
                text.push_str(&sha1_hex(url.as_str().as_bytes()));
            }
        }
    }
    text.split('/')
        .filter(|piece| !piece.is_empty())
        .map(sanitize_component)
        .collect()
}

/// The mirror's first component: `host`, or `host_port` when the port is not the default.
fn host_component(url: &Url) -> String {
    let mut host = match url.host() {
        // Brackets are safe everywhere; `:` is not (Windows, macOS Finder), and `-` never occurs
        // in an IPv6 address, so the mapping stays one-to-one.
        // The URL's own serialisation (`[::ffff:102:304]`) is used, not `Ipv6Addr`'s.
        Some(Host::Ipv6(_)) => url.host_str().unwrap_or_default().replace(':', "-"),
        Some(Host::Ipv4(addr)) => addr.to_string(),
        Some(Host::Domain(domain)) => domain.to_string(),
        None => String::new(),
    };
    if let Some(port) = url.port() {
        let _ = write!(host, "_{port}");
    }
    sanitize_component(&host)
}

/// The mirrored path below the host: decoded, sanitised segments, `index.html` for a trailing
/// `/`, and the query hash in the last component. Never empty.
fn mirror_components(url: &Url) -> Vec<String> {
    let segments: Vec<&str> = url.path_segments().map_or_else(Vec::new, Iterator::collect);
    let last_at = segments.len().saturating_sub(1);
    let mut out = Vec::with_capacity(segments.len().max(1));
    for (i, raw) in segments.iter().enumerate() {
        if raw.is_empty() {
            continue; // dropped in the middle; the last one becomes index.html below
        }
        let decoded = percent_decode_str(raw).decode_utf8_lossy();
        let clean = clean_component(&decoded);
        out.push(if i == last_at {
            clean
        } else {
            cap_length(clean)
        });
    }
    // The last segment was consumed uncapped (or not at all), so the query hash can be added
    // before capping.
    let mut last = if segments.last().is_some_and(|s| !s.is_empty()) {
        out.pop().unwrap_or_default()
    } else {
        "index.html".to_string()
    };
    if let Some(query) = url.query() {
        let hash = &sha1_hex(query.as_bytes())[..8];
        last = match split_extension(&last) {
            (stem, Some(ext)) => format!("{stem}.{hash}.{ext}"),
            (stem, None) => format!("{stem}.{hash}"),
        };
    }
    out.push(cap_length(last));
    out
}

/// The sanitised base name of a `Content-Disposition` file name, or `None` when nothing usable
/// is left (empty, `.`, `..`).
fn disposition_component(name: &str) -> Option<String> {
    let base = base_name(name);
    if base.is_empty() || base == "." || base == ".." {
        return None;
    }
    Some(sanitize_component(base))
}

/// Everything after the last `/` or `\`.
pub(super) fn base_name(name: &str) -> &str {
    name.rfind(['/', '\\']).map_or(name, |at| &name[at + 1..])
}

/// Percent-decodes a raw URL path segment and sanitises it.
#[cfg(test)]
fn sanitize_segment(raw: &str) -> String {
    sanitize_component(&percent_decode_str(raw).decode_utf8_lossy())
}

/// Makes decoded text safe as a single file name component: [`clean_component`], then
/// [`cap_length`].
fn sanitize_component(text: &str) -> String {
    cap_length(clean_component(text))
}

/// Replaces separators, controls and bidi characters with `_`, turns empty, `.` and `..` into
/// `_`, and prefixes names reserved for volley's state directory with `_`. Idempotent.
fn clean_component(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || is_unsafe_char(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    if out.is_empty() || out == "." || out == ".." {
        return "_".to_string();
    }
    if out
        .get(..".volley".len())
        .is_some_and(|head| head.eq_ignore_ascii_case(".volley"))
    {
        out.insert(0, '_');
    }
    out
}

/// Shortens a component to at most 255 bytes: cut at a character boundary, then `~`, 8 hex
/// digits of the SHA-1 of the whole component and, if short, its extension.
fn cap_length(name: String) -> String {
    if name.len() <= MAX_COMPONENT {
        return name;
    }
    let hash = &sha1_hex(name.as_bytes())[..8];
    let (stem, ext) = match split_extension(&name) {
        (stem, Some(ext)) if ext.len() <= MAX_KEPT_EXTENSION => (stem, Some(ext)),
        _ => (name.as_str(), None),
    };
    let suffix = match ext {
        Some(ext) => format!("~{hash}.{ext}"),
        None => format!("~{hash}"),
    };
    let mut keep = MAX_COMPONENT - suffix.len();
    while !stem.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{suffix}", &stem[..keep])
}

/// Splits `name.ext` at the last dot. A leading dot (`.profile`) or trailing dot (`a.`) does not
/// start an extension.
fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rfind('.') {
        Some(at) if at > 0 && at + 1 < name.len() => (&name[..at], Some(&name[at + 1..])),
        _ => (name, None),
    }
}

/// Lower-case hex SHA-1 of `data`.
fn sha1_hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(40);
    for byte in Sha1::digest(data) {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::save::disposition::disposition_filename;
    use std::path::{Component, Path};

    /// The invariants every result must hold.
    fn check(path: &Path) {
        assert!(path.is_relative(), "{path:?} is not relative");
        assert!(path.components().next().is_some(), "{path:?} is empty");
        for component in path.components() {
            let Component::Normal(part) = component else {
                panic!("{path:?} has a non-normal component {component:?}");
            };
            let part = part.to_str().expect("UTF-8");
            assert!(
                part.len() <= MAX_COMPONENT,
                "{path:?}: {} bytes",
                part.len()
            );
            assert!(!part.is_empty() && part != "." && part != "..", "{path:?}");
            assert!(!part.contains(['/', '\\']), "{path:?}");
            assert!(
                !part.chars().any(is_unsafe_char),
                "{path:?} has an unsafe char"
            );
            assert!(
                !part.to_ascii_lowercase().starts_with(".volley"),
                "{path:?}"
            );
        }
    }

    fn named(naming: &Naming, url: &str, index: u64, disposition: Option<&str>) -> String {
        let url = Url::parse(url).expect("test URL");
        let input = NameInput {
            url: &url,
            index,
            disposition,
        };
        let path = relative_path(naming, &input);
        check(&path);
        path.to_str().expect("UTF-8").to_string()
    }

    fn mirror(url: &str) -> String {
        named(&Naming::Mirror, url, 0, None)
    }

    fn template(t: &str, url: &str, index: u64) -> String {
        let naming = Naming::Template(Template::parse(t).expect("template"));
        named(&naming, url, index, None)
    }

    fn hash8(s: &str) -> String {
        sha1_hex(s.as_bytes())[..8].to_string()
    }

    #[test]
    fn sha1_is_standard() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(hash8("id=1"), "931a65dc");
    }

    #[test]
    fn mirror_basic_paths() {
        assert_eq!(mirror("http://example.com/a/b.txt"), "example.com/a/b.txt");
        assert_eq!(mirror("http://example.com"), "example.com/index.html");
        assert_eq!(mirror("http://example.com/"), "example.com/index.html");
        assert_eq!(mirror("http://example.com/a/"), "example.com/a/index.html");
        assert_eq!(mirror("http://example.com//a//b"), "example.com/a/b");
        assert_eq!(mirror("http://example.com/a//"), "example.com/a/index.html");
        assert_eq!(mirror("http://EXAMPLE.com/A"), "example.com/A");
        assert_eq!(mirror("http://example.com/a#frag"), "example.com/a");
        assert_eq!(
            mirror("http://example.com/a%20b/c%C3%A9"),
            "example.com/a b/cé"
        );
        // Invalid UTF-8 is decoded lossily.
        assert_eq!(mirror("http://example.com/%FF"), "example.com/\u{fffd}");
    }

    #[test]
    fn mirror_ports() {
        assert_eq!(mirror("http://example.com:80/"), "example.com/index.html");
        assert_eq!(mirror("https://example.com:443/x"), "example.com/x");
        assert_eq!(mirror("http://example.com:8080/x"), "example.com_8080/x");
        assert_eq!(mirror("https://example.com:80/x"), "example.com_80/x");
        assert_eq!(mirror("http://127.0.0.1:3000/x"), "127.0.0.1_3000/x");
    }

    #[test]
    fn mirror_ipv6() {
        assert_eq!(mirror("http://[::1]/x"), "[--1]/x");
        assert_eq!(mirror("http://[::1]:8080/x"), "[--1]_8080/x");
        assert_eq!(
            mirror("http://[2001:DB8:0:0:0:0:0:1]/"),
            "[2001-db8--1]/index.html"
        );
        assert_eq!(
            mirror("http://[::ffff:1.2.3.4]/"),
            "[--ffff-102-304]/index.html"
        );
    }

    #[test]
    fn mirror_query_hash() {
        let h = hash8("id=1");
        assert_eq!(
            mirror("http://example.com/a/page.php?id=1"),
            format!("example.com/a/page.{h}.php")
        );
        assert_eq!(
            mirror("http://example.com/?q=1"),
            format!("example.com/index.{}.html", hash8("q=1"))
        );
        assert_eq!(
            mirror("http://example.com/?q=1#x"),
            mirror("http://example.com/?q=1")
        );
        assert_eq!(
            mirror("http://example.com/name?id=1"),
            format!("example.com/name.{h}")
        );
        assert_eq!(
            mirror("http://example.com/a.tar.gz?id=1"),
            format!("example.com/a.tar.{h}.gz")
        );
        assert_eq!(
            mirror("http://example.com/.profile?id=1"),
            format!("example.com/.profile.{h}")
        );
        // An empty query is still a different URL.
        assert_eq!(
            mirror("http://example.com/a?"),
            format!("example.com/a.{}", hash8(""))
        );
        // Different queries, different files; the same URL, the same file.
        let one = mirror("http://example.com/p?id=1");
        let two = mirror("http://example.com/p?id=2");
        assert_ne!(one, two);
        assert_eq!(one, mirror("http://example.com/p?id=1"));
        assert_ne!(one, mirror("http://example.com/p"));
    }

    #[test]
    fn mirror_hostile_paths() {
        // The url crate resolves dot segments, encoded or not, before we see them.
        assert_eq!(mirror("http://example.com/../../x"), "example.com/x");
        assert_eq!(
            mirror("http://example.com/a/%2e%2e/%2E%2E/x"),
            "example.com/x"
        );
        assert_eq!(mirror("http://example.com/..\\..\\x"), "example.com/x");
        // An encoded slash or backslash stays inside its segment.
        assert_eq!(mirror("http://example.com/a%2Fb"), "example.com/a_b");
        assert_eq!(
            mirror("http://example.com/..%2F..%2Fetc"),
            "example.com/.._.._etc"
        );
        assert_eq!(
            mirror("http://example.com/..%5C..%5Cx"),
            "example.com/.._.._x"
        );
        assert_eq!(mirror("http://example.com/%2e%2e%2f"), "example.com/.._");
        // Controls and bidi overrides.
        assert_eq!(mirror("http://example.com/a%00b"), "example.com/a_b");
        assert_eq!(
            mirror("http://example.com/%1B[31mred"),
            "example.com/_[31mred"
        );
        assert_eq!(
            mirror("http://example.com/x%E2%80%AEtxt.exe"),
            "example.com/x_txt.exe"
        );
        assert_eq!(mirror("http://example.com/a%0Ab%C2%85"), "example.com/a_b_");
        // Reserved state directory, at any depth and in the host.
        assert_eq!(
            mirror("http://example.com/.volley/x"),
            "example.com/_.volley/x"
        );
        assert_eq!(mirror("http://.volley/x"), "_.volley/x");
        assert_eq!(mirror("http://.VOLLEY.example/x"), "_.volley.example/x");
        // Non-HTTP URLs without a host still give a safe path.
        assert_eq!(mirror("file:///etc/passwd"), "_/etc/passwd");
        assert_eq!(mirror("data:text/plain,hi"), "_/index.html");
    }

    #[test]
    fn mirror_long_components() {
        let long = "a".repeat(300);
        let path = mirror(&format!("http://example.com/{long}.txt"));
        let expected = format!(
            "example.com/{}~{}.txt",
            "a".repeat(242),
            hash8(&format!("{long}.txt"))
        );
        assert_eq!(path, expected);
        assert_eq!(path.len() - "example.com/".len(), 255);
        // Two long names that share their first 255 bytes still differ.
        let other = mirror(&format!("http://example.com/{long}b.txt"));
        assert_ne!(path, other);
        // A long middle segment is capped too; the query hash survives in the ~hash.
        let a = mirror(&format!("http://example.com/{long}/{long}?q=1"));
        let b = mirror(&format!("http://example.com/{long}/{long}?q=2"));
        assert_ne!(a, b);
    }

    #[test]
    fn sanitize_raw_segments() {
        assert_eq!(sanitize_segment("%2e%2e"), "_");
        assert_eq!(sanitize_segment("%2E"), "_");
        assert_eq!(sanitize_segment(".."), "_");
        assert_eq!(sanitize_segment("."), "_");
        assert_eq!(sanitize_segment(""), "_");
        assert_eq!(sanitize_segment("..."), "...");
        assert_eq!(sanitize_segment("..%2F..%2Fx"), ".._.._x");
        assert_eq!(sanitize_segment("..\\..\\x"), ".._.._x");
        assert_eq!(sanitize_segment("/etc/passwd"), "_etc_passwd");
        assert_eq!(sanitize_segment("a%00b"), "a_b");
        assert_eq!(sanitize_segment("%1b"), "_");
        assert_eq!(sanitize_segment("%7F%C2%9B"), "__");
        assert_eq!(sanitize_segment("a%E2%80%8Fb%E2%81%A6c%E2%80%8E"), "a_b_c_");
        assert_eq!(sanitize_segment(".volley"), "_.volley");
        assert_eq!(sanitize_segment(".Volley-state"), "_.Volley-state");
        assert_eq!(sanitize_segment("x.volley"), "x.volley");
        assert_eq!(sanitize_segment("caf%C3%A9"), "café");
    }

    #[test]
    fn sanitize_caps_length_at_char_boundaries() {
        let long = "é".repeat(150); // 300 bytes
        let capped = sanitize_component(&long);
        assert_eq!(capped, format!("{}~{}", "é".repeat(123), hash8(&long)));
        assert_eq!(capped.len(), 255);
        // 246 bytes would split a character, so the cut falls back to 245.
        let odd = format!("a{long}");
        let capped = sanitize_component(&odd);
        assert_eq!(capped, format!("a{}~{}", "é".repeat(122), hash8(&odd)));
        assert_eq!(capped.len(), 254);
        let other = sanitize_component(&format!("{}x", "é".repeat(149)));
        assert_ne!(capped, other);
        assert!(other.len() <= MAX_COMPONENT);
        // An extension over 16 bytes is not kept.
        let long_ext = format!("a.{}", "b".repeat(298));
        assert_eq!(
            sanitize_component(&long_ext),
            format!("a.{}~{}", "b".repeat(244), hash8(&long_ext))
        );
        // Exactly 255 bytes is left alone.
        let exact = "c".repeat(255);
        assert_eq!(sanitize_component(&exact), exact);
        // Cleaning happens first, so the cap sees the cleaned name.
        let dotted = format!(".volley{}", "d".repeat(300));
        let capped = sanitize_component(&dotted);
        assert!(capped.starts_with("_.volley"));
        assert_eq!(capped.len(), 255);
    }

    #[test]
    fn template_placeholders() {
        let url = "http://example.com:8080/a/page.php?id=1#frag";
        let h = hash8("id=1");
        assert_eq!(template("{host}", url, 7), "example.com_8080");
        assert_eq!(template("{path}", url, 7), format!("a/page.{h}.php"));
        assert_eq!(template("{name}", url, 7), format!("page.{h}.php"));
        assert_eq!(template("{index}", url, 7), "7");
        let sha = sha1_hex(b"http://example.com:8080/a/page.php?id=1");
        assert_eq!(template("{sha1}", url, 7), sha);
        assert_eq!(
            template("out/{host}/{index}-{name}", url, 42),
            format!("out/example.com_8080/42-page.{h}.php")
        );
        assert_eq!(
            template("{sha1}.bin", "http://x/", 0),
            format!("{}.bin", sha1_hex(b"http://x/"))
        );
        assert_eq!(template("{{{index}}}", "http://x/", 3), "{3}");
        assert_eq!(template("{path}", "http://x/", 0), "index.html");
        assert_eq!(template("{name}", "http://x/d/", 0), "index.html");
        // {host}/{path} is the mirror layout.
        for url in [
            "http://example.com/a/b?c",
            "http://[::1]:81/",
            "http://h/x/.volley",
        ] {
            assert_eq!(template("{host}/{path}", url, 0), mirror(url));
        }
    }

    #[test]
    fn template_hostile_output() {
        assert_eq!(template("/etc/passwd", "http://x/", 0), "etc/passwd");
        assert_eq!(template("//{name}", "http://x/y", 0), "y");
        assert_eq!(template("../../{name}", "http://x/y", 0), "_/_/y");
        assert_eq!(template("..\\..\\{name}", "http://x/y", 0), ".._.._y");
        assert_eq!(template("./{name}/", "http://x/y", 0), "_/y");
        assert_eq!(template("%2e%2e/{index}", "http://x/y", 1), "%2e%2e/1");
        assert_eq!(template(".volley/{index}", "http://x/", 1), "_.volley/1");
        assert_eq!(
            template("a\u{1b}b\u{202e}/{index}", "http://x/", 1),
            "a_b_/1"
        );
        let long = "z".repeat(300);
        let capped = template(&format!("{long}{{index}}"), "http://x/", 1);
        assert_eq!(
            capped,
            format!("{}~{}", "z".repeat(246), hash8(&format!("{long}1")))
        );
    }

    #[test]
    fn template_errors() {
        assert_eq!(
            Template::parse("{foo}").unwrap_err(),
            "unknown placeholder {foo} (use {host}, {path}, {name}, {index}, {sha1})"
        );
        assert_eq!(
            Template::parse("a/{}").unwrap_err(),
            "unknown placeholder {} (use {host}, {path}, {name}, {index}, {sha1})"
        );
        assert_eq!(
            Template::parse("{Host}").unwrap_err(),
            "unknown placeholder {Host} (use {host}, {path}, {name}, {index}, {sha1})"
        );
        assert_eq!(Template::parse("").unwrap_err(), "empty file name template");
        assert_eq!(
            Template::parse("{host").unwrap_err(),
            "unclosed { in file name template (write {{ for a literal {)"
        );
        assert_eq!(
            Template::parse("{index}}").unwrap_err(),
            "unmatched } in file name template (write }} for a literal })"
        );
        assert_eq!(
            Template::parse("//").unwrap_err(),
            "file name template names no file (it is only `/`)"
        );
        assert!("{host}".parse::<Template>().is_ok());
        assert_eq!(
            Template::parse("é{index}ü").expect("parses").parts,
            vec![
                Part::Literal("é".into()),
                Part::Index,
                Part::Literal("ü".into())
            ]
        );
    }

    #[test]
    fn disposition_replaces_the_name() {
        let m = Naming::Mirror;
        let d = |name: &str| named(&m, "http://example.com/dl/get.php?id=1", 0, Some(name));
        assert_eq!(d("report.pdf"), "example.com/dl/report.pdf");
        assert_eq!(d("/etc/passwd"), "example.com/dl/passwd");
        assert_eq!(d("../../x"), "example.com/dl/x");
        assert_eq!(d("..\\..\\x"), "example.com/dl/x");
        assert_eq!(d("C:\\Windows\\evil.exe"), "example.com/dl/evil.exe");
        assert_eq!(d(".volley"), "example.com/dl/_.volley");
        assert_eq!(d("a\u{0}b\u{1b}c\u{202e}d"), "example.com/dl/a_b_c_d");
        // Nothing usable: the URL's own name stays.
        let own = format!("example.com/dl/get.{}.php", hash8("id=1"));
        for useless in ["", "..", ".", "dir/", "a\\.."] {
            assert_eq!(d(useless), own, "{useless:?}");
        }
        let long = format!("{}.pdf", "n".repeat(300));
        assert_eq!(
            d(&long),
            format!("example.com/dl/{}~{}.pdf", "n".repeat(242), hash8(&long))
        );
        // In a template it replaces {name} and the end of {path}.
        let t = Naming::Template(Template::parse("{index}-{name}|{path}").expect("template"));
        assert_eq!(
            named(&t, "http://h/a/b", 5, Some("r.pdf")),
            "5-r.pdf|a/r.pdf"
        );
        let t = Naming::Template(Template::parse("{index}").expect("template"));
        assert_eq!(named(&t, "http://h/a/b", 5, Some("r.pdf")), "5");
    }

    #[test]
    fn disposition_through_relative_path() {
        let header = b"attachment; filename=\"../../\x1b[2Jevil\xe2\x80\xaetxt.exe\"";
        let name = disposition_filename(header).expect("name");
        let path = named(&Naming::Mirror, "http://h/f", 0, Some(&name));
        assert_eq!(path, "h/_[2Jevil_txt.exe");
    }
}
