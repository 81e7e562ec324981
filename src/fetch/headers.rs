//! What `--include-headers` keeps of a response's header: every field, in the form the record
//! documents ([`Headers`]). Only called when something needs the headers, so a default run never
//! copies them.

use http::HeaderMap;

use crate::record::Headers;

/// The fields of `map` in the order each name first arrived (hyper fills a [`HeaderMap`] in
/// arrival order, and it keeps the first position of a repeated name), repeated names joined
/// with `", "`, values decoded lossily as UTF-8. Stops at the first field past [`Headers::CAP`].
pub(crate) fn keep_headers(map: &HeaderMap) -> Headers {
    let mut kept = Headers::new();
    for name in map.keys() {
        let mut values = map.get_all(name).iter();
        let mut value = match values.next() {
            Some(v) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
            None => continue,
        };
        for v in values {
            value.push_str(", ");
            value.push_str(&String::from_utf8_lossy(v.as_bytes()));
        }
        if !kept.push(name.as_str(), value) {
            break;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use http::header::{HeaderName, HeaderValue};

    use super::*;

    #[test]
    fn order_joining_lossy_values_and_the_cap() {
        let mut map = HeaderMap::new();
        let mut add = |n: &'static str, v: &[u8]| {
            map.append(
                HeaderName::from_static(n),
                HeaderValue::from_bytes(v).unwrap(),
            );
        };
        add("server", b"nginx");
        add("set-cookie", b"a=1");
        add("x-bin", b"caf\xe9");
        add("set-cookie", b"b=2");
        let kept = keep_headers(&map);
        assert_eq!(
            serde_json::to_string(&kept).unwrap(),
            r#"{"server":"nginx","set-cookie":"a=1, b=2","x-bin":"caf\ufffd"}"#
                .replace("\\ufffd", "\u{fffd}")
        );

        let mut map = HeaderMap::new();
        let big = "x".repeat(Headers::CAP / 2);
        for n in ["x-1", "x-2", "x-3"] {
            map.insert(
                HeaderName::from_static(n),
                HeaderValue::from_str(&big).unwrap(),
            );
        }
        let kept = keep_headers(&map);
        assert_eq!(kept.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["x-1"]);
    }
}
