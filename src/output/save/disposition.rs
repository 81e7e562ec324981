//! The file name a server suggests in `Content-Disposition` (RFC 6266, `filename*` per RFC
//! 8187), for `--content-disposition`. The name is not sanitised here: [`super::name`] does
//! that, as for every other component.

use percent_encoding::percent_decode_str;

use super::name::base_name;

/// Longest `Content-Disposition` value read; a longer one gives no name.
pub(super) const MAX_DISPOSITION: usize = 4096;

/// The file name a `Content-Disposition` header value suggests (RFC 6266), as a base name:
/// anything up to the last `/` or `\` is removed.
///
/// `filename*` (RFC 8187: `UTF-8''…` or `ISO-8859-1''…`, percent-encoded) wins over `filename`
/// when it decodes; parameter names are case-insensitive; values are tokens or quoted strings
/// with `\` escapes. An unquoted `filename` value runs to the next `;` (servers send spaces in
/// them). Bytes that are not UTF-8 in a plain `filename` are read as ISO-8859-1. The name is not
/// sanitised — [`relative_path`] does that.
///
/// Returns `None` when there is no usable name (missing, empty, `.`, `..`), when a quoted string
/// is unterminated, or when the value is longer than 4 KiB.
pub fn disposition_filename(value: &[u8]) -> Option<String> {
    if value.len() > MAX_DISPOSITION {
        return None;
    }
    let params = parse_parameters(value)?;
    let mut plain = None;
    let mut extended = None;
    for (name, value) in params {
        if name.eq_ignore_ascii_case(b"filename*") {
            if extended.is_none() {
                extended = decode_ext_value(&value);
            }
        } else if name.eq_ignore_ascii_case(b"filename") && plain.is_none() {
            plain = Some(bytes_to_string(&value));
        }
    }
    let name = extended.or(plain)?;
    let base = base_name(&name);
    if base.is_empty() || base == "." || base == ".." {
        return None;
    }
    Some(base.to_string())
}

/// The `name=value` parameters of a header value, values unquoted. The disposition type (the
/// first item, if it has no `=`) and malformed items are skipped; an unterminated quoted string
/// makes the whole value unparsable.
fn parse_parameters(value: &[u8]) -> Option<Vec<(&[u8], Vec<u8>)>> {
    let mut params = Vec::new();
    let mut rest = value;
    loop {
        rest = trim_start(rest);
        if rest.is_empty() {
            return Some(params);
        }
        let name_end = rest
            .iter()
            .position(|&b| b == b'=' || b == b';')
            .unwrap_or(rest.len());
        let name = trim_end(&rest[..name_end]);
        if rest.get(name_end) != Some(&b'=') {
            // The disposition type, or a stray item: skip to the next `;`.
            rest = rest.get(name_end + 1..).unwrap_or_default();
            continue;
        }
        rest = trim_start(&rest[name_end + 1..]);
        let mut value = Vec::new();
        if rest.first() == Some(&b'"') {
            let mut i = 1;
            loop {
                match rest.get(i) {
                    None => return None,
                    Some(b'"') => break,
                    Some(b'\\') => {
                        value.push(*rest.get(i + 1)?);
                        i += 2;
                    }
                    Some(&b) => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
            rest = &rest[i + 1..];
            // Anything between the closing quote and the next `;` is ignored.
            let next = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
            rest = rest.get(next + 1..).unwrap_or_default();
        } else {
            let end = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
            value.extend_from_slice(trim_end(&rest[..end]));
            rest = rest.get(end + 1..).unwrap_or_default();
        }
        if !name.is_empty() {
            params.push((name, value));
        }
    }
}

/// Decodes an RFC 8187 `charset'language'percent-encoded` value; `None` for an unknown charset,
/// a missing `'`, or bytes that are not valid in the charset.
fn decode_ext_value(value: &[u8]) -> Option<String> {
    let mut fields = value.splitn(3, |&b| b == b'\'');
    let charset = fields.next()?;
    let _language = fields.next()?;
    let encoded = std::str::from_utf8(fields.next()?).ok()?;
    let bytes: Vec<u8> = percent_decode_str(encoded).collect();
    if charset.eq_ignore_ascii_case(b"utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case(b"iso-8859-1") {
        Some(bytes.iter().map(|&b| char::from(b)).collect())
    } else {
        None
    }
}

/// UTF-8 if it is, otherwise ISO-8859-1 (what HTTP header bytes used to mean).
fn bytes_to_string(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// `bytes` without leading spaces and tabs.
fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// `bytes` without trailing spaces and tabs.
fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |at| at + 1);
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_filename_parsing() {
        let f = |v: &str| disposition_filename(v.as_bytes());
        assert_eq!(
            f("attachment; filename=\"a b.txt\""),
            Some("a b.txt".into())
        );
        assert_eq!(
            f("attachment; filename=plain.txt"),
            Some("plain.txt".into())
        );
        assert_eq!(
            f("inline;filename=plain.txt;size=3"),
            Some("plain.txt".into())
        );
        assert_eq!(f("attachment; FileName=\"UP.txt\""), Some("UP.txt".into()));
        assert_eq!(
            f("attachment; filename=\"q\\\"uo\\te\""),
            Some("q\"uote".into())
        );
        assert_eq!(
            f("attachment; filename=\"a;b.txt\"; x=y"),
            Some("a;b.txt".into())
        );
        assert_eq!(
            f("attachment; filename=a b.txt ; x=1"),
            Some("a b.txt".into())
        );
        assert_eq!(f("filename=\"notype.txt\""), Some("notype.txt".into()));
        assert_eq!(
            f("attachment; filename=\"fallback.txt\"; filename*=UTF-8''na%C3%AFve.txt"),
            Some("naïve.txt".into())
        );
        assert_eq!(
            f("attachment; filename*=utf-8'en'na%C3%AFve.txt; filename=fallback.txt"),
            Some("naïve.txt".into())
        );
        assert_eq!(f("attachment; FILENAME*=UTF-8''x%20y"), Some("x y".into()));
        assert_eq!(
            f("attachment; filename*=ISO-8859-1''caf%E9.txt"),
            Some("café.txt".into())
        );
        // A filename* that does not decode falls back to filename.
        assert_eq!(
            f("attachment; filename*=UTF-8''%FF.txt; filename=ok.txt"),
            Some("ok.txt".into())
        );
        assert_eq!(
            f("attachment; filename*=KOI8-R''x; filename=ok.txt"),
            Some("ok.txt".into())
        );
        assert_eq!(
            f("attachment; filename*=noquotes; filename=ok.txt"),
            Some("ok.txt".into())
        );
        // The first of duplicated parameters wins.
        assert_eq!(f("attachment; filename=a; filename=b"), Some("a".into()));
        // Non-UTF-8 bytes in a plain filename are ISO-8859-1.
        assert_eq!(
            disposition_filename(b"attachment; filename=\"caf\xe9\""),
            Some("café".into())
        );
        // Base name only.
        assert_eq!(
            f("attachment; filename=\"/etc/passwd\""),
            Some("passwd".into())
        );
        assert_eq!(f("attachment; filename=\"../../x\""), Some("x".into()));
        assert_eq!(
            f("attachment; filename=\"..\\\\..\\\\x\""),
            Some("x".into())
        );
        assert_eq!(
            f("attachment; filename*=UTF-8''..%2F..%2Fx"),
            Some("x".into())
        );
        assert_eq!(f("attachment; filename*=UTF-8''..%5Cx"), Some("x".into()));
        // Controls are passed through; relative_path sanitises them.
        assert_eq!(
            f("attachment; filename*=UTF-8''a%00b"),
            Some("a\u{0}b".into())
        );
        // Nothing usable.
        assert_eq!(f("attachment"), None);
        assert_eq!(f(""), None);
        assert_eq!(f("attachment; filename=\"\""), None);
        assert_eq!(f("attachment; filename="), None);
        assert_eq!(f("attachment; filename=\"..\""), None);
        assert_eq!(f("attachment; filename=\"dir/\""), None);
        assert_eq!(f("attachment; filename=\"unterminated"), None);
        assert_eq!(f("attachment; filename=\"ends in escape\\"), None);
        assert_eq!(f("attachment; name=\"field\""), None);
        // Oversized values are not parsed at all.
        let padding = "x".repeat(MAX_DISPOSITION);
        assert_eq!(f(&format!("attachment; p={padding}; filename=a.txt")), None);
        let fits = format!("attachment; filename=a.txt; p={}", "x".repeat(4000));
        assert_eq!(f(&fits), Some("a.txt".into()));
    }
}
