//! The command line: raw flags ([`args`]), their values ([`values`]), the request body and
//! cookies ([`body`]) and the validated plan ([`settings`]). The library never sees argv.

pub mod args;
pub mod body;
pub mod settings;
pub mod values;
