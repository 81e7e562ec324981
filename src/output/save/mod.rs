//! Saved bodies (`--save DIR`): where each body goes ([`name`]) and how it gets there safely
//! ([`store`]): inside DIR only, never through a symlink, under a temporary name until whole.

pub mod disposition;
pub mod download;
pub mod name;
pub mod store;
