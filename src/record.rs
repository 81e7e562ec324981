//! The shared types that flow between the stages: a [`Record`] is what every input yields, exactly
//! once, whatever happened to it (DESIGN §2). Its JSON form is the schema users script against, so
//! field names and order here are a contract guarded by tests.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What went wrong with one input. The variants and their snake_case names are the `error.kind`
/// values of the record schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input line is not a fetchable http(s) URL; nothing was sent.
    InvalidInput,
    /// The host name could not be resolved.
    Dns,
    /// The TCP connection could not be made (refused, unreachable). A connect that takes longer
    /// than `--connect-timeout` is a `timeout`.
    Connect,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The attempt took longer than `--timeout` (headers and body together).
    Timeout,
    /// The connection was closed or reset before the exchange completed.
    Reset,
    /// The server broke HTTP (malformed response, bad `Location`, truncated or bad encoding).
    Protocol,
    /// More redirects than `--max-redirects`, or a loop.
    TooManyRedirects,
    /// A redirect to a scheme volley does not follow (not http or https).
    RedirectRefused,
    /// The (decoded) body was larger than `--max-body`.
    BodyTooLarge,
    /// The host's circuit breaker was open.
    CircuitOpen,
    /// The run's `--deadline` passed before this input was done.
    Deadline,
    /// The run was interrupted (Ctrl-C) before this input was done.
    Interrupted,
    /// A local I/O error (writing a file, reading input).
    Io,
    /// The file `--save` would write already exists (and `--overwrite` is off): kept as it
    /// was, and nothing was fetched unless its name came from the response.
    Exists,
}

impl ErrorKind {
    /// All kinds, in schema order (for histograms and docs).
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::InvalidInput,
        ErrorKind::Dns,
        ErrorKind::Connect,
        ErrorKind::Tls,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Protocol,
        ErrorKind::TooManyRedirects,
        ErrorKind::RedirectRefused,
        ErrorKind::BodyTooLarge,
        ErrorKind::CircuitOpen,
        ErrorKind::Deadline,
        ErrorKind::Interrupted,
        ErrorKind::Io,
        ErrorKind::Exists,
    ];

    /// The schema name, e.g. `"too_many_redirects"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Protocol => "protocol",
            ErrorKind::TooManyRedirects => "too_many_redirects",
            ErrorKind::RedirectRefused => "redirect_refused",
            ErrorKind::BodyTooLarge => "body_too_large",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::Deadline => "deadline",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Io => "io",
            ErrorKind::Exists => "exists",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error` object of a record: a kind a user can act on and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordError {
    /// The machine-readable kind.
    pub kind: ErrorKind,
    /// A one-line human explanation. May contain text from the network; printers escape it.
    pub message: String,
}

impl RecordError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RecordError {
            kind,
            message: message.into(),
        }
    }
}

/// One result per input. Field order is the JSON field order of the schema (DESIGN §2). The
/// JSON form reads back into the same record (the journal keeps records so).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// 0-based position of the input among the inputs (skipped blank/comment lines do not count).
    pub index: u64,
    /// The input as given (lossily decoded if it was not UTF-8).
    pub input: String,
    /// The URL that was requested first (normalised), or null when the input was not a URL.
    pub url: Option<String>,
    /// The URL of the last response (after redirects), or null when none arrived.
    pub final_url: Option<String>,
    /// The HTTP method of the first request.
    pub method: String,
    /// The final response's status whenever one arrived.
    pub status: Option<u16>,
    /// The exchange completed without error and the final status is below 400.
    pub ok: bool,
    /// The first `<title>` of an HTML document, decoded and collapsed.
    pub title: Option<String>,
    /// The final response's `Server` header.
    pub server: Option<String>,
    /// The final response's `Content-Type` header.
    pub content_type: Option<String>,
    /// The final response's `Content-Length` header, when it sent one.
    pub content_length: Option<u64>,
    /// Body bytes received after decoding (up to the point an error stopped the read).
    pub bytes: u64,
    /// Redirects followed.
    pub redirects: u32,
    /// Tries of this input (0 when nothing was sent). Redirect hops are not tries.
    pub attempts: u32,
    /// Time from the first request start to the end of the last body, in milliseconds.
    pub elapsed_ms: f64,
    /// Extracted values by name (empty unless extractors were given).
    pub extract: serde_json::Map<String, serde_json::Value>,
    /// The final response's header fields, kept only when something asks for them
    /// (`--include-headers`, `-w '%{header.NAME}'`); `None` otherwise and when no response
    /// arrived. Not in [`FIELDS`]: the key is left out of the JSON form when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Headers>,
    /// What the input carried into its record (`--input-format csv` / `jsonl`): the CSV row,
    /// the JSONL `id` and `tag`. `None` for line input, which pays nothing for it; each key is
    /// left out of the JSON form when absent.
    #[serde(
        flatten,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "carried_if_any"
    )]
    pub carried: Option<Box<Carried>>,
    /// Where the body was saved, when `--save` is used.
    pub saved_to: Option<String>,
    /// The body's SHA-256 in hex (`--hash sha256`): of the saved file with `--save`. Not in
    /// [`FIELDS`]: the key is left out of the JSON form when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `--dedupe`: the index of the first input with the same URL, when this input repeats it
    /// (and so was not fetched). Not in [`FIELDS`]: the key is left out of the JSON form when
    /// `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<u64>,
    /// Null when the exchange completed; otherwise what went wrong.
    pub error: Option<RecordError>,
}

impl Record {
    /// A record for input `index` that was never fetched, with `error`. `url` is the parsed URL
    /// when there was one.
    pub fn unfetched(
        index: u64,
        input: String,
        url: Option<String>,
        method: &str,
        error: RecordError,
    ) -> Self {
        Record {
            index,
            input,
            url,
            final_url: None,
            method: method.to_owned(),
            status: None,
            ok: false,
            title: None,
            server: None,
            content_type: None,
            content_length: None,
            bytes: 0,
            redirects: 0,
            attempts: 0,
            elapsed_ms: 0.0,
            extract: serde_json::Map::new(),
            headers: None,
            carried: None,
            saved_to: None,
            sha256: None,
            duplicate_of: None,
            error: Some(error),
        }
    }

    /// The record of input `index` that repeats the URL of input `first` (`--dedupe`): not
    /// fetched, not an error.
    pub fn duplicate(
        index: u64,
        input: String,
        url: Option<String>,
        method: &str,
        first: u64,
    ) -> Self {
        let mut rec = Record::unfetched(
            index,
            input,
            url,
            method,
            RecordError::new(ErrorKind::Io, ""),
        );
        rec.error = None;
        rec.ok = true;
        rec.duplicate_of = Some(first);
        rec
    }

    /// The host of the requested URL, if any (for per-host summaries).
    pub fn host(&self) -> Option<&str> {
        let url = self.url.as_deref()?;
        let rest = url.split_once("://")?.1;
        let authority = rest.split(['/', '?', '#']).next()?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        Some(host)
    }
}

/// Reads the flattened [`Carried`] keys of a record: `None` when it has none of them.
fn carried_if_any<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Box<Carried>>, D::Error> {
    let carried = Carried::deserialize(d)?;
    Ok((!carried.is_empty()).then(|| Box::new(carried)))
}

/// What an input carried into its record besides the URL. Each key is present only when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carried {
    /// `--input-format csv`: the row's columns, name → value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<serde_json::Map<String, serde_json::Value>>,
    /// `--input-format jsonl`: the line's `id`, any JSON value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    /// `--input-format jsonl`: the line's `tag`, any JSON value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<serde_json::Value>,
}

impl Carried {
    /// Whether nothing was carried.
    pub fn is_empty(&self) -> bool {
        self.row.is_none() && self.id.is_none() && self.tag.is_none()
    }
}

/// A response's header fields as a record keeps them: names lower-cased, in the order each name
/// first arrived, the values of a repeated name joined with `", "` (RFC 9110 §5.3; `Set-Cookie`
/// too, for one simple rule), values decoded lossily as UTF-8. At most [`Headers::CAP`] bytes of
/// names and values are kept; fields past it are dropped. Serialises as a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, String)>,
    /// Bytes of names and values in `fields`.
    size: usize,
}

impl Headers {
    /// Most bytes of names and values kept (hyper already bounds what a response may send).
    pub const CAP: usize = 64 * 1024;

    /// No fields.
    pub fn new() -> Self {
        Headers::default()
    }

    /// Appends field `name` (lower-cased here) with `value`, unless that would take the kept total
    /// past [`Headers::CAP`]; returns whether it was kept. The caller joins repeated names.
    pub fn push(&mut self, name: &str, value: String) -> bool {
        let size = self.size + name.len() + value.len();
        if size > Self::CAP {
            return false;
        }
        self.size = size;
        self.fields.push((name.to_ascii_lowercase(), value));
        true
    }

    /// The value of field `name` (any case), if it was kept.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (name, value) in &self.fields {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Headers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of header fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut headers = Headers::new();
                while let Some((name, value)) = map.next_entry::<String, String>()? {
                    headers.push(&name, value);
                }
                Ok(headers)
            }
        }
        d.deserialize_map(Fields)
    }
}

/// The names of the record's fields in schema order (for `--fields` validation and CSV headers).
pub const FIELDS: [&str; 18] = [
    "index",
    "input",
    "url",
    "final_url",
    "method",
    "status",
    "ok",
    "title",
    "server",
    "content_type",
    "content_length",
    "bytes",
    "redirects",
    "attempts",
    "elapsed_ms",
    "extract",
    "saved_to",
    "error",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_field_order_matches_schema() {
        let r = Record::unfetched(
            3,
            "ftp://x".into(),
            None,
            "GET",
            RecordError::new(ErrorKind::InvalidInput, "unsupported scheme `ftp`"),
        );
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"index":3,"input":"ftp://x","url":null,"final_url":null,"method":"GET","status":null,"ok":false,"title":null,"server":null,"content_type":null,"content_length":null,"bytes":0,"redirects":0,"attempts":0,"elapsed_ms":0.0,"extract":{},"saved_to":null,"error":{"kind":"invalid_input","message":"unsupported scheme `ftp`"}}"#
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys.len(), FIELDS.len());
    }

    #[test]
    fn a_record_reads_back_from_its_json() {
        let mut r = Record::unfetched(
            7,
            "http://a/x".into(),
            Some("http://a/x".into()),
            "POST",
            RecordError::new(ErrorKind::Timeout, "slow \u{1b}"),
        );
        r.status = Some(200);
        r.elapsed_ms = 12.5;
        r.extract
            .insert("n".into(), serde_json::json!([1, "two", null]));
        let mut h = Headers::new();
        h.push("Server", "nginx".into());
        h.push("X-B", "2".into());
        r.headers = Some(h);
        r.sha256 = Some("ab".repeat(32));
        r.duplicate_of = Some(3);
        let carried = Carried {
            row: None,
            id: Some(serde_json::json!({"k": 1})),
            tag: Some("t".into()),
        };
        r.carried = Some(Box::new(carried));
        let back: Record = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        // Optional keys absent from the JSON read back as absent.
        let plain = Record::duplicate(1, "u".into(), None, "GET", 0);
        let back: Record = serde_json::from_str(&serde_json::to_string(&plain).unwrap()).unwrap();
        assert_eq!(back, plain);
        assert_eq!(back.carried, None);
    }

    #[test]
    fn kind_names_are_snake_case() {
        for k in ErrorKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }

    #[test]
    fn headers_keep_order_lower_case_and_the_cap() {
        let mut h = Headers::new();
        assert!(h.push("Server", "nginx".into()));
        assert!(h.push("x-a", "1, 2".into()));
        assert_eq!(h.get("SERVER"), Some("nginx"));
        assert_eq!(h.get("x-b"), None);
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"server":"nginx","x-a":"1, 2"}"#
        );
        // 6 + 5 + 3 + 4 = 18 bytes kept; a field that would pass the cap is dropped.
        let big = "v".repeat(Headers::CAP - 18 - 5);
        assert!(!h.push("x-big", format!("{big}!")));
        assert!(h.push("x-big", big));
        assert!(!h.push("x", String::new()));
        assert_eq!(h.len(), 3);
        let mut r = Record::unfetched(
            0,
            String::new(),
            None,
            "GET",
            RecordError::new(ErrorKind::Io, "x"),
        );
        r.headers = Some(Headers::new());
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            json.contains(r#""extract":{},"headers":{},"saved_to""#),
            "{json}"
        );
    }

    #[test]
    fn carried_keys_are_present_only_when_given() {
        let mut r = Record::unfetched(
            0,
            String::new(),
            None,
            "GET",
            RecordError::new(ErrorKind::Io, "x"),
        );
        r.carried = Some(Box::new(Carried {
            row: None,
            id: Some(serde_json::json!(7)),
            tag: None,
        }));
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#""extract":{},"id":7,"saved_to""#), "{json}");
        r.carried = Some(Box::new(Carried {
            row: Some(serde_json::Map::from_iter([("a".to_owned(), "1".into())])),
            ..Carried::default()
        }));
        let json = serde_json::to_string(&r).unwrap();
        let want = r#""extract":{},"row":{"a":"1"},"saved_to""#;
        assert!(json.contains(want), "{json}");
        assert!(Carried::default().is_empty());
    }

    #[test]
    fn host_of_record() {
        let mut r = Record::unfetched(
            0,
            String::new(),
            Some("http://u:p@127.0.0.2:8080/a?b".into()),
            "GET",
            RecordError::new(ErrorKind::Connect, "x"),
        );
        assert_eq!(r.host(), Some("127.0.0.2:8080"));
        r.url = None;
        assert_eq!(r.host(), None);
    }
}
