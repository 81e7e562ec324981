//! The request body and cookies as typed on the command line: `-d/--data` and `--json` (text or
//! `@FILE`), and `-b/--cookie`. Files are read here, once, before anything is fetched, so a
//! missing file or an oversized body is a usage error rather than a failed record per input.
//! Each error names what was wrong so the caller can prefix the flag.

use std::io::Read;

use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE, COOKIE};
use volley::Builder;

use super::args::Args;
use super::settings::Usage;

/// The largest request body volley sends; a bigger one is a usage error (it would be held in
/// memory and sent with every request).
pub const MAX_BODY: u64 = 64 << 20;

/// Sets the body, its `Content-Type` (and `Accept` for `--json`) and the `Cookie` header from
/// `-d`, `--json` and `-b`. The caller applies `-H` afterwards, so the user's headers win.
pub fn apply(mut b: Builder, args: &Args) -> Result<Builder, Usage> {
    // `@-` may read stdin only when the inputs do not come from it.
    let stdin_free = match &args.input {
        Some(p) => p.as_os_str() != "-",
        None => !args.inputs.is_empty(),
    };
    if !args.data.is_empty() {
        let body = data(&args.data, stdin_free).map_err(|e| Usage(format!("-d/--data: {e}")))?;
        b = b.body(body).header(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
    }
    if let Some(v) = &args.json {
        let body = json(v, stdin_free).map_err(|e| Usage(format!("--json: {e}")))?;
        let json = HeaderValue::from_static("application/json");
        b = b
            .body(body)
            .header(CONTENT_TYPE, json.clone())
            .header(ACCEPT, json);
    }
    if !args.cookies.is_empty() {
        let v = cookies(&args.cookies).map_err(|e| Usage(format!("-b/--cookie: {e}")))?;
        b = b.header(COOKIE, v);
    }
    Ok(b)
}

/// `-d/--data` values joined with `&`, as curl does. `@FILE` reads FILE with CR and LF removed
/// (curl's `-d @FILE`); `@-` reads stdin, allowed only when `stdin_free`.
pub fn data(values: &[String], stdin_free: bool) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        match v.strip_prefix('@') {
            Some(path) => {
                let mut file = load(path, stdin_free)?;
                file.retain(|&b| b != b'\r' && b != b'\n');
                body.extend(file);
            }
            None => body.extend_from_slice(v.as_bytes()),
        }
        check_size(body.len() as u64)?;
    }
    Ok(body)
}

/// `--json` DATA or `@FILE` (sent as it is), which must be valid JSON.
pub fn json(value: &str, stdin_free: bool) -> Result<Vec<u8>, String> {
    let body = match value.strip_prefix('@') {
        Some(path) => load(path, stdin_free)?,
        None => value.as_bytes().to_vec(),
    };
    check_size(body.len() as u64)?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&body)
        .map_err(|e| format!("not valid JSON: {e}"))?;
    Ok(body)
}

/// `-b/--cookie` values (`name=value; n2=v2`) joined with `; ` into one `Cookie` header, marked
/// sensitive. CR, LF and NUL are refused (they would split or end the request).
pub fn cookies(values: &[String]) -> Result<HeaderValue, String> {
    let mut pairs = Vec::new();
    for v in values {
        if v.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(format!("`{}` contains CR, LF or NUL", v.escape_debug()));
        }
        for pair in v.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((name, _)) if !name.trim().is_empty() => pairs.push(pair),
                _ => {
                    return Err(format!(
                        "`{pair}` is not name=value (cookie files are not supported)"
                    ))
                }
            }
        }
    }
    if pairs.is_empty() {
        return Err("no cookie given (expected name=value)".into());
    }
    let mut v = HeaderValue::from_str(&pairs.join("; "))
        .map_err(|_| "not a valid header value".to_owned())?;
    v.set_sensitive(true);
    Ok(v)
}

/// The bytes of `path` (`-` for stdin), at most [`MAX_BODY`].
fn load(path: &str, stdin_free: bool) -> Result<Vec<u8>, String> {
    if path == "-" {
        if !stdin_free {
            return Err(
                "cannot read the body from stdin (`@-`) when inputs come from stdin; \
                        give inputs as arguments or with -i FILE"
                    .into(),
            );
        }
        return read_capped(std::io::stdin().lock()).map_err(|e| format!("cannot read stdin: {e}"));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    read_capped(file).map_err(|e| format!("cannot read `{path}`: {e}"))
}

/// Reads `r` to its end, or stops one byte past [`MAX_BODY`] (which [`check_size`] refuses).
fn read_capped(r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(MAX_BODY + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

fn check_size(len: u64) -> Result<(), String> {
    if len > MAX_BODY {
        return Err(format!("the body is larger than {} MiB", MAX_BODY >> 20));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn data_joins_with_ampersand() {
        assert_eq!(data(&strings(&["a=1"]), true).unwrap(), b"a=1");
        assert_eq!(
            data(&strings(&["a=1", "b=2", "c"]), true).unwrap(),
            b"a=1&b=2&c"
        );
        assert_eq!(data(&strings(&[""]), true).unwrap(), b"");
    }

    #[test]
    fn data_from_a_file_loses_its_newlines() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"x=1\r\ny=2\n").unwrap();
        let at = format!("@{}", f.path().display());
        assert_eq!(data(&strings(&["a=0", &at]), true).unwrap(), b"a=0&x=1y=2");
    }

    #[test]
    fn data_from_a_missing_file_is_an_error() {
        let e = data(&strings(&["@/no/such/file"]), true).unwrap_err();
        assert!(e.starts_with("cannot read `/no/such/file`: "), "{e}");
    }

    #[test]
    fn stdin_is_refused_when_inputs_come_from_it() {
        let e = data(&strings(&["@-"]), false).unwrap_err();
        assert!(
            e.starts_with("cannot read the body from stdin (`@-`)"),
            "{e}"
        );
        let e = json("@-", false).unwrap_err();
        assert!(
            e.starts_with("cannot read the body from stdin (`@-`)"),
            "{e}"
        );
    }

    #[test]
    fn bodies_over_the_cap_are_refused() {
        let f = tempfile::NamedTempFile::new().unwrap();
        f.as_file().set_len(MAX_BODY + 1).unwrap();
        let at = format!("@{}", f.path().display());
        assert_eq!(
            data(&strings(&[&at]), true).unwrap_err(),
            "the body is larger than 64 MiB"
        );
        f.as_file().set_len(MAX_BODY).unwrap();
        assert_eq!(data(&strings(&[&at]), true).unwrap().len() as u64, MAX_BODY);
        assert_eq!(
            data(&strings(&[&at, "x"]), true).unwrap_err(),
            "the body is larger than 64 MiB",
            "the joined body counts"
        );
    }

    #[test]
    fn json_is_sent_as_given_when_valid() {
        assert_eq!(
            json(r#" {"a": [1, 2]} "#, true).unwrap(),
            br#" {"a": [1, 2]} "#
        );
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"{\n  \"k\": \"v\"\n}\n").unwrap();
        let at = format!("@{}", f.path().display());
        assert_eq!(json(&at, true).unwrap(), b"{\n  \"k\": \"v\"\n}\n");
        let e = json("{a:1}", true).unwrap_err();
        assert!(e.starts_with("not valid JSON: "), "{e}");
        assert!(json("", true).unwrap_err().starts_with("not valid JSON: "));
        assert!(json("[1] [2]", true).is_err());
    }

    #[test]
    fn cookies_join_with_semicolons() {
        let v = cookies(&strings(&["a=1; b=2", " c=3;"])).unwrap();
        assert_eq!(v.to_str().unwrap(), "a=1; b=2; c=3");
        assert!(v.is_sensitive());
        assert_eq!(cookies(&strings(&["e="])).unwrap().to_str().unwrap(), "e=");
    }

    #[test]
    fn bad_cookies_are_refused() {
        assert_eq!(
            cookies(&strings(&["a=1\r\nX-Evil: 1"])).unwrap_err(),
            "`a=1\\r\\nX-Evil: 1` contains CR, LF or NUL"
        );
        assert!(cookies(&strings(&["a=\0"]))
            .unwrap_err()
            .ends_with("contains CR, LF or NUL"));
        assert_eq!(
            cookies(&strings(&["cookies.txt"])).unwrap_err(),
            "`cookies.txt` is not name=value (cookie files are not supported)"
        );
        assert_eq!(
            cookies(&strings(&["=v"])).unwrap_err(),
            "`=v` is not name=value (cookie files are not supported)"
        );
        assert_eq!(
            cookies(&strings(&[" ; "])).unwrap_err(),
            "no cookie given (expected name=value)"
        );
        assert_eq!(
            cookies(&strings(&["a=\x01"])).unwrap_err(),
            "not a valid header value"
        );
    }
}
