//! Which records are printed: `--match-status` keeps only records whose final status is in a
//! set, `--filter-status` drops those whose status is. Every record still counts in the summary
//! and the exit status; a record without a status (a failure before any response) never
//! matches, so `--match-status` hides it and `--filter-status` keeps it.

use crate::record::Record;
use crate::status::StatusSet;

/// The printing filter built from `--match-status` and `--filter-status`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Print only these statuses.
    pub matching: Option<StatusSet>,
    /// Never print these statuses.
    pub filtered: Option<StatusSet>,
}

impl Selection {
    /// Whether `rec` is printed.
    pub fn shows(&self, rec: &Record) -> bool {
        let is_in = |set: &StatusSet| rec.status.is_some_and(|s| set.contains(s));
        self.matching.as_ref().is_none_or(is_in) && !self.filtered.as_ref().is_some_and(is_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ErrorKind, RecordError};

    fn rec(status: Option<u16>) -> Record {
        let mut r = Record::unfetched(
            0,
            "u".into(),
            None,
            "GET",
            RecordError::new(ErrorKind::Timeout, "t"),
        );
        r.status = status;
        r
    }

    #[test]
    fn match_and_filter() {
        let all = Selection::default();
        assert!(all.shows(&rec(Some(404))) && all.shows(&rec(None)));
        let only = Selection {
            matching: Some(StatusSet::parse("2xx,301").unwrap()),
            filtered: None,
        };
        assert!(only.shows(&rec(Some(200))) && only.shows(&rec(Some(301))));
        assert!(!only.shows(&rec(Some(302))) && !only.shows(&rec(None)));
        let not = Selection {
            matching: None,
            filtered: Some(StatusSet::parse("404,5xx").unwrap()),
        };
        assert!(!not.shows(&rec(Some(404))) && !not.shows(&rec(Some(503))));
        assert!(not.shows(&rec(Some(200))) && not.shows(&rec(None)));
        let both = Selection {
            matching: Some(StatusSet::parse("2xx,4xx").unwrap()),
            filtered: Some(StatusSet::parse("404").unwrap()),
        };
        assert!(both.shows(&rec(Some(403))) && !both.shows(&rec(Some(404))));
    }
}
