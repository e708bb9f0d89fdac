//! The trait a plugin implements, and the broken rule it reports.

use serde::de::DeserializeOwned;

use crate::{Value, ValueKind};

/// One broken rule: a stable code and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// A stable code a program can match on, such as `max-length`.
    pub code: &'static str,
    /// What is wrong, for the person who filled in the form, such as
    /// "must be at most 3 characters long".
    pub message: String,
}

impl Rule {
    /// A broken rule with its code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The rules of one block type.
///
/// The SDK calls these functions; a plugin never sees the batch, the JSON or
/// the bindings. Blank values, [`Value::Empty`] and an empty list, never
/// reach [`validate`](Self::validate) or
/// [`validate_column`](Self::validate_column), and neither do values of
/// another kind than [`value_kind`](Self::value_kind) says: the SDK reports
/// those as a `value-kind` violation.
pub trait Validator {
    /// A block's config, parsed from the JSON an admin saved. Use
    /// `#[serde(deny_unknown_fields)]` so a typo in a key is an error.
    type Config: DeserializeOwned;

    /// The name admins pick in the designer, such as `core/number`.
    const BLOCK_TYPE: &'static str;

    /// One line for the designer's palette.
    const DESCRIPTION: &'static str;

    /// Which kind of value a block with this config holds.
    fn value_kind(config: &Self::Config) -> ValueKind;

    /// Checks what deserialising cannot, such as `min` not above `max`.
    ///
    /// # Errors
    ///
    /// A message for the admin who wrote the config. The default accepts
    /// every config that parses.
    fn check_config(config: &Self::Config) -> Result<(), String> {
        let _ = config;
        Ok(())
    }

    /// Checks one value; `None` when it keeps every rule.
    fn validate(config: &Self::Config, value: &Value) -> Option<Rule>;

    /// Checks a whole column of one field at once, for rules that need every
    /// value together (one host call per batch, say). Returns one entry per
    /// value, in order. The default calls [`validate`](Self::validate) on
    /// each value.
    ///
    /// # Errors
    ///
    /// A message when the plugin could not check the column at all, for
    /// example because a host call failed. The whole batch then fails.
    fn validate_column(
        config: &Self::Config,
        values: &[&Value],
    ) -> Result<Vec<Option<Rule>>, String> {
        Ok(values
            .iter()
            .map(|value| Self::validate(config, value))
            .collect())
    }
}
