//! Reading a response body as it streams: decoding, the `--max-body` cap (counted after
//! decoding), and the title scanner and the `-e` extractors fed on the way; with `--save`, every
//! piece goes on to the file (and `--hash` sees the same bytes). Nothing here keeps the body,
//! except JSON and regex extractors, which need it whole (bounded by `--max-body`).

use http_body_util::BodyExt;
use hyper::body::Incoming;

use sha2::{Digest, Sha256};

use crate::extract::title::{charset_param, is_html, TitleScanner};
use crate::extract::Extraction;
use crate::fetch::decode::{DecodeError, Decoder};
use crate::fetch::error::classify;
use crate::output::save::download::{Download, Saving};
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
/// the bytes and title read so far (and the file being saved, to keep or drop).
#[derive(Default)]
pub struct BodyProgress {
    /// Bytes of the body: decoded ones within `--max-body`, or, when saving, those written to
    /// the file by this response.
    pub bytes: u64,
    /// Decoded bytes shown to the title scanner and the extractors (at most `--max-body`).
    inspected: u64,
    title: Title,
    /// The `-e` extractors' work, when there are any.
    pub extraction: Option<Box<Extraction>>,
    /// The file the body goes to (`--save`, a final 2xx response).
    pub download: Option<Box<Download>>,
    /// The body's SHA-256 so far (`--hash sha256`): of the saved bytes when saving.
    pub digest: Option<Box<Sha256>>,
    /// Why the body stopped being read early, when not `--max-body` (a write failed, or
    /// `--max-filesize`).
    failure: Option<RecordError>,
}

/// What bounds a body and where it goes, for [`read_body`].
pub struct BodyPlan<'a> {
    /// The response's `Content-Encoding`.
    pub content_encoding: Option<&'a str>,
    /// The response's `Content-Type`.
    pub content_type: Option<&'a str>,
    /// `--max-body`: the most decoded bytes the title and extractors see; without a file to
    /// save to, a longer body ends in `body_too_large`.
    pub max_body: u64,
    /// `--save` settings, when the body goes to [`BodyProgress::download`].
    pub saving: Option<&'a Saving>,
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

    /// The digest as `sha256` hex, when one was asked for.
    pub fn take_digest(&mut self) -> Option<String> {
        let d = self.digest.take()?;
        Some(d.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A continued download's earlier bytes: hashed, and shown to the title scanner and the
    /// extractors (within `max_body`), as if they had come again.
    pub fn replay_prefix(&mut self, plan: &BodyPlan<'_>) -> Result<(), RecordError> {
        let (Some(mut d), Some(saving)) = (self.download.take(), plan.saving) else {
            return Ok(());
        };
        let result = if d.prefix_len() > 0 {
            d.read_prefix(saving, |piece| {
                if let Some(h) = &mut self.digest {
                    h.update(piece);
                }
                self.inspect(piece, plan.max_body, plan.content_type);
            })
        } else {
            Ok(())
        };
        self.download = Some(d);
        result
    }

    /// Takes a piece of the decoded body; false stops reading (see [`read_body`]).
    fn accept(&mut self, piece: &[u8], plan: &BodyPlan<'_>) -> bool {
        let before = self.inspected;
        let fits = self.inspect(piece, plan.max_body, plan.content_type);
        match (&self.download, plan.saving) {
            (Some(_), Some(saving)) if saving.raw => fits,
            (Some(_), Some(saving)) => self.keep(piece, saving),
            _ => {
                let kept = &piece[..(self.inspected - before) as usize];
                self.bytes += kept.len() as u64;
                if let Some(h) = &mut self.digest {
                    h.update(kept);
                }
                fits
            }
        }
    }

    /// Feeds the title scanner and the extractors what fits within `cap` bytes; false once
    /// the body went past it.
    fn inspect(&mut self, piece: &[u8], cap: u64, content_type: Option<&str>) -> bool {
        let room = cap.saturating_sub(self.inspected);
        let (piece, fits) = if piece.len() as u64 > room {
            (&piece[..room as usize], false)
        } else {
            (piece, true)
        };
        self.inspected += piece.len() as u64;
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

    /// Writes `piece` to the file (and the digest); false, with the reason kept, when the write
    /// fails or the file would pass `--max-filesize`.
    fn keep(&mut self, piece: &[u8], saving: &Saving) -> bool {
        let Some(d) = &mut self.download else {
            return true;
        };
        if d.len() + piece.len() as u64 > saving.max_filesize {
            self.failure = Some(RecordError::new(
                ErrorKind::BodyTooLarge,
                format!(
                    "body is larger than --max-filesize ({} bytes)",
                    saving.max_filesize
                ),
            ));
            return false;
        }
        if let Err(e) = d.write(saving, piece) {
            self.failure = Some(e);
            return false;
        }
        self.bytes += piece.len() as u64;
        if let Some(h) = &mut self.digest {
            h.update(piece);
        }
        true
    }
}

/// Reads `body` to its end, updating `progress`: without a file, up to `max_body` decoded
/// bytes (more is `body_too_large`); with one, all of it into the file (decoded, or as it came
/// with `--raw`), up to `--max-filesize`.
pub async fn read_body(
    mut body: Incoming,
    plan: &BodyPlan<'_>,
    progress: &mut BodyProgress,
) -> Result<(), RecordError> {
    let content_encoding = plan.content_encoding;
    let mut decoder =
        Decoder::new(content_encoding).map_err(|m| RecordError::new(ErrorKind::Protocol, m))?;
    let raw = plan.saving.filter(|s| s.raw && progress.download.is_some());
    // With --raw the file takes the wire bytes; decoding (for the title and extractors) stops
    // at --max-body without ending the read.
    let mut decoding = true;
    let max_body = plan.max_body;
    let stopped = |p: &mut BodyProgress| {
        p.failure.take().unwrap_or_else(|| {
            RecordError::new(
                ErrorKind::BodyTooLarge,
                format!("body is larger than --max-body ({max_body} bytes after decoding)"),
            )
        })
    };
    let corrupt = |e| {
        RecordError::new(
            ErrorKind::Protocol,
            format!(
                "cannot decode body ({}): {e}",
                content_encoding.unwrap_or("")
            ),
        )
    };
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| classify(&e))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if let Some(saving) = raw {
            if !progress.keep(&data, saving) {
                return Err(stopped(progress));
            }
        }
        if decoding {
            match decoder.push(&data, &mut |p| progress.accept(p, plan)) {
                Ok(()) => {}
                Err(DecodeError::Stopped) if raw.is_some() => decoding = false,
                Err(DecodeError::Stopped) => return Err(stopped(progress)),
                Err(DecodeError::Corrupt(e)) => return Err(corrupt(e)),
            }
        }
    }
    if !decoding {
        return Ok(());
    }
    match decoder.finish(&mut |p| progress.accept(p, plan)) {
        Ok(()) => Ok(()),
        Err(DecodeError::Stopped) if raw.is_some() => Ok(()),
        Err(DecodeError::Stopped) => Err(stopped(progress)),
        Err(DecodeError::Corrupt(e)) => Err(corrupt(e)),
    }
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
        let plan = BodyPlan {
            content_encoding: None,
            content_type: Some("text/plain"),
            max_body: 8,
            saving: None,
        };
        let mut p = BodyProgress::default();
        assert!(p.accept(b"12345", &plan));
        assert!(!p.accept(b"6789", &plan));
        assert_eq!(p.bytes, 8);
        assert_eq!(p.take_title(), None);
    }

    #[test]
    fn title_is_scanned_for_html_only() {
        let mut p = BodyProgress::default();
        p.inspect(b"<html><title>Hi</title>", 100, Some("text/html"));
        assert_eq!(p.take_title(), Some("Hi".to_owned()));
        let mut p = BodyProgress::default();
        p.inspect(b"<title>Hi</title>", 100, Some("application/json"));
        assert_eq!(p.take_title(), None);
    }
}
