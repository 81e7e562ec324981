//! Running a run's extractors over one response: headers when they arrive, body pieces as they
//! are decoded, values at the end. CSS works on the stream; JSON and regexes see the body kept
//! in memory (never more than `--max-body`).

use std::sync::Arc;

use http::HeaderMap;
use serde_json::{Map, Value};

use super::css::CssRun;
use super::spec::{Extractors, Kind};

/// The most body memory reserved up front from a response's `Content-Length`.
const MAX_RESERVE: usize = 1 << 20;

/// The extractors' work on one response.
pub struct Extraction {
    set: Arc<Extractors>,
    /// The body so far, when a JSON or regex extractor needs it.
    body: Option<Vec<u8>>,
    css: Option<CssRun>,
    /// Header values per extractor (by position), when the headers came; empty without header
    /// extractors.
    headers: Vec<Option<Vec<String>>>,
}

impl Extraction {
    /// Starts extracting with `set` from a response with `headers`.
    pub fn new(set: Arc<Extractors>, headers: &HeaderMap) -> Self {
        let css_specs: Vec<_> = set
            .list
            .iter()
            .filter_map(|e| match &e.kind {
                Kind::Css { selector, attr } => Some((selector, attr)),
                _ => None,
            })
            .collect();
        let css = (!css_specs.is_empty()).then(|| CssRun::new(&css_specs, set.all));
        // Sized once from Content-Length (within a bound) rather than grown piece by piece.
        let expected = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.trim().parse::<usize>().ok())
            .unwrap_or(0)
            .min(MAX_RESERVE);
        let body = set
            .list
            .iter()
            .any(|e| e.kind.buffers_body())
            .then(|| pool::take(expected));
        let wants_headers = set.list.iter().any(|e| matches!(e.kind, Kind::Header(_)));
        let headers = set
            .list
            .iter()
            .filter(|_| wants_headers)
            .map(|e| match &e.kind {
                Kind::Header(name) => Some(
                    headers
                        .get_all(name)
                        .iter()
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                        .collect(),
                ),
                _ => None,
            })
            .collect();
        Extraction {
            set,
            body,
            css,
            headers,
        }
    }

    /// Feeds a piece of the decoded body (already within `--max-body`).
    pub fn feed(&mut self, piece: &[u8]) {
        if let Some(b) = &mut self.body {
            b.extend_from_slice(piece);
        }
        if let Some(c) = &mut self.css {
            c.feed(piece);
        }
    }

    /// The `extract` object: one key per extractor, `null` when it found nothing.
    pub fn finish(self) -> Map<String, Value> {
        let all = self.set.all;
        let mut css = self.css.map(CssRun::finish).unwrap_or_default().into_iter();
        let json = match (
            &self.body,
            self.set
                .list
                .iter()
                .any(|e| matches!(e.kind, Kind::Json(_))),
        ) {
            (Some(b), true) => serde_json::from_slice::<Value>(b).ok(),
            _ => None,
        };
        let mut out = Map::new();
        let mut headers = self.headers.into_iter();
        for e in &self.set.list {
            // Empty when there is no header extractor.
            let header = headers.next().flatten();
            let found: Vec<Value> = match &e.kind {
                Kind::Css { .. } => css
                    .next()
                    .unwrap_or_default()
                    .into_iter()
                    .map(Value::String)
                    .collect(),
                Kind::Json(path) => json
                    .as_ref()
                    .map(|v| path.query(v).all().into_iter().cloned().collect())
                    .unwrap_or_default(),
                Kind::Re(re) => {
                    let body = self.body.as_deref().unwrap_or_default();
                    let take = |c: regex::bytes::Captures<'_>| {
                        let m = c
                            .get(1)
                            .or_else(|| c.get(0))
                            .map_or(&[][..], |m| m.as_bytes());
                        Value::String(String::from_utf8_lossy(m).into_owned())
                    };
                    if all {
                        re.captures_iter(body).map(take).collect()
                    } else {
                        re.captures(body).map(take).into_iter().collect()
                    }
                }
                Kind::Header(_) => match header.unwrap_or_default() {
                    v if v.is_empty() => Vec::new(),
                    v if all => v.into_iter().map(Value::String).collect(),
                    v => vec![Value::String(v.join(", "))],
                },
            };
            let value = if all {
                Value::Array(found)
            } else {
                found.into_iter().next().unwrap_or(Value::Null)
            };
            out.insert(e.name.clone(), value);
        }
        if let Some(body) = self.body {
            pool::give(body);
        }
        out
    }
}

/// Body buffers for JSON and regex extractors, reused from one response to the next on the same
/// thread: a fresh 2 KB allocation and its free cost more than the regex itself on small pages.
/// Bounded: at most [`POOL_LEN`] buffers of at most [`POOL_KEEP`] bytes each are kept.
mod pool {
    use std::cell::RefCell;

    const POOL_LEN: usize = 64;
    const POOL_KEEP: usize = 64 * 1024;

    thread_local! {
        static FREE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    }

    /// An empty buffer with room for `expected` bytes.
    pub(super) fn take(expected: usize) -> Vec<u8> {
        let mut v = FREE.with(|f| f.borrow_mut().pop()).unwrap_or_default();
        v.reserve(expected);
        v
    }

    /// Keeps `v` for a later response, unless it is big or enough are kept.
    pub(super) fn give(mut v: Vec<u8>) {
        if v.capacity() > POOL_KEEP {
            return;
        }
        v.clear();
        FREE.with(|f| {
            let mut f = f.borrow_mut();
            if f.len() < POOL_LEN {
                f.push(v);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::spec::Extractor;

    fn extract(specs: &[&str], all: bool, headers: &[(&str, &str)], body: &[&str]) -> Value {
        let list = specs
            .iter()
            .map(|s| s.parse::<Extractor>().unwrap())
            .collect();
        let set = Arc::new(Extractors::new(list, all).unwrap());
        let mut h = HeaderMap::new();
        for (n, v) in headers {
            h.append(
                http::header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let mut x = Extraction::new(set, &h);
        for piece in body {
            x.feed(piece.as_bytes());
        }
        Value::Object(x.finish())
    }

    #[test]
    fn every_kind_first_match() {
        let body = [
            r#"{"chart":{"result":[{"meta":{"regularMarketPrice":12.5}}]}, "v":"version 42 and 43"}"#,
        ];
        let v = extract(
            &[
                "price=json:$.chart.result[0].meta.regularMarketPrice",
                "ver=re:version (\\d+)",
                "whole=re:\\d+",
                "srv=header:server",
                "none=json:$.missing",
                "nothing=re:zzz",
                "nohdr=header:x-none",
            ],
            false,
            &[("Server", "nginx"), ("server", "again")],
            &body,
        );
        assert_eq!(
            v,
            serde_json::json!({"price": 12.5, "ver": "42", "whole": "12", "srv": "nginx, again",
                "none": null, "nothing": null, "nohdr": null})
        );
    }

    #[test]
    fn all_matches_as_arrays() {
        let v = extract(
            &[
                "ids=json:$.items[*].id",
                "n=re:n(\\d)",
                "h=header:x-a",
                "t=css:li",
            ],
            true,
            &[("x-a", "1"), ("x-a", "2")],
            &[r#"{"items":[{"id":1},{"id":2}],"s":"n1 n2 n3"}"#],
        );
        assert_eq!(
            v,
            serde_json::json!({"ids": [1, 2], "n": ["1", "2", "3"], "h": ["1", "2"], "t": []})
        );
    }

    #[test]
    fn css_on_html_and_not_json() {
        let v = extract(
            &["title=css:h1", "link=css:a@href", "j=json:$.a"],
            false,
            &[],
            &["<h1>Big <i>news</i></h1><a href=/next>n</a>"],
        );
        assert_eq!(
            v,
            serde_json::json!({"title": "Big news", "link": "/next", "j": null})
        );
    }
}
