//! Diagnostics a plugin writes to the host's log.
//!
//! Messages are for the people who run the server, not for the person who
//! filled in the form; keep submitted values out of them. Outside the host
//! (in native unit tests) they go to standard error.

use crate::bindings::tessera::plugin::log::Level;

/// Logs a step-by-step detail.
pub fn trace(message: &str) {
    write(Level::Trace, message);
}

/// Logs a detail useful when debugging the plugin.
pub fn debug(message: &str) {
    write(Level::Debug, message);
}

/// Logs a lifecycle event.
pub fn info(message: &str) {
    write(Level::Info, message);
}

/// Logs something that worked, but worse than it should.
pub fn warn(message: &str) {
    write(Level::Warn, message);
}

/// Logs a failure a person needs to look at.
pub fn error(message: &str) {
    write(Level::Error, message);
}

#[cfg(target_arch = "wasm32")]
fn write(level: Level, message: &str) {
    crate::bindings::tessera::plugin::log::log(level, message);
}

#[cfg(not(target_arch = "wasm32"))]
fn write(level: Level, message: &str) {
    eprintln!("{level:?}: {message}");
}
