//! The extract stage: what volley pulls out of each response — the `<title>` (always) and the
//! user's extractors (`-e NAME=KIND:EXPR`: CSS, JSONPath, regex, header).

mod class;
mod css;
pub mod run;
pub mod spec;
pub mod title;

pub use run::Extraction;
pub use spec::{Extractor, Extractors, Kind};
