//! Content decoding (gzip, deflate, br, zstd, stacked) with bounded memory.
//!
//! Decoders are push-style writers chained innermost-last, ending in a scratch buffer. Input is
//! fed in small slices and the scratch buffer is drained after each one, so even a decompression
//! bomb (1000:1 for deflate, far more for brotli and zstd) never holds more than a few hundred KiB
//! of decoded bytes at a time: the caller's byte cap stops it long before it grows.

use std::io::{self, Write};

/// How much compressed input is decoded before the decoded bytes are handed on.
const SLICE: usize = 512;
/// More stacked encodings than this is hostile, not useful.
const MAX_STAGES: usize = 4;

/// One decoding step in a chain; the innermost stage is the scratch buffer.
trait Stage: Write + Send {
    /// Flushes what the stage still holds into the next stage, then finishes that one.
    fn finish(&mut self) -> io::Result<()>;
    /// The scratch buffer at the end of the chain.
    fn scratch(&mut self) -> &mut Vec<u8>;
}

struct Scratch(Vec<u8>);

impl Write for Scratch {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Stage for Scratch {
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn scratch(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

type Inner = Box<dyn Stage>;

impl Stage for flate2::write::MultiGzDecoder<Inner> {
    fn finish(&mut self) -> io::Result<()> {
        self.try_finish()?;
        self.get_mut().finish()
    }
    fn scratch(&mut self) -> &mut Vec<u8> {
        self.get_mut().scratch()
    }
}

impl Stage for flate2::write::ZlibDecoder<Inner> {
    fn finish(&mut self) -> io::Result<()> {
        self.try_finish()?;
        self.get_mut().finish()
    }
    fn scratch(&mut self) -> &mut Vec<u8> {
        self.get_mut().scratch()
    }
}

impl Stage for flate2::write::DeflateDecoder<Inner> {
    fn finish(&mut self) -> io::Result<()> {
        self.try_finish()?;
        self.get_mut().finish()
    }
    fn scratch(&mut self) -> &mut Vec<u8> {
        self.get_mut().scratch()
    }
}

impl Stage for brotli_decompressor::DecompressorWriter<Inner> {
    fn finish(&mut self) -> io::Result<()> {
        self.close()?;
        self.get_mut().finish()
    }
    fn scratch(&mut self) -> &mut Vec<u8> {
        self.get_mut().scratch()
    }
}

impl Stage for zstd::stream::write::Decoder<'static, Inner> {
    fn finish(&mut self) -> io::Result<()> {
        self.flush()?;
        self.get_mut().finish()
    }
    fn scratch(&mut self) -> &mut Vec<u8> {
        self.get_mut().scratch()
    }
}

/// HTTP's `deflate` is meant to be zlib-wrapped, but some servers send raw deflate; the first two
/// bytes tell which (as browsers and curl do).
enum Deflate {
    Sniffing(Vec<u8>, Option<Inner>),
    Zlib(flate2::write::ZlibDecoder<Inner>),
    Raw(flate2::write::DeflateDecoder<Inner>),
}

impl Deflate {
    fn decide(&mut self) -> io::Result<()> {
        if let Deflate::Sniffing(head, inner) = self {
            let inner = inner.take().expect("deflate stage decided once");
            let zlib = head.len() >= 2
                && head[0] & 0x0f == 8
                && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0;
            let head = std::mem::take(head);
            *self = if zlib {
                Deflate::Zlib(flate2::write::ZlibDecoder::new(inner))
            } else {
                Deflate::Raw(flate2::write::DeflateDecoder::new(inner))
            };
            self.write_all(&head)?;
        }
        Ok(())
    }
}

impl Write for Deflate {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Deflate::Sniffing(head, _) => {
                let take = (2 - head.len()).min(buf.len());
                head.extend_from_slice(&buf[..take]);
                if head.len() == 2 {
                    self.decide()?;
                }
                Ok(take)
            }
            Deflate::Zlib(d) => d.write(buf),
            Deflate::Raw(d) => d.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Deflate::Sniffing(..) => Ok(()),
            Deflate::Zlib(d) => d.flush(),
            Deflate::Raw(d) => d.flush(),
        }
    }
}

impl Stage for Deflate {
    fn finish(&mut self) -> io::Result<()> {
        self.decide()?;
        match self {
            Deflate::Sniffing(..) => unreachable!("decided above"),
            Deflate::Zlib(d) => Stage::finish(d),
            Deflate::Raw(d) => Stage::finish(d),
        }
    }
    fn scratch(&mut self) -> &mut Vec<u8> {
        match self {
            Deflate::Sniffing(_, inner) => inner
                .as_mut()
                .expect("undecided stage has its inner")
                .scratch(),
            Deflate::Zlib(d) => d.get_mut().scratch(),
            Deflate::Raw(d) => d.get_mut().scratch(),
        }
    }
}

/// Why decoding stopped early.
#[derive(Debug)]
pub enum DecodeError {
    /// The bytes are not valid for the declared encoding (or the stream was cut short).
    Corrupt(io::Error),
    /// The sink refused more bytes (the caller's cap was reached).
    Stopped,
}

/// Decodes one response body according to its `Content-Encoding`.
pub struct Decoder {
    chain: Option<Inner>,
}

impl Decoder {
    /// A decoder for a `Content-Encoding` header value (e.g. `"gzip"`, `"gzip, br"`). Unknown
    /// codings are passed through undecoded, as browsers do; more than four stacked codings is
    /// an error.
    pub fn new(content_encoding: Option<&str>) -> Result<Decoder, String> {
        let mut codings: Vec<String> = Vec::new();
        for c in content_encoding.unwrap_or("").split(',') {
            let c = c.trim().to_ascii_lowercase();
            match c.as_str() {
                "" | "identity" => {}
                "gzip" | "x-gzip" | "deflate" | "br" | "zstd" => codings.push(c),
                _ => {}
            }
        }
        if codings.len() > MAX_STAGES {
            return Err(format!(
                "{} stacked content encodings (at most {MAX_STAGES} are decoded)",
                codings.len()
            ));
        }
        if codings.is_empty() {
            return Ok(Decoder { chain: None });
        }
        // Listed in the order they were applied: the last one applied is decoded first, so it
        // is the outermost writer.
        let mut chain: Inner = Box::new(Scratch(Vec::with_capacity(16 * 1024)));
        for c in &codings {
            chain = match c.as_str() {
                "gzip" | "x-gzip" => Box::new(flate2::write::MultiGzDecoder::new(chain)),
                "deflate" => Box::new(Deflate::Sniffing(Vec::with_capacity(2), Some(chain))),
                "br" => Box::new(brotli_decompressor::DecompressorWriter::new(chain, 4096)),
                "zstd" => Box::new(
                    zstd::stream::write::Decoder::new(chain)
                        .map_err(|e| format!("zstd decoder: {e}"))?,
                ),
                _ => unreachable!("filtered above"),
            };
        }
        Ok(Decoder { chain: Some(chain) })
    }

    /// Whether bytes pass through unchanged.
    pub fn is_identity(&self) -> bool {
        self.chain.is_none()
    }

    /// Decodes `input`, handing decoded bytes to `sink` in bounded pieces; `sink` returns false
    /// to stop (its cap was reached).
    pub fn push(
        &mut self,
        input: &[u8],
        sink: &mut impl FnMut(&[u8]) -> bool,
    ) -> Result<(), DecodeError> {
        let Some(chain) = self.chain.as_mut() else {
            return if sink(input) {
                Ok(())
            } else {
                Err(DecodeError::Stopped)
            };
        };
        for piece in input.chunks(SLICE) {
            chain.write_all(piece).map_err(DecodeError::Corrupt)?;
            drain(chain.as_mut(), sink)?;
        }
        Ok(())
    }

    /// Ends the body: flushes what the decoders still hold and checks the stream was complete.
    pub fn finish(&mut self, sink: &mut impl FnMut(&[u8]) -> bool) -> Result<(), DecodeError> {
        if let Some(chain) = self.chain.as_mut() {
            chain.finish().map_err(DecodeError::Corrupt)?;
            drain(chain.as_mut(), sink)?;
        }
        Ok(())
    }
}

fn drain(chain: &mut dyn Stage, sink: &mut impl FnMut(&[u8]) -> bool) -> Result<(), DecodeError> {
    let scratch = chain.scratch();
    if scratch.is_empty() {
        return Ok(());
    }
    let keep_going = sink(scratch);
    scratch.clear();
    if keep_going {
        Ok(())
    } else {
        Err(DecodeError::Stopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode_all(enc: &str, data: &[u8], cap: usize) -> (Vec<u8>, Result<(), DecodeError>) {
        let mut d = Decoder::new(Some(enc)).unwrap();
        let mut out = Vec::new();
        let mut max_piece = 0;
        let mut sink = |b: &[u8]| {
            max_piece = max_piece.max(b.len());
            out.extend_from_slice(b);
            out.len() <= cap
        };
        let mut res = Ok(());
        for chunk in data.chunks(1000) {
            res = d.push(chunk, &mut sink);
            if res.is_err() {
                break;
            }
        }
        if res.is_ok() {
            res = d.finish(&mut sink);
        }
        assert!(
            max_piece <= 1024 * 1024,
            "a decoded piece was {max_piece} bytes"
        );
        (out, res)
    }

    #[test]
    fn identity_and_unknown_pass_through() {
        assert!(Decoder::new(None).unwrap().is_identity());
        assert!(Decoder::new(Some("identity")).unwrap().is_identity());
        assert!(Decoder::new(Some("utf-8")).unwrap().is_identity());
        let (out, res) = decode_all("", b"hello", 100);
        assert_eq!(out, b"hello");
        assert!(res.is_ok());
    }

    #[test]
    fn gzip_round_trip() {
        let (out, res) = decode_all("gzip", &gzip(b"<title>Hi</title>"), 100);
        assert!(res.is_ok());
        assert_eq!(out, b"<title>Hi</title>");
    }

    #[test]
    fn deflate_zlib_and_raw() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"zlib body").unwrap();
        let (out, res) = decode_all("deflate", &z.finish().unwrap(), 100);
        assert!(res.is_ok());
        assert_eq!(out, b"zlib body");
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        r.write_all(b"raw body").unwrap();
        let (out, res) = decode_all("deflate", &r.finish().unwrap(), 100);
        assert!(res.is_ok());
        assert_eq!(out, b"raw body");
    }

    #[test]
    fn zstd_round_trip() {
        let z = zstd::encode_all(&b"zstd body"[..], 3).unwrap();
        let (out, res) = decode_all("zstd", &z, 100);
        assert!(res.is_ok());
        assert_eq!(out, b"zstd body");
    }

    #[test]
    fn stacked_encodings_decode_in_reverse() {
        let twice = gzip(&gzip(b"inner"));
        let (out, res) = decode_all("gzip, gzip", &twice, 100);
        assert!(res.is_ok());
        assert_eq!(out, b"inner");
        let z = zstd::encode_all(&gzip(b"mixed")[..], 3).unwrap();
        let (out, res) = decode_all("gzip, zstd", &z, 100);
        assert!(res.is_ok());
        assert_eq!(out, b"mixed");
        assert!(Decoder::new(Some("gzip,gzip,gzip,gzip,gzip")).is_err());
    }

    #[test]
    fn bomb_stops_at_cap_in_small_pieces() {
        let bomb = gzip(&vec![0u8; 64 * 1024 * 1024]);
        let (out, res) = decode_all("gzip", &bomb, 1024 * 1024);
        assert!(matches!(res, Err(DecodeError::Stopped)));
        assert!(out.len() <= 1024 * 1024 + 600 * 1024, "kept {}", out.len());
    }

    #[test]
    fn corrupt_and_truncated_gzip_are_errors() {
        let (_, res) = decode_all("gzip", b"this is not gzip at all", 100);
        assert!(matches!(res, Err(DecodeError::Corrupt(_))));
        let g = gzip(&[7u8; 10000]);
        let (_, res) = decode_all("gzip", &g[..g.len() / 2], 100_000);
        assert!(matches!(res, Err(DecodeError::Corrupt(_))), "{res:?}");
    }
}
