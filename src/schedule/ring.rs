//! The hosts that may start a job, ordered for fairness: the next start goes to a host running
//! the fewest jobs (max-min fairness), round-robin among hosts running as many. A host whose
//! requests hang therefore collects few slots while other hosts have work, instead of
//! accumulating every slot that frees up.
//!
//! Entries are removed lazily: the caller remembers at which level it queued each host and
//! skips entries that no longer match, so moving a host between levels is O(1).

use std::collections::VecDeque;

use super::HostKey;

/// Hosts by level (jobs running).
#[derive(Debug, Default)]
pub struct Ring {
    levels: Vec<VecDeque<HostKey>>,
    /// No level below this one has entries.
    lowest: usize,
    entries: usize,
}

impl Ring {
    /// Queues `host` at `level`, behind the hosts already there.
    pub fn push(&mut self, level: usize, host: HostKey) {
        if self.levels.len() <= level {
            self.levels.resize_with(level + 1, VecDeque::new);
        }
        self.levels[level].push_back(host);
        self.lowest = self.lowest.min(level);
        self.entries += 1;
    }

    /// The first host at the lowest level, with its level (possibly a stale entry).
    pub fn pop(&mut self) -> Option<(usize, HostKey)> {
        while self.lowest < self.levels.len() {
            if let Some(host) = self.levels[self.lowest].pop_front() {
                self.entries -= 1;
                return Some((self.lowest, host));
            }
            self.lowest += 1;
        }
        self.lowest = 0;
        None
    }

    /// Whether there are no entries (stale ones included).
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.levels.iter_mut().for_each(VecDeque::clear);
        self.lowest = 0;
        self.entries = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn lowest_level_first_then_in_order() {
        let mut r = Ring::default();
        r.push(2, Arc::from("busy"));
        r.push(0, Arc::from("a"));
        r.push(1, Arc::from("b"));
        r.push(0, Arc::from("c"));
        let order: Vec<(usize, String)> = std::iter::from_fn(|| r.pop())
            .map(|(l, h)| (l, h.to_string()))
            .collect();
        assert_eq!(
            order,
            [
                (0, "a".into()),
                (0, "c".into()),
                (1, "b".into()),
                (2, "busy".into())
            ]
        );
        assert!(r.is_empty());
        r.push(3, Arc::from("x"));
        r.push(1, Arc::from("y"));
        assert_eq!(r.pop().map(|e| e.0), Some(1));
        r.clear();
        assert!(r.pop().is_none());
    }
}
