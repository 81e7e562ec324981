//! Reading a response body as it streams: decoding, the `--max-body` cap (counted after
//! decoding), and the title scanner and the `-e` extractors fed on the way. Nothing here keeps
//! the body, except JSON and regex extractors, which need it whole (bounded by `--max-body`).

use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::extract::title::{charset_param, is_html, TitleScanner};
use crate::extract::Extraction;
use crate::fetch::decode::{DecodeError, Decoder};
use crate::fetch::error::classify;
use crate::record::{ErrorKind, RecordError};

/// What is known about the title so far.
#[derive(Default)]
enum Title {
    /// No body byte seen yet: whether it is HTML is not decided.
    #[default]
    Undecided,
    Scanning(Box<TitleScanner>),
    Found(Option<String>),
}

/// The body's progress; it lives outside the exchange's future so that a timeout still leaves
/// the bytes and title read so far.
#[derive(Default)]
pub struct BodyProgress {
    /// Decoded bytes accepted.
    pub bytes: u64,
    title: Title,
    /// The `-e` extractors' work, when there are any.
    pub extraction: Option<Box<Extraction>>,
}

impl BodyProgress {
    /// The title found (or scanned so far).
    pub fn take_title(&mut self) -> Option<String> {
        match std::mem::take(&mut self.title) {
            Title::Undecided => None,
            Title::Scanning(s) => s.finish(),
            Title::Found(t) => t,
        }
    }

    /// The extractors' values (empty without extractors).
    pub fn take_extract(&mut self) -> serde_json::Map<String, serde_json::Value> {
        self.extraction
            .take()
            .map(|x| x.finish())
            .unwrap_or_default()
    }

    fn accept(&mut self, piece: &[u8], cap: u64, content_type: Option<&str>) -> bool {
        let room = cap.saturating_sub(self.bytes);
        let (piece, fits) = if piece.len() as u64 > room {
            (&piece[..room as usize], false)
        } else {
            (piece, true)
        };
        self.bytes += piece.len() as u64;
        if let Some(x) = &mut self.extraction {
            x.feed(piece);
        }
        if let Title::Undecided = self.title {
            if piece.is_empty() {
                return fits;
            }
            self.title = if is_html(content_type, piece) {
                Title::Scanning(Box::new(TitleScanner::new(
                    content_type.and_then(charset_param),
                )))
            } else {
                Title::Found(None)
            };
        }
        if let Title::Scanning(scanner) = &mut self.title {
            if scanner.feed(piece) {
                let Title::Scanning(s) = std::mem::take(&mut self.title) else {
                    unreachable!("matched above")
                };
                self.title = Title::Found(s.finish());
            }
        }
        fits
    }
}

/// Reads `body` to its end (or to `max_body` decoded bytes), updating `progress`.
pub async fn read_body(
    mut body: Incoming,
    content_encoding: Option<&str>,
    content_type: Option<&str>,
    max_body: u64,
    progress: &mut BodyProgress,
) -> Result<(), RecordError> {
    let mut decoder =
        Decoder::new(content_encoding).map_err(|m| RecordError::new(ErrorKind::Protocol, m))?;
    let too_large = || {
        RecordError::new(
            ErrorKind::BodyTooLarge,
            format!("body is larger than --max-body ({max_body} bytes after decoding)"),
        )
    };
    let decode_error = |e: DecodeError| match e {
        DecodeError::Stopped => too_large(),
        DecodeError::Corrupt(e) => RecordError::new(
            ErrorKind::Protocol,
            format!(
                "cannot decode body ({}): {e}",
                content_encoding.unwrap_or("")
            ),
        ),
    };
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| classify(&e))?;
        if let Ok(data) = frame.into_data() {
            decoder
                .push(&data, &mut |p| progress.accept(p, max_body, content_type))
                .map_err(decode_error)?;
        }
    }
    decoder
        .finish(&mut |p| progress.accept(p, max_body, content_type))
        .map_err(decode_error)
}

/// Reads and discards up to `limit` bytes of a body we do not need (a redirect's), so the
/// connection can go back to the pool; gives up quietly past the limit.
pub async fn discard_body(mut body: Incoming, limit: usize) {
    let mut seen = 0;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(d) = frame.data_ref() {
            seen += d.len();
            if seen > limit {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_accepts_exactly_max_body_bytes() {
        let mut p = BodyProgress::default();
        assert!(p.accept(b"12345", 8, Some("text/plain")));
        assert!(!p.accept(b"6789", 8, Some("text/plain")));
        assert_eq!(p.bytes, 8);
        assert_eq!(p.take_title(), None);
    }

    #[test]
    fn title_is_scanned_for_html_only() {
        let mut p = BodyProgress::default();
        p.accept(b"<html><title>Hi</title>", 100, Some("text/html"));
        assert_eq!(p.take_title(), Some("Hi".to_owned()));
        let mut p = BodyProgress::default();
        p.accept(b"<title>Hi</title>", 100, Some("application/json"));
        assert_eq!(p.take_title(), None);
    }
}
