//! Content encodings (gzip, deflate, br, zstd) and decompression bombs.
//!
//! Bombs are compressed streams of zeros, generated on first use and cached for the whole
//! process (one copy per kind and size), so a test suite pays for each one once.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;

/// A content coding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    /// `gzip` (RFC 1952).
    Gzip,
    /// `deflate`, i.e. zlib-wrapped deflate (RFC 1950), as HTTP defines it.
    Deflate,
    /// `br` (Brotli).
    Brotli,
    /// `zstd`.
    Zstd,
}

impl Coding {
    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
        }
    }
}

/// Largest bomb we generate, in MiB of decompressed zeros.
pub const MAX_BOMB_MB: u64 = 16 * 1024;

/// `data` encoded with `coding`.
pub fn encode(coding: Coding, data: &[u8]) -> Vec<u8> {
    let mut enc = Encoder::new(coding);
    enc.write(data);
    enc.finish()
}

/// `mb` MiB of zeros encoded with `coding` (cached; `mb` is capped at [`MAX_BOMB_MB`]).
///
/// Gzip and deflate bombs are built by hand (`bomb.rs`) and cost little. Brotli and zstd run the
/// real encoders the first time: per GiB, brotli takes ~1 s in release and ~25 s in debug
/// builds, zstd well under a second. Call it from a blocking thread.
pub fn bomb(coding: Coding, mb: u64) -> Bytes {
    type Cache = Mutex<HashMap<(Coding, u64), Arc<OnceLock<Bytes>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let mb = mb.min(MAX_BOMB_MB);
    let cell = {
        let mut map = CACHE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(map.entry((coding, mb)).or_default())
    };
    cell.get_or_init(|| {
        let len = mb << 20;
        match coding {
            Coding::Gzip => Bytes::from(crate::bomb::gzip_zeros(len)),
            Coding::Deflate => Bytes::from(crate::bomb::zlib_zeros(len)),
            Coding::Brotli | Coding::Zstd => {
                let zeros = vec![0u8; 1 << 20];
                let mut enc = Encoder::new_fast(coding);
                for _ in 0..mb {
                    enc.write(&zeros);
                }
                Bytes::from(enc.finish())
            }
        }
    })
    .clone()
}

/// A streaming encoder writing into memory.
enum Encoder {
    Gzip(GzEncoder<Vec<u8>>),
    Deflate(ZlibEncoder<Vec<u8>>),
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

impl Encoder {
    fn new(coding: Coding) -> Self {
        Self::with_levels(coding, Compression::default(), 5, 3)
    }

    /// Levels picked for speed on long runs of zeros (ratios stay near the format's limit).
    fn new_fast(coding: Coding) -> Self {
        Self::with_levels(coding, Compression::fast(), 1, 1)
    }

    fn with_levels(coding: Coding, flate: Compression, br: u32, zstd_level: i32) -> Self {
        match coding {
            Coding::Gzip => Encoder::Gzip(GzEncoder::new(Vec::new(), flate)),
            Coding::Deflate => Encoder::Deflate(ZlibEncoder::new(Vec::new(), flate)),
            Coding::Brotli => Encoder::Brotli(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                64 * 1024,
                br,
                22,
            ))),
            Coding::Zstd => Encoder::Zstd(
                zstd::stream::write::Encoder::new(Vec::new(), zstd_level).expect("zstd encoder"),
            ),
        }
    }

    fn write(&mut self, data: &[u8]) {
        let res = match self {
            Encoder::Gzip(e) => e.write_all(data),
            Encoder::Deflate(e) => e.write_all(data),
            Encoder::Brotli(e) => e.write_all(data),
            Encoder::Zstd(e) => e.write_all(data),
        };
        res.expect("writing to memory cannot fail");
    }

    fn finish(self) -> Vec<u8> {
        let res = match self {
            Encoder::Gzip(e) => e.finish(),
            Encoder::Deflate(e) => e.finish(),
            Encoder::Brotli(mut e) => e.flush().map(|()| e.into_inner()),
            Encoder::Zstd(e) => e.finish(),
        };
        res.expect("writing to memory cannot fail")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn round_trips() {
        let data = b"<html><head><title>x</title></head></html>".repeat(10);
        let gz = encode(Coding::Gzip, &data);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);

        let z = encode(Coding::Deflate, &data);
        out.clear();
        flate2::read::ZlibDecoder::new(&z[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);

        let br = encode(Coding::Brotli, &data);
        out.clear();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);

        let zs = encode(Coding::Zstd, &data);
        assert_eq!(zstd::decode_all(&zs[..]).unwrap(), data);
    }

    #[test]
    fn small_bombs_expand() {
        for coding in [Coding::Gzip, Coding::Deflate, Coding::Brotli, Coding::Zstd] {
            let b = bomb(coding, 2);
            assert!(b.len() < 64 * 1024, "{coding:?}: {}", b.len());
            let out = match coding {
                Coding::Gzip => {
                    let mut out = Vec::new();
                    flate2::read::GzDecoder::new(&b[..])
                        .read_to_end(&mut out)
                        .unwrap();
                    out
                }
                Coding::Deflate => {
                    let mut out = Vec::new();
                    flate2::read::ZlibDecoder::new(&b[..])
                        .read_to_end(&mut out)
                        .unwrap();
                    out
                }
                Coding::Brotli => {
                    let mut out = Vec::new();
                    brotli::Decompressor::new(&b[..], 4096)
                        .read_to_end(&mut out)
                        .unwrap();
                    out
                }
                _ => zstd::decode_all(&b[..]).unwrap(),
            };
            assert_eq!(out.len(), 2 << 20);
            assert!(out.iter().all(|&x| x == 0));
        }
    }
}
