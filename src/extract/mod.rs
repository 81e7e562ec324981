//! extract stage
pub mod title;
