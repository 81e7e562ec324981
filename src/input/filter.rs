//! What the input stage asks before it hands a request on: [`Filter`]s see every input in order,
//! numbered, and may skip it (a journal that has already finished it), mark it (a duplicate of an
//! earlier URL) or refuse the whole run (the input no longer matches the journal).
//!
//! Filters run on the reader thread, so a slow one (SQLite lookups) costs the fetch loop nothing.

use super::Request;

/// What becomes of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Hand it on (to be fetched, or recorded as it is).
    Pass,
    /// Leave it out of this run: it is done already.
    Skip,
}

/// A check every input passes through, in input order.
pub trait Filter: Send {
    /// Decides about input `index` (its 0-based index among the inputs); may change `req`.
    ///
    /// # Errors
    /// A message for the user when the run must stop: no later input is read.
    fn admit(&mut self, index: u64, req: &mut Request) -> Result<Admit, String>;
}

/// Runs `req` through every filter (each sees it, even after one said skip, so that every filter
/// sees every input); skips it if any did.
pub(crate) fn admit_all(
    filters: &mut [Box<dyn Filter>],
    index: u64,
    req: &mut Request,
) -> Result<Admit, String> {
    let mut admit = Admit::Pass;
    for f in filters {
        if f.admit(index, req)? == Admit::Skip {
            admit = Admit::Skip;
        }
    }
    Ok(admit)
}
