//! Drives a [`Validator`] the way the host does, for native unit tests.
//!
//! These functions run the same code as the component's exports: the config
//! is parsed from JSON, blank values are skipped and values of another kind
//! are reported.

use crate::bindings::exports::tessera::plugin::validation::{Batch, Field};
use crate::{Validator, Value, ValueKind, Violation, batch};

/// The key of the one field that [`validate`] checks.
pub const FIELD: &str = "field";

/// Parses and checks a JSON config, as the host's `check-config` does.
///
/// # Errors
///
/// The message an admin would see for a config that does not parse or that
/// [`Validator::check_config`] rejects.
pub fn config<V: Validator>(json: &str) -> Result<V::Config, String> {
    batch::parse_config::<V>(json)
}

/// The host's `check-config`: the kind of value the block holds.
///
/// # Errors
///
/// As for [`config`].
pub fn check_config<V: Validator>(json: &str) -> Result<ValueKind, String> {
    batch::check_config::<V>(json)
}

/// Validates `values` as one field (named [`FIELD`]) whose row `i` holds
/// `values[i]`, as the host's `validate` does.
///
/// # Errors
///
/// When the config is broken or the validator could not check the column.
pub fn validate<V: Validator>(config: &str, values: &[Value]) -> Result<Vec<Violation>, String> {
    let batch = Batch {
        fields: vec![Field {
            key: FIELD.to_owned(),
            config: config.to_owned(),
        }],
        rows: values.iter().map(|value| vec![value.clone()]).collect(),
    };
    batch::validate::<V>(&batch)
}
