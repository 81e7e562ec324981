//! What makes an input line a fetchable URL: WHATWG URL syntax (the `url` crate), an http or
//! https scheme, and a non-empty host. Everything else is refused here, before any network I/O.

use url::Url;

/// Parses one input as an http(s) URL, or says why it is not one (the message goes into the
/// `invalid_input` record).
pub fn parse_target(s: &str) -> Result<Url, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty input".to_owned());
    }
    if !s.contains("://") {
        // `example.com/x` parses as a relative reference; say what is missing instead of
        // guessing a scheme the user did not choose.
        if let Some((scheme, _)) = s.split_once(':') {
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !scheme.chars().all(|c| c.is_ascii_digit())
                && s[scheme.len() + 1..]
                    .chars()
                    .next()
                    .is_some_and(|c| !c.is_ascii_digit())
            {
                return Err(format!(
                    "unsupported scheme `{}` (only http and https)",
                    scheme.to_ascii_lowercase()
                ));
            }
        }
        return Err("no scheme: write http:// or https:// before the host".to_owned());
    }
    let url = Url::parse(s).map_err(|e| format!("not a valid URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "unsupported scheme `{other}` (only http and https)"
            ))
        }
    }
    match url.host_str() {
        Some(h) if !h.is_empty() => Ok(url),
        _ => Err("URL has an empty host".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https() {
        assert_eq!(
            parse_target("http://example.com").unwrap().as_str(),
            "http://example.com/"
        );
        assert_eq!(
            parse_target("  HTTPS://Example.COM:443/a b ")
                .unwrap()
                .as_str(),
            "https://example.com/a%20b"
        );
        assert_eq!(
            parse_target("http://[::1]:8080/x").unwrap().as_str(),
            "http://[::1]:8080/x"
        );
    }

    #[test]
    fn refuses_other_schemes() {
        assert_eq!(
            parse_target("ftp://example.com/").unwrap_err(),
            "unsupported scheme `ftp` (only http and https)"
        );
        assert_eq!(
            parse_target("file:///etc/passwd").unwrap_err(),
            "unsupported scheme `file` (only http and https)"
        );
        assert_eq!(
            parse_target("javascript:alert(1)").unwrap_err(),
            "unsupported scheme `javascript` (only http and https)"
        );
    }

    #[test]
    fn refuses_missing_scheme_and_host() {
        assert_eq!(
            parse_target("example.com/x").unwrap_err(),
            "no scheme: write http:// or https:// before the host"
        );
        assert_eq!(
            parse_target("localhost:8080").unwrap_err(),
            "no scheme: write http:// or https:// before the host"
        );
        assert_eq!(parse_target("").unwrap_err(), "empty input");
        assert!(parse_target("http://")
            .unwrap_err()
            .starts_with("not a valid URL"));
        assert!(parse_target("http:///x").is_ok_and(|u| u.host_str() == Some("x")));
        assert!(parse_target("http://exa mple.com/")
            .unwrap_err()
            .starts_with("not a valid URL"));
    }
}
