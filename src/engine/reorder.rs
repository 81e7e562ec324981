//! `--keep-order`: records leave in input order. Records that finish early wait here; the
//! engine's window (inputs admitted but not yet emitted) bounds how many can wait.

use std::collections::{HashMap, VecDeque};

use crate::record::Record;

/// Holds records until every input admitted before them has been released. Inputs need not be
/// numbered without gaps (a resumed run skips what its journal has): the order is the order of
/// admission.
pub(crate) struct Reorder {
    enabled: bool,
    /// Indexes admitted and not yet released, in admission order.
    order: VecDeque<u64>,
    held: HashMap<u64, Record>,
}

impl Reorder {
    pub fn new(enabled: bool) -> Self {
        Reorder {
            enabled,
            order: VecDeque::new(),
            held: HashMap::new(),
        }
    }

    /// Notes that input `index` was admitted (before its record can be pushed).
    pub fn admit(&mut self, index: u64) {
        if self.enabled {
            self.order.push_back(index);
        }
    }

    /// Takes a finished record; returns the records that may be emitted now, in order.
    pub fn push(&mut self, rec: Record, out: &mut Vec<Record>) {
        if !self.enabled {
            out.push(rec);
            return;
        }
        if self.order.front() != Some(&rec.index) {
            self.held.insert(rec.index, rec);
            return;
        }
        self.order.pop_front();
        out.push(rec);
        while let Some(r) = self.order.front().and_then(|i| self.held.remove(i)) {
            self.order.pop_front();
            out.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ErrorKind, RecordError};

    fn rec(i: u64) -> Record {
        Record::unfetched(
            i,
            String::new(),
            None,
            "GET",
            RecordError::new(ErrorKind::Io, ""),
        )
    }

    #[test]
    fn releases_in_order() {
        let mut r = Reorder::new(true);
        (0..4).for_each(|i| r.admit(i));
        let mut out = Vec::new();
        r.push(rec(2), &mut out);
        r.push(rec(1), &mut out);
        assert!(out.is_empty());
        r.push(rec(0), &mut out);
        assert_eq!(out.iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1, 2]);
        out.clear();
        r.push(rec(3), &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn follows_admission_order_across_gaps() {
        let mut r = Reorder::new(true);
        [3, 7, 8, 20].into_iter().for_each(|i| r.admit(i));
        let mut out = Vec::new();
        r.push(rec(8), &mut out);
        r.push(rec(7), &mut out);
        assert!(out.is_empty());
        r.push(rec(3), &mut out);
        assert_eq!(out.iter().map(|r| r.index).collect::<Vec<_>>(), [3, 7, 8]);
        r.push(rec(20), &mut out);
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn disabled_passes_through() {
        let mut r = Reorder::new(false);
        let mut out = Vec::new();
        r.push(rec(5), &mut out);
        assert_eq!(out[0].index, 5);
    }
}
