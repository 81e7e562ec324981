//! `--keep-order`: records leave in input order. Records that finish early wait here; the
//! engine's window (inputs admitted but not yet emitted) bounds how many can wait.

use std::collections::BTreeMap;

use crate::record::Record;

/// Holds records until every earlier index has been released.
pub(crate) struct Reorder {
    enabled: bool,
    next: u64,
    held: BTreeMap<u64, Record>,
}

impl Reorder {
    pub fn new(enabled: bool) -> Self {
        Reorder {
            enabled,
            next: 0,
            held: BTreeMap::new(),
        }
    }

    /// Takes a finished record; returns the records that may be emitted now, in order.
    pub fn push(&mut self, rec: Record, out: &mut Vec<Record>) {
        if !self.enabled {
            out.push(rec);
            return;
        }
        if rec.index != self.next {
            self.held.insert(rec.index, rec);
            return;
        }
        out.push(rec);
        self.next += 1;
        while let Some(r) = self.held.remove(&self.next) {
            out.push(r);
            self.next += 1;
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
    fn disabled_passes_through() {
        let mut r = Reorder::new(false);
        let mut out = Vec::new();
        r.push(rec(5), &mut out);
        assert_eq!(out[0].index, 5);
    }
}
