//! `--template URL`: each input value goes in place of `{}` (every occurrence), percent-encoded
//! so that any value stays inside the URL part it was put in (`a b/c` → `a%20b%2Fc`).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::target::parse_target;
use super::Request;

/// Everything but RFC 3986's unreserved characters is encoded.
pub(super) const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A URL with `{}` placeholders.
#[derive(Debug, Clone)]
pub struct Template {
    /// The text between placeholders (one more than there are placeholders).
    parts: Vec<String>,
}

impl Template {
    /// Checks `text`: it must hold `{}` and make an http(s) URL once filled in.
    pub fn new(text: &str) -> Result<Self, String> {
        let parts: Vec<String> = text.split("{}").map(str::to_owned).collect();
        if parts.len() < 2 {
            return Err(format!("`{text}` has no `{{}}` for the input values"));
        }
        let t = Template { parts };
        if let Err(e) = parse_target(&t.fill("value")) {
            return Err(format!("`{text}` does not make a URL: {e}"));
        }
        Ok(t)
    }

    fn fill(&self, value: &str) -> String {
        let encoded = utf8_percent_encode(value, VALUE).to_string();
        self.parts.join(&encoded)
    }

    /// The request for one input line: the line is the value, the URL the filled template.
    pub fn request(&self, line: &[u8]) -> Request {
        match std::str::from_utf8(line) {
            Ok(value) => Request {
                input: value.to_owned(),
                target: parse_target(&self.fill(value)),
                spec: None,
                index: None,
                duplicate_of: None,
            },
            Err(_) => Request::from_line(line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_in_place_of_every_placeholder() {
        let t = Template::new("https://api.test/chart/{}?symbol={}").unwrap();
        let r = t.request(b"VTSAX");
        assert_eq!(r.input, "VTSAX");
        assert_eq!(
            r.target.unwrap().as_str(),
            "https://api.test/chart/VTSAX?symbol=VTSAX"
        );
        let r = t.request("a b/c?d=1&e#ü".as_bytes());
        assert_eq!(
            r.target.unwrap().as_str(),
            "https://api.test/chart/a%20b%2Fc%3Fd%3D1%26e%23%C3%BC?symbol=a%20b%2Fc%3Fd%3D1%26e%23%C3%BC"
        );
        assert_eq!(
            t.request(b"\xff").target.unwrap_err(),
            "input is not valid UTF-8"
        );
    }

    #[test]
    fn bad_templates() {
        assert_eq!(
            Template::new("https://a.test/x").unwrap_err(),
            "`https://a.test/x` has no `{}` for the input values"
        );
        assert!(Template::new("ftp://a.test/{}")
            .unwrap_err()
            .starts_with("`ftp://a.test/{}` does not make a URL"));
    }
}
