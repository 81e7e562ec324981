//! What an input may say about its own request besides the URL (`--input-format csv` and
//! `jsonl`): a method, headers, a body, and values carried into its record. Boxed inside
//! [`Request`](super::Request) so that plain line input pays one null pointer for it.

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::record::Carried;

/// One input's own request settings; each overrides the run's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spec {
    /// The method, when the input names one.
    pub method: Option<Method>,
    /// Headers sent after (and in place of same-named) run headers. The usual credential rules
    /// apply: `Authorization` and `Cookie` are dropped on a redirect to another origin.
    pub headers: HeaderMap,
    /// The body, when the input gives one (POST unless a method is given).
    pub body: Option<Bytes>,
    /// Values carried into the record.
    pub carried: Carried,
}

impl Eq for Spec {}
