//! Reading inputs as lines, streamed: a file of ten million URLs is never held in memory.
//!
//! A reader thread turns each source into [`Request`]s and hands them to the engine through a
//! bounded channel, so reading runs ahead of fetching by at most the channel's capacity. Blank
//! lines and `#` comments are skipped, CRLF and a leading UTF-8 BOM are handled, and a line longer
//! than [`MAX_LINE`] becomes an `invalid_input` request without being kept whole.

use std::io::{self, BufRead, BufReader, Read};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::csv::CsvRows;
use super::filter::{admit_all, Admit, Filter};
use super::jsonl::jsonl_request;
use super::template::Template;
use super::Request;

/// The longest input line volley accepts (64 KiB); longer lines are `invalid_input`.
pub const MAX_LINE: usize = 64 * 1024;

/// Where inputs come from.
pub enum LineSource {
    /// Each string is one input (command-line arguments); nothing is skipped.
    Args(Vec<String>),
    /// One input per line of an open file or of stdin.
    Reader(Box<dyn Read + Send>),
}

/// How inputs are read (`--input-format`).
pub enum Shape {
    /// One input per line: a URL, or a value for the `--template` when there is one.
    Lines(Option<Template>),
    /// One JSON request object per line.
    Jsonl,
    /// CSV rows after a header row that was already read (see
    /// [`read_csv_header`](super::read_csv_header)); argument sources are not CSV.
    Csv(CsvRows),
}

/// How the reader thread ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadEnd {
    /// Inputs read (and numbered), skipped ones included.
    pub inputs: u64,
    /// Whether that was every input (false when the consumer stopped reading first).
    pub complete: bool,
}

/// Why the reader thread stopped early.
#[derive(Debug)]
pub enum ReadError {
    /// Reading a source failed.
    Io(io::Error),
    /// A [`Filter`] refused the run (the input does not match the journal): a usage error.
    Refused(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => e.fmt(f),
            ReadError::Refused(msg) => f.write_str(msg),
        }
    }
}

/// Starts a thread that reads `sources` in order, numbers the inputs, runs each through
/// `filters` and sends one [`Request`] per input they pass (with its `index` set) into a channel
/// of `capacity`. A read error or a refusal ends the stream; the thread returns it, and cancels
/// `refused` on a refusal so the run can stop at once.
pub fn spawn_reader(
    sources: Vec<LineSource>,
    capacity: usize,
    shape: Shape,
    mut filters: Vec<Box<dyn Filter>>,
    refused: CancellationToken,
) -> (
    mpsc::Receiver<Request>,
    std::thread::JoinHandle<Result<ReadEnd, ReadError>>,
) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let handle = std::thread::Builder::new()
        .name("volley-input".into())
        .spawn(move || {
            let make = |line: &[u8]| match &shape {
                Shape::Lines(Some(t)) => t.request(line),
                Shape::Lines(None) | Shape::Csv(_) => Request::from_line(line),
                Shape::Jsonl => jsonl_request(line),
            };
            let mut index: u64 = 0;
            let mut refusal: Option<String> = None;
            let mut send = |mut req: Request| {
                let i = index;
                index += 1;
                match admit_all(&mut filters, i, &mut req) {
                    Ok(Admit::Skip) => true,
                    Ok(Admit::Pass) => {
                        req.index = Some(i);
                        tx.blocking_send(req).is_ok()
                    }
                    Err(msg) => {
                        refusal = Some(msg);
                        false
                    }
                }
            };
            let mut complete = true;
            for source in sources {
                let sent = match source {
                    LineSource::Args(args) => args.iter().all(|a| send(make(a.as_bytes()))),
                    LineSource::Reader(r) => match &shape {
                        Shape::Csv(rows) => {
                            let mut r = BufReader::with_capacity(64 * 1024, r);
                            rows.read(&mut r, &mut send).map_err(ReadError::Io)?
                        }
                        _ => read_lines_with(r, &make, &mut send).map_err(ReadError::Io)?,
                    },
                };
                if !sent {
                    complete = false;
                    break;
                }
            }
            if let Some(msg) = refusal {
                refused.cancel();
                return Err(ReadError::Refused(msg));
            }
            Ok(ReadEnd {
                inputs: index,
                complete,
            })
        })
        .expect("spawning the input thread");
    (rx, handle)
}

/// Reads `reader` line by line, calling `emit` for every input line; stops early (returning
/// `Ok(false)`) when `emit` returns false.
pub fn read_lines<R: Read>(reader: R, emit: impl FnMut(Request) -> bool) -> io::Result<bool> {
    read_lines_with(reader, &Request::from_line, emit)
}

/// [`read_lines`] with `make` turning each input line into its request.
pub fn read_lines_with<R: Read>(
    reader: R,
    make: &dyn Fn(&[u8]) -> Request,
    mut emit: impl FnMut(Request) -> bool,
) -> io::Result<bool> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut line: Vec<u8> = Vec::with_capacity(256);
    let mut too_long = false;
    let mut first = true;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            // The last line may have no line end.
            if (!line.is_empty() || too_long)
                && !finish_line(make, &mut line, &mut too_long, &mut first, &mut emit)
            {
                return Ok(false);
            }
            return Ok(true);
        }
        let (chunk, ends_line) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > MAX_LINE {
                let room = MAX_LINE - line.len();
                line.extend_from_slice(&chunk[..room]);
                too_long = true;
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = ends_line.unwrap_or(buf.len());
        reader.consume(used);
        if ends_line.is_some()
            && !finish_line(make, &mut line, &mut too_long, &mut first, &mut emit)
        {
            return Ok(false);
        }
    }
}

/// Counts the lines of `reader` that are inputs (not blank, not `#` comments), for a progress
/// total; much cheaper than reading them as requests.
pub fn count_inputs<R: Read>(reader: R) -> io::Result<u64> {
    let mut reader = BufReader::with_capacity(256 * 1024, reader);
    let mut count = 0;
    // Whether the current line has shown a non-blank byte yet, and whether that was `#`.
    let mut seen = false;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(count);
        }
        let len = buf.len();
        let mut rest = buf;
        while !rest.is_empty() {
            if !seen {
                match rest
                    .iter()
                    .position(|b| !b.is_ascii_whitespace() || *b == b'\n')
                {
                    Some(i) if rest[i] == b'\n' => {
                        rest = &rest[i + 1..];
                        continue;
                    }
                    Some(i) => {
                        seen = true;
                        if rest[i] != b'#'
                            && !(count == 0 && rest[i..].starts_with(b"\xEF\xBB\xBF#"))
                        {
                            count += 1;
                        }
                        rest = &rest[i..];
                    }
                    None => break,
                }
            }
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    seen = false;
                    rest = &rest[i + 1..];
                }
                None => break,
            }
        }
        reader.consume(len);
    }
}

/// Turns the collected bytes of one line into a request (or skips it); false means stop.
fn finish_line(
    make: &dyn Fn(&[u8]) -> Request,
    line: &mut Vec<u8>,
    too_long: &mut bool,
    first: &mut bool,
    emit: &mut impl FnMut(Request) -> bool,
) -> bool {
    let mut bytes: &[u8] = line;
    if std::mem::take(first) {
        bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    }
    let keep_going = if std::mem::take(too_long) {
        emit(Request::too_long(bytes))
    } else {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let trimmed = bytes.trim_ascii();
        if trimmed.is_empty() || trimmed[0] == b'#' {
            true
        } else {
            emit(make(trimmed))
        }
    };
    line.clear();
    keep_going
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(data: &[u8]) -> Vec<Request> {
        let mut out = Vec::new();
        read_lines(data, |r| {
            out.push(r);
            true
        })
        .unwrap();
        out
    }

    fn inputs(data: &[u8]) -> Vec<String> {
        collect(data).into_iter().map(|r| r.input).collect()
    }

    #[test]
    fn skips_blank_and_comment_lines() {
        let got = inputs(b"http://a/\n\n   \n# c\n  # indented\nhttp://b/\n");
        assert_eq!(got, ["http://a/", "http://b/"]);
    }

    #[test]
    fn handles_crlf_bom_and_missing_final_newline() {
        let got = inputs(b"\xEF\xBB\xBFhttp://a/\r\nhttp://b/\r\nhttp://c/");
        assert_eq!(got, ["http://a/", "http://b/", "http://c/"]);
        let reqs = collect(b"\xEF\xBB\xBFhttp://a/\r\n");
        assert_eq!(reqs[0].target.as_ref().unwrap().as_str(), "http://a/");
    }

    #[test]
    fn invalid_utf8_is_one_invalid_request() {
        let reqs = collect(b"http://a/\xff\nhttp://b/\n");
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].target, Err("input is not valid UTF-8".to_owned()));
        assert_eq!(reqs[0].input, "http://a/\u{fffd}");
        assert!(reqs[1].target.is_ok());
    }

    #[test]
    fn overlong_line_is_one_invalid_request_and_the_next_line_survives() {
        let mut data = b"http://x/".to_vec();
        data.extend(std::iter::repeat_n(b'a', MAX_LINE * 3));
        data.extend_from_slice(b"\nhttp://b/\n");
        let reqs = collect(&data);
        assert_eq!(reqs.len(), 2);
        assert_eq!(
            reqs[0].target,
            Err("input line is longer than 64 KiB".to_owned())
        );
        assert!(reqs[0].input.starts_with("http://x/aaa"));
        assert!(reqs[0].input.len() < 300);
        assert_eq!(reqs[1].input, "http://b/");
    }

    #[test]
    fn a_line_of_exactly_max_len_is_kept() {
        let mut data = b"http://x/".to_vec();
        data.extend(std::iter::repeat_n(b'a', MAX_LINE - 9));
        data.push(b'\n');
        let reqs = collect(&data);
        assert_eq!(reqs.len(), 1);
        assert!(reqs[0].target.is_ok());
    }

    #[test]
    fn counts_what_would_be_read() {
        let data = b"http://a/\n\n  # c\n \thttp://b/\r\n#x\nhttp://c/";
        assert_eq!(count_inputs(&data[..]).unwrap(), inputs(data).len() as u64);
        assert_eq!(count_inputs(&b""[..]).unwrap(), 0);
        assert_eq!(count_inputs(&b"\n\n"[..]).unwrap(), 0);
    }

    #[test]
    fn stops_when_told() {
        let mut n = 0;
        let more = read_lines(&b"http://a/\nhttp://b/\nhttp://c/\n"[..], |_| {
            n += 1;
            n < 2
        })
        .unwrap();
        assert!(!more);
        assert_eq!(n, 2);
    }
}
