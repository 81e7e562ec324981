//! The HTML fixtures behind `/`, `/page/<n>` and `/title/*`, each with the title a correct
//! extractor must report (documented per function and checked by `expected_title`).

/// `text/html; charset=utf-8`.
pub const HTML_UTF8: &str = "text/html; charset=utf-8";

/// The plain title page (`/`, `/title/plain`, `/redirect/0`, and the encoded routes).
/// Title: `Hello testbed`.
pub const PLAIN: &str = "<html><head><title>Hello testbed</title></head><body>hi</body></html>";

/// `/page/<n>`: about 1 KB of HTML titled `Page <n>`.
pub fn numbered(n: &str) -> String {
    let filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(16);
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Page {n}</title></head>\n\
         <body><h1>Page {n}</h1><p>{filler}</p></body></html>\n"
    )
}

/// A small page titled `title` (escaped minimally: the callers pass plain words).
pub fn small(title: &str, body: &str) -> String {
    format!("<html><head><title>{title}</title></head><body>{body}</body></html>")
}

/// One fixture: the `Content-Type` to send and the body bytes.
pub struct Fixture {
    /// Value of the `Content-Type` header.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
    /// Extra response headers (raw bytes allowed).
    pub headers: Vec<(&'static str, Vec<u8>)>,
}

impl Fixture {
    fn html(body: impl Into<Vec<u8>>) -> Self {
        Fixture {
            content_type: HTML_UTF8,
            body: body.into(),
            headers: Vec::new(),
        }
    }
}

/// The title a correct extractor reports for `/title/<name>` (`None`: no title at all).
///
/// | route | expected |
/// |---|---|
/// | `plain` | `Hello testbed` |
/// | `entities` | `Tom & Jerry ééA <3 \u{a0}x` (the raw title is `Tom &amp; Jerry &eacute;&#233;&#x41; &lt;3 &nbsp;x`; the last space before `x` is U+00A0) |
/// | `latin1` | `Café` (header charset iso-8859-1, byte `0xE9`) |
/// | `meta-charset` | `Привет` (windows-1251 bytes, declared by `<meta charset>`) |
/// | `meta-http-equiv` | `日本` (Shift_JIS bytes, declared by `<meta http-equiv>`) |
/// | `whitespace` | `Lots of space` (after collapsing whitespace) |
/// | `none` | none |
/// | `empty` | none (an empty title is no title: volley reports null) |
/// | `control` | raw title is `a\x1b[31mred\x07bell\u{202E}rtl`: ESC, BEL and RIGHT-TO-LEFT OVERRIDE must not reach a terminal unescaped; also `Server: evil\u{202E}rtl` |
/// | `late` | `Late title` (after ~200 KB of script) |
/// | `decoy` | `yes` |
/// | `uppercase` | `Upper` |
/// | `attrs` | `Attrs` |
/// | `json` | none (not HTML) |
pub fn expected_title(name: &str) -> Option<&'static str> {
    Some(match name {
        "plain" => "Hello testbed",
        "entities" => "Tom & Jerry ééA <3 \u{a0}x",
        "latin1" => "Café",
        "meta-charset" => "Привет",
        "meta-http-equiv" => "日本",
        "whitespace" => "Lots of space",
        "control" => "a\x1b[31mred\x07bell\u{202E}rtl",
        "late" => "Late title",
        "decoy" => "yes",
        "uppercase" => "Upper",
        "attrs" => "Attrs",
        _ => return None,
    })
}

/// The fixture for `/title/<name>`, or `None` for an unknown name.
pub fn title_fixture(name: &str) -> Option<Fixture> {
    Some(match name {
        "plain" => Fixture::html(PLAIN),
        "entities" => Fixture::html(
            "<html><head><title>Tom &amp; Jerry &eacute;&#233;&#x41; &lt;3 &nbsp;x</title></head>\
             <body>entities</body></html>",
        ),
        "latin1" => Fixture {
            content_type: "text/html; charset=iso-8859-1",
            body: b"<html><head><title>Caf\xe9</title></head><body>caf\xe9</body></html>".to_vec(),
            headers: Vec::new(),
        },
        "meta-charset" => Fixture {
            content_type: "text/html",
            // "Привет" in windows-1251.
            body: b"<html><head><meta charset=\"windows-1251\"><title>\xcf\xf0\xe8\xe2\xe5\xf2</title></head><body></body></html>".to_vec(),
            headers: Vec::new(),
        },
        "meta-http-equiv" => Fixture {
            content_type: "text/html",
            // "日本" in Shift_JIS.
            body: b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=shift_jis\"><title>\x93\xfa\x96\x7b</title></head><body></body></html>".to_vec(),
            headers: Vec::new(),
        },
        "whitespace" => Fixture::html(
            "<html><head><title>\n   Lots \t of\n\n space   </title></head><body></body></html>",
        ),
        "none" => Fixture::html("<html><head><meta charset=\"utf-8\"></head><body><h1>No title here</h1></body></html>"),
        "empty" => Fixture::html("<html><head><title></title></head><body>empty</body></html>"),
        "control" => Fixture {
            content_type: HTML_UTF8,
            body: "<html><head><title>a\x1b[31mred\x07bell\u{202E}rtl</title></head><body></body></html>"
                .into(),
            // Control bytes are not legal in header values (parsers reject the whole response;
            // see `/header/control` for that), but bytes >= 0x80 are: U+202E in UTF-8.
            headers: vec![("Server", "evil\u{202E}rtl".into())],
        },
        "late" => {
            let mut body = String::from("<html><head><script>\n");
            while body.len() < 200 * 1024 {
                body.push_str("var filler = \"<p>not a title</p>\"; // padding padding padding\n");
            }
            body.push_str("</script><title>Late title</title></head><body></body></html>");
            Fixture::html(body)
        }
        "decoy" => Fixture::html(
            "<html><head><!-- <title>no</title> --><script>var t=\"<title>no</title>\"</script>\
             <title>yes</title></head><body></body></html>",
        ),
        "uppercase" => Fixture::html("<HTML><HEAD><TITLE>Upper</TITLE></HEAD><BODY></BODY></HTML>"),
        "attrs" => Fixture::html(
            "<html><head><title id=\"x\" class='y'>Attrs</title></head><body></body></html>",
        ),
        "json" => Fixture {
            content_type: "application/json",
            body: br#"{"title":"<title>not html</title>"}"#.to_vec(),
            headers: Vec::new(),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_page_is_about_a_kilobyte() {
        let p = numbered("7");
        assert!(p.contains("<title>Page 7</title>"));
        assert!((900..1300).contains(&p.len()), "{}", p.len());
    }

    #[test]
    fn every_expected_title_has_a_fixture() {
        for name in [
            "plain",
            "entities",
            "latin1",
            "meta-charset",
            "meta-http-equiv",
            "whitespace",
            "none",
            "empty",
            "control",
            "late",
            "decoy",
            "uppercase",
            "attrs",
            "json",
        ] {
            assert!(title_fixture(name).is_some(), "{name}");
        }
        let late = title_fixture("late").unwrap().body;
        assert!(late.len() > 200 * 1024);
    }
}
