//! The command line: raw flags ([`args`]), their values ([`values`]) and the validated plan
//! ([`settings`]). The library never sees argv.

pub mod args;
pub mod settings;
pub mod values;
