//! The hash of an input line stored in the journal, which tells a resumed run whether the line at
//! an index is still the line that was fetched.

/// FNV-1a 64 offset basis.
const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64 prime.
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// The journal's hash of one input line: FNV-1a 64 over the exact bytes given, reinterpreted as
/// an `i64` (SQLite integers are signed).
///
/// The value is stored on disk, so it is **stable across volley versions and platforms**: never
/// change the algorithm without a journal schema version bump. Callers pass the line as the input
/// stage yields it (without its line terminator).
#[must_use]
pub fn input_hash(line: &[u8]) -> i64 {
    let mut h = OFFSET;
    for &b in line {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h as i64
}
