//! Byte classes for the tokenizer's inner loops: which bytes are HTML whitespace or end a tag
//! name or an attribute, looked up in one 256-entry table, and a `memchr` tuned for the short
//! distances between markup bytes. Shared by the title scanner and the CSS matcher.

use memchr::memchr;

/// Byte classes for the tokenizer's inner loops (bit flags, so a loop can stop at any of several).
pub(super) const WS: u8 = 1;
/// `/`.
pub(super) const SLASH: u8 = 2;
/// `=`.
pub(super) const EQ: u8 = 4;
/// `>`.
pub(super) const GT: u8 = 8;

/// The class of every byte: ASCII whitespace as the HTML tokenizer sees it (CR is normalised to
/// LF before it), `/`, `=`, `>`, or none.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    table[b' ' as usize] = WS;
    table[b'\t' as usize] = WS;
    table[b'\n' as usize] = WS;
    table[b'\r' as usize] = WS;
    table[0x0c] = WS;
    table[b'/' as usize] = SLASH;
    table[b'=' as usize] = EQ;
    table[b'>' as usize] = GT;
    table
};

/// The length of the run of bytes at the start of `s` in none of the classes `stop`.
#[inline]
pub(super) fn run_len(s: &[u8], stop: u8) -> usize {
    s.iter()
        .position(|&b| CLASS[usize::from(b)] & stop != 0)
        .unwrap_or(s.len())
}

/// `memchr`, but a short look first: in markup the next `<`, `>` or quote is usually a few bytes
/// away, where testing eight bytes at a time in a register beats `memchr`'s per-call set-up.
#[inline]
pub(super) fn find(needle: u8, s: &[u8]) -> Option<usize> {
    const NEAR: usize = 32;
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = ONES * u64::from(needle);
    let near = s.len().min(NEAR);
    let mut at = 0;
    while at + 8 <= near {
        let mut word = [0u8; 8];
        word.copy_from_slice(&s[at..at + 8]);
        // A zero byte of `x` is a match; the lowest flagged byte is exact (little-endian order).
        let x = u64::from_le_bytes(word) ^ pattern;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    if let Some(pos) = s[at..near].iter().position(|&b| b == needle) {
        return Some(at + pos);
    }
    if s.len() <= NEAR {
        return None;
    }
    memchr(needle, &s[NEAR..]).map(|pos| pos + NEAR)
}

/// ASCII whitespace as the HTML tokenizer sees it.
#[inline]
pub(super) fn is_space(b: u8) -> bool {
    CLASS[usize::from(b)] == WS
}

/// Whether `b` ends a tag name.
#[inline]
pub(super) fn ends_name(b: u8) -> bool {
    CLASS[usize::from(b)] & (WS | SLASH | GT) != 0
}
