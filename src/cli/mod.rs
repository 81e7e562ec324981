//! The command line: raw flags ([`args`]), their values ([`values`]), the request body and
//! cookies ([`body`]), the input shape ([`input`]) and the validated plan ([`settings`]). The library never sees argv.

pub mod args;
pub mod body;
pub mod input;
pub mod journal;
pub mod settings;
pub mod values;
