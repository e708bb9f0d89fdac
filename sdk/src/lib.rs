//! Build validator plugins for Tessera.
//!
//! A Tessera plugin is a WebAssembly component that checks the values of one
//! block type, such as `core/number`. This crate implements the plugin
//! contract (`wit/plugin.wit`, world `validator`) for any type that
//! implements [`Validator`]: a plugin author writes the rules for one value
//! and calls [`register!`] once.
//!
//! The SDK takes care of the plumbing around those rules. It parses each
//! field's JSON config once per call, skips blank values (the host decides
//! whether a block is required), turns each broken [`Rule`] into a violation
//! naming the row and the field, and reports a field whose config does not
//! parse. It does not parse submitted values: the host hands plugins typed
//! [`Value`]s.
//!
//! # Example
//!
//! ```
//! use serde::Deserialize;
//! use tessera_sdk::{Rule, Validator, Value, ValueKind};
//!
//! /// `{"max": 10}`: numbers no greater than `max`.
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! pub struct Config {
//!     max: f64,
//! }
//!
//! pub struct AtMost;
//!
//! impl Validator for AtMost {
//!     type Config = Config;
//!     const BLOCK_TYPE: &'static str = "example/at-most";
//!     const DESCRIPTION: &'static str = "A number no greater than a limit";
//!
//!     fn value_kind(_config: &Config) -> ValueKind {
//!         ValueKind::Number
//!     }
//!
//!     fn validate(config: &Config, value: &Value) -> Option<Rule> {
//!         let Value::Number(number) = value else { return None };
//!         (*number > config.max)
//!             .then(|| Rule::new("max", format!("must be at most {}", config.max)))
//!     }
//! }
//!
//! tessera_sdk::register!(AtMost);
//!
//! # fn main() {
//! let found = tessera_sdk::testing::validate::<AtMost>(
//!     r#"{"max": 10}"#,
//!     &[Value::Number(4.0), Value::Number(12.0), Value::Empty],
//! );
//! let violations = found.unwrap();
//! assert_eq!(violations.len(), 1);
//! assert_eq!((violations[0].row, violations[0].rule.as_str()), (1, "max"));
//! # }
//! ```
//!
//! Build the plugin with `cargo build --release --target wasm32-wasip2`; its
//! crate type must include `cdylib`. Rule logic stays plain Rust, so
//! `cargo test` runs natively; [`testing`] drives a validator the way the host
//! does.

#![deny(missing_docs)]

mod batch;
#[doc(hidden)]
#[allow(missing_docs)]
pub mod bindings;
mod export;
mod kind;
pub mod log;
pub mod records;
pub mod testing;
mod validator;

pub use bindings::tessera::plugin::types::{
    Date, Datetime as DateTime, FileRef, Gps, Scalar, TimeOfDay, Value, ValueKind, Violation,
};
#[doc(hidden)]
pub use export::Plugin;
pub use validator::{Rule, Validator};

/// Exports a [`Validator`] as the plugin's implementation of the contract.
///
/// Call it once, at the top level of the plugin crate, whose crate type must
/// include `cdylib`; see the crate example. The exports exist only in the
/// WebAssembly build: their names (`tessera:plugin/validation@0.1.0#validate`
/// and so on) are not valid symbol names for a native shared library, and
/// nothing native would load them. A native build still checks that the
/// type implements [`Validator`].
#[macro_export]
macro_rules! register {
    ($validator:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type TesseraPlugin = $crate::Plugin<$validator>;
            $crate::bindings::__export_validator!(
                TesseraPlugin with_types_in $crate::bindings
            );
        };
        const _: fn() = $crate::Plugin::<$validator>::registered;
    };
}
