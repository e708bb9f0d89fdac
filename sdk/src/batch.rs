//! The contract's `check-config` and `validate`, for any [`Validator`].
//!
//! Everything here is plain Rust over the generated types, so it runs in
//! native unit tests as well as inside the component.

use crate::bindings::exports::tessera::plugin::validation::{Batch, Field};
use crate::{Rule, Validator, Value, ValueKind, Violation, kind};

/// Parses a field's JSON config and checks it with the plugin's own checks.
pub(crate) fn parse_config<V: Validator>(json: &str) -> Result<V::Config, String> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let config = serde_path_to_error::deserialize(&mut deserializer).map_err(describe)?;
    V::check_config(&config)?;
    Ok(config)
}

/// Names the config key that broke (`max_length: invalid type: ...`). The
/// JSON position is left out: the admin never typed this JSON as one line.
fn describe(error: serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = error.path().to_string();
    let message = error.inner().to_string();
    let message = message.split(" at line ").next().unwrap_or(&message);
    if path == "." {
        message.to_string()
    } else {
        format!("{path}: {message}")
    }
}

/// The contract's `check-config`: the config's problem, or the value kind.
pub(crate) fn check_config<V: Validator>(json: &str) -> Result<ValueKind, String> {
    parse_config::<V>(json).map(|config| V::value_kind(&config))
}

/// The contract's `validate`: every broken rule in the batch, by row.
pub(crate) fn validate<V: Validator>(batch: &Batch) -> Result<Vec<Violation>, String> {
    check_row_widths(batch)?;

    let mut violations = Vec::new();
    for (column, field) in batch.fields.iter().enumerate() {
        let values = batch.rows.iter().map(|row| &row[column]);
        violations.extend(validate_field::<V>(field, values)?);
    }

    // Field by field is how the work is done; row by row is how people read.
    violations.sort_by_key(|violation| violation.row);
    Ok(violations)
}

fn check_row_widths(batch: &Batch) -> Result<(), String> {
    let width = batch.fields.len();
    match batch.rows.iter().position(|row| row.len() != width) {
        Some(row) => Err(format!(
            "row {row} holds {} values for {width} fields",
            batch.rows[row].len()
        )),
        None => Ok(()),
    }
}

/// Checks one field's column: kinds first, then the plugin's rules.
fn validate_field<'a, V: Validator>(
    field: &Field,
    column: impl Iterator<Item = &'a Value>,
) -> Result<Vec<Violation>, String> {
    let config = parse_config::<V>(&field.config)
        .map_err(|error| format!("field “{}” has an invalid config: {error}", field.key))?;
    let kind = V::value_kind(&config);

    let mut violations = Vec::new();
    let mut rows = Vec::new();
    let mut values = Vec::new();
    for (row, value) in (0u32..).zip(column) {
        if kind::is_blank(value) {
            continue;
        }
        if kind::holds(kind, value) {
            rows.push(row);
            values.push(value);
        } else {
            let rule = Rule::new("value-kind", format!("must be {}", kind::noun(kind)));
            violations.push(violation(row, field, rule));
        }
    }

    let rules = V::validate_column(&config, &values)
        .map_err(|error| format!("field “{}”: {error}", field.key))?;
    if rules.len() != values.len() {
        return Err(format!(
            "field “{}”: the plugin checked {} of {} values",
            field.key,
            rules.len(),
            values.len()
        ));
    }

    let broken = rows.into_iter().zip(rules);
    violations.extend(broken.filter_map(|(row, rule)| Some(violation(row, field, rule?))));
    Ok(violations)
}

fn violation(row: u32, field: &Field, rule: Rule) -> Violation {
    Violation {
        row,
        field: field.key.clone(),
        rule: rule.code.to_owned(),
        message: rule.message,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    /// Text no longer than `max` characters, or a whole column that fails.
    struct Short;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ShortConfig {
        max: usize,
        #[serde(default)]
        fail: bool,
    }

    impl Validator for Short {
        type Config = ShortConfig;
        const BLOCK_TYPE: &'static str = "test/short";
        const DESCRIPTION: &'static str = "Short text";

        fn value_kind(_config: &ShortConfig) -> ValueKind {
            ValueKind::Text
        }

        fn check_config(config: &ShortConfig) -> Result<(), String> {
            match config.max {
                0 => Err("max must be at least 1".into()),
                _ => Ok(()),
            }
        }

        fn validate(config: &ShortConfig, value: &Value) -> Option<Rule> {
            let Value::Text(text) = value else {
                return None;
            };
            (text.chars().count() > config.max).then(|| Rule::new("max-length", "too long"))
        }

        fn validate_column(
            config: &ShortConfig,
            values: &[&Value],
        ) -> Result<Vec<Option<Rule>>, String> {
            if config.fail {
                return Err("the lookup failed".into());
            }
            Ok(values
                .iter()
                .map(|value| Self::validate(config, value))
                .collect())
        }
    }

    fn field(key: &str, config: &str) -> Field {
        Field {
            key: key.into(),
            config: config.into(),
        }
    }

    fn text(value: &str) -> Value {
        Value::Text(value.into())
    }

    #[test]
    fn check_config_reports_the_serde_message_for_an_unknown_key() {
        let error = check_config::<Short>(r#"{"max": 3, "maxx": 4}"#).unwrap_err();
        assert!(error.contains("unknown field `maxx`"), "{error}");
    }

    #[test]
    fn check_config_runs_the_plugins_own_checks() {
        assert_eq!(
            check_config::<Short>(r#"{"max": 0}"#),
            Err("max must be at least 1".into())
        );
        assert_eq!(check_config::<Short>(r#"{"max": 2}"#), Ok(ValueKind::Text));
    }

    #[test]
    fn violations_name_row_and_field_and_are_ordered_by_row() {
        let batch = Batch {
            fields: vec![
                field("code", r#"{"max": 2}"#),
                field("name", r#"{"max": 3}"#),
            ],
            rows: vec![
                vec![text("abc"), text("Ann")],
                vec![text("ab"), text("Bobby")],
                vec![text("abcd"), text("Cy")],
            ],
        };
        let found: Vec<_> = validate::<Short>(&batch)
            .unwrap()
            .into_iter()
            .map(|v| (v.row, v.field, v.rule))
            .collect();
        let expected = [(0, "code"), (1, "name"), (2, "code")]
            .map(|(row, field)| (row, field.to_owned(), "max-length".to_owned()));
        assert_eq!(found, expected);
    }

    #[test]
    fn blank_values_are_skipped_and_other_kinds_are_reported() {
        let batch = Batch {
            fields: vec![field("code", r#"{"max": 1}"#)],
            rows: vec![
                vec![Value::Empty],
                vec![Value::List(vec![])],
                vec![Value::Number(7.0)],
            ],
        };
        let found = validate::<Short>(&batch).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].row, found[0].rule.as_str()), (2, "value-kind"));
        assert_eq!(found[0].message, "must be text");
    }

    #[test]
    fn a_field_with_a_broken_config_fails_the_batch_and_is_named() {
        let batch = Batch {
            fields: vec![field("code", "{")],
            rows: vec![vec![text("a")]],
        };
        let error = validate::<Short>(&batch).unwrap_err();
        assert!(
            error.starts_with("field “code” has an invalid config"),
            "{error}"
        );
    }

    #[test]
    fn a_column_that_cannot_be_checked_fails_the_batch() {
        let batch = Batch {
            fields: vec![field("code", r#"{"max": 1, "fail": true}"#)],
            rows: vec![vec![text("a")]],
        };
        assert_eq!(
            validate::<Short>(&batch),
            Err("field “code”: the lookup failed".into())
        );
    }

    #[test]
    fn a_row_of_the_wrong_width_fails_the_batch() {
        let batch = Batch {
            fields: vec![field("code", r#"{"max": 1}"#)],
            rows: vec![vec![text("a")], vec![text("a"), text("b")]],
        };
        assert_eq!(
            validate::<Short>(&batch),
            Err("row 1 holds 2 values for 1 fields".into())
        );
    }
}
