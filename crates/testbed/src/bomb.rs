//! Hand-built deflate streams of zeros, for gzip and deflate bombs that cost almost nothing to
//! make even in debug builds (a general compressor takes ~30 s per GiB there).
//!
//! The stream is one dynamic-Huffman block whose codes make every 258-byte run of zeros two zero
//! bits (a length-258 code of one bit and a distance-1 code of one bit), so the output is about
//! 1/1032 of the input, like `gzip -9`, and is mostly a `memset`.

/// Writes bits least-significant first, as deflate packs them.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn new(capacity: usize) -> Self {
        Bits {
            out: Vec::with_capacity(capacity),
            acc: 0,
            n: 0,
        }
    }

    /// `len` bits of `value`, least significant first (header fields, extra bits).
    fn put(&mut self, value: u32, len: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += len;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code of `len` bits, most significant first.
    fn code(&mut self, code: u32, len: u32) {
        let reversed = code.reverse_bits() >> (32 - len);
        self.put(reversed, len);
    }

    /// `count` zero bits.
    fn zeros(&mut self, mut count: u64) {
        while count > 0 && self.n != 0 {
            self.put(0, 1);
            count -= 1;
        }
        let bytes = (count / 8) as usize;
        self.out.resize(self.out.len() + bytes, 0);
        for _ in 0..count % 8 {
            self.put(0, 1);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

// Canonical codes of the block (see `deflate_zeros`).
const LIT_ZERO: (u32, u32) = (0b10, 2);
const END_OF_BLOCK: (u32, u32) = (0b11, 2);
// Code-length alphabet: 18 = "0", 1 = "10", 2 = "11".
const CL_18: (u32, u32) = (0b0, 1);
const CL_1: (u32, u32) = (0b10, 2);
const CL_2: (u32, u32) = (0b11, 2);

/// A raw deflate stream (RFC 1951) that inflates to `len` zero bytes.
pub fn deflate_zeros(len: u64) -> Vec<u8> {
    let mut b = Bits::new((len / 1000) as usize + 64);
    b.put(1, 1); // BFINAL
    b.put(2, 2); // BTYPE = dynamic Huffman
    b.put(286 - 257, 5); // HLIT: literal/length codes 0..=285
    b.put(0, 5); // HDIST: one distance code
    b.put(18 - 4, 4); // HCLEN: 18 code-length code lengths follow
                      // Code-length code lengths in the RFC's order 16,17,18,0,8,7,9,6,10,5,11,4,12,3,13,2,14,1:
                      // symbol 18 gets 1 bit, symbols 1 and 2 get 2 bits.
    for len in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] {
        b.put(len, 3);
    }
    // Literal/length code lengths: 0 -> 2, 1..=255 -> 0, 256 -> 2, 257..=284 -> 0, 285 -> 1.
    // Canonical codes: 285 = "0", 0 = "10", 256 = "11".
    b.code(CL_2.0, CL_2.1);
    for run in [138, 117] {
        b.code(CL_18.0, CL_18.1);
        b.put(run - 11, 7);
    }
    b.code(CL_2.0, CL_2.1);
    b.code(CL_18.0, CL_18.1);
    b.put(28 - 11, 7);
    b.code(CL_1.0, CL_1.1);
    // Distance code lengths: 0 -> 1 (code "0", distance 1).
    b.code(CL_1.0, CL_1.1);

    if len > 0 {
        b.code(LIT_ZERO.0, LIT_ZERO.1);
        let rest = len - 1;
        // Each match (length 258, distance 1) is "0" + "0".
        b.zeros(rest / 258 * 2);
        for _ in 0..rest % 258 {
            b.code(LIT_ZERO.0, LIT_ZERO.1);
        }
    }
    b.code(END_OF_BLOCK.0, END_OF_BLOCK.1);
    b.finish()
}

/// A gzip member (RFC 1952) that inflates to `len` zero bytes.
pub fn gzip_zeros(len: u64) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(&deflate_zeros(len));
    out.extend_from_slice(&crc32_of_zeros(len).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out
}

/// A zlib stream (RFC 1950, HTTP's `deflate`) that inflates to `len` zero bytes.
pub fn zlib_zeros(len: u64) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    out.extend_from_slice(&deflate_zeros(len));
    // Adler-32 of zeros: a stays 1, b grows by 1 per byte.
    let adler = (((len % 65521) as u32) << 16) | 1;
    out.extend_from_slice(&adler.to_be_bytes());
    out
}

/// CRC-32 of `len` zero bytes, by combining CRCs of power-of-two runs.
fn crc32_of_zeros(len: u64) -> u32 {
    const BLOCK: u64 = 1 << 16;
    let mut block = crc32fast::Hasher::new();
    block.update(&[0u8; BLOCK as usize]);
    let mut result = crc32fast::Hasher::new();
    let mut power = block;
    let mut blocks = len / BLOCK;
    while blocks > 0 {
        if blocks & 1 == 1 {
            result.combine(&power);
        }
        let copy = power.clone();
        power.combine(&copy);
        blocks >>= 1;
    }
    result.update(&vec![0u8; (len % BLOCK) as usize]);
    result.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn inflate_gzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn inflates_to_exact_zeros() {
        for len in [0u64, 1, 2, 258, 259, 1000, 65536 * 3 + 17] {
            let out = inflate_gzip(&gzip_zeros(len));
            assert_eq!(out.len() as u64, len, "len {len}");
            assert!(out.iter().all(|&b| b == 0));
            let mut z = Vec::new();
            flate2::read::ZlibDecoder::new(&zlib_zeros(len)[..])
                .read_to_end(&mut z)
                .unwrap();
            assert_eq!(z.len() as u64, len);
        }
    }

    #[test]
    fn ratio_is_about_a_thousand() {
        let len = 8u64 << 20;
        let gz = gzip_zeros(len);
        assert!(gz.len() < (len / 1000) as usize, "{}", gz.len());
        assert_eq!(inflate_gzip(&gz).len() as u64, len);
    }

    #[test]
    fn crc_matches_direct_computation() {
        for len in [0u64, 5, 1 << 16, (1 << 18) + 3] {
            let mut h = crc32fast::Hasher::new();
            h.update(&vec![0u8; len as usize]);
            assert_eq!(crc32_of_zeros(len), h.finalize(), "len {len}");
        }
    }
}
