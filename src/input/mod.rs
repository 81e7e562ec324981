//! The input stage: arguments, files and stdin become a lazy stream of [`Request`]s.
//!
//! It knows nothing of HTTP beyond URL syntax. A line that is not a fetchable http(s) URL still
//! becomes a request — one whose target is an error — so that it yields exactly one
//! `invalid_input` record and causes no network I/O.

mod csv;
mod dedupe;
mod filter;
mod jsonl;
mod lines;
mod spec;
mod target;
mod template;

pub use csv::{read_csv_header, CsvRows};
pub use dedupe::Dedupe;
pub use filter::{Admit, Filter};
pub use jsonl::jsonl_request;
pub use lines::{
    count_inputs, read_lines, read_lines_with, spawn_reader, LineSource, ReadEnd, ReadError, Shape,
    MAX_LINE,
};
pub use spec::Spec;
pub use target::parse_target;
pub use template::Template;

use url::Url;

/// One unit of work as the input stage sees it: what the user wrote and the URL it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The input as given (lossily decoded when it was not UTF-8), for the record's `input`.
    pub input: String,
    /// The URL to fetch, or why the input is not one.
    pub target: Result<Url, String>,
    /// Its own method, headers, body and carried values (`--input-format csv` / `jsonl`);
    /// `None` for line input, which pays nothing for it.
    pub spec: Option<Box<Spec>>,
    /// Its 0-based index among the inputs, when the input stage numbered it (it does when it
    /// skips inputs a journal has finished, so the others keep their indexes); `None` lets the
    /// engine number requests in the order they come.
    pub index: Option<u64>,
    /// `--dedupe`: the index of the first input with the same URL. Such a request is not
    /// fetched; its record points at the first.
    pub duplicate_of: Option<u64>,
}

impl Request {
    /// A request for `url`.
    pub fn new(url: Url) -> Self {
        Request {
            input: url.as_str().to_owned(),
            target: Ok(url),
            spec: None,
            index: None,
            duplicate_of: None,
        }
    }

    /// A request parsed from one input line (already stripped of its line end).
    pub fn from_line(line: &[u8]) -> Self {
        match std::str::from_utf8(line) {
            Ok(s) => Request {
                input: s.to_owned(),
                target: parse_target(s),
                spec: None,
                index: None,
                duplicate_of: None,
            },
            Err(_) => Request {
                input: String::from_utf8_lossy(line).into_owned(),
                target: Err("input is not valid UTF-8".to_owned()),
                spec: None,
                index: None,
                duplicate_of: None,
            },
        }
    }

    /// A request for a line that was too long to keep; `prefix` is its start, for the record.
    pub fn too_long(prefix: &[u8]) -> Self {
        let shown = &prefix[..prefix.len().min(256)];
        Request {
            input: format!("{}…", String::from_utf8_lossy(shown)),
            target: Err(format!("input line is longer than {} KiB", MAX_LINE / 1024)),
            spec: None,
            index: None,
            duplicate_of: None,
        }
    }

    /// A request that is not fetchable: `input` goes into the record, `why` into its error.
    pub fn invalid(input: String, why: String) -> Self {
        Request {
            input,
            target: Err(why),
            spec: None,
            index: None,
            duplicate_of: None,
        }
    }
}
