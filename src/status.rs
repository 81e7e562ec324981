//! Sets of HTTP status codes, as `--ok-status`, `--match-status` and `--filter-status` take
//! them: codes (`404`), classes (`3xx`) and ranges (`500-599`), comma-separated.

use std::fmt;

/// A set of status codes from 100 to 999.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusSet {
    /// One bit per code 0–1023.
    bits: [u64; 16],
}

impl StatusSet {
    /// What counts as ok by default: every status below 400.
    pub fn below_400() -> Self {
        let mut s = StatusSet { bits: [0; 16] };
        s.insert_range(100, 399);
        s
    }

    /// Parses `200,3xx,500-599` (blanks around items are ignored).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut s = StatusSet { bits: [0; 16] };
        for item in text.split(',').map(str::trim) {
            let (lo, hi) = parse_item(item).ok_or_else(|| {
                format!("`{item}` is not a status, a class like 4xx, or a range like 500-599")
            })?;
            s.insert_range(lo, hi);
        }
        Ok(s)
    }

    fn insert_range(&mut self, lo: u16, hi: u16) {
        for code in lo..=hi {
            self.bits[usize::from(code / 64)] |= 1 << (code % 64);
        }
    }

    /// Whether `code` is in the set.
    pub fn contains(&self, code: u16) -> bool {
        code < 1024 && self.bits[usize::from(code / 64)] & (1 << (code % 64)) != 0
    }
}

impl fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries((100..1000).filter(|&c| self.contains(c)))
            .finish()
    }
}

/// One item: `(first, last)` code, both within 100–999.
fn parse_item(item: &str) -> Option<(u16, u16)> {
    let code = |s: &str| {
        let n: u16 = s.trim().parse().ok()?;
        (s.trim().len() == 3 && (100..=999).contains(&n)).then_some(n)
    };
    if let Some(class) = item.strip_suffix("xx").or_else(|| item.strip_suffix("XX")) {
        let d: u16 = class
            .parse()
            .ok()
            .filter(|d| (1..=9).contains(d) && class.len() == 1)?;
        return Some((d * 100, d * 100 + 99));
    }
    if let Some((a, b)) = item.split_once('-') {
        let (a, b) = (code(a)?, code(b)?);
        return (a <= b).then_some((a, b));
    }
    code(item).map(|c| (c, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_classes_and_ranges() {
        let s = StatusSet::parse("200, 3xx,500-502").unwrap();
        for c in [200, 300, 301, 399, 500, 501, 502] {
            assert!(s.contains(c), "{c}");
        }
        for c in [100, 199, 201, 299, 400, 404, 499, 503, 999, 1000, 65535] {
            assert!(!s.contains(c), "{c}");
        }
        assert_eq!(
            format!("{:?}", StatusSet::parse("404,500-502").unwrap()),
            "{404, 500, 501, 502}"
        );
        assert!(StatusSet::parse("5XX").unwrap().contains(599));
    }

    #[test]
    fn the_default_ok_set_is_below_400() {
        let s = StatusSet::below_400();
        assert!(s.contains(100) && s.contains(200) && s.contains(399));
        assert!(!s.contains(400) && !s.contains(99) && !s.contains(500));
    }

    #[test]
    fn bad_lists() {
        for bad in [
            "", "20", "2000", "abc", "0xx", "10xx", "x", "500-400", "200,", "099", "1e2",
        ] {
            let e = StatusSet::parse(bad).unwrap_err();
            assert!(e.contains("is not a status"), "{bad}: {e}");
        }
    }
}
