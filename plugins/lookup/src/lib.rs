//! `core/lookup`: values that must exist in a unique field of another app.
//!
//! Config, both keys required:
//!
//! ```json
//! {"app": "airports", "field": "faa"}
//! ```
//!
//! The field must be marked unique in the live version of the app, in the
//! same org. A batch costs one host call per lookup field: the distinct
//! values of the column are asked for at once. When that call fails (the app
//! does not exist, say) the batch fails: the plugin could not run. Rule:
//! `not-found`.

use std::collections::BTreeMap;

use serde::Deserialize;
use tessera_sdk::{Rule, Validator, Value, ValueKind, records};

/// The `core/lookup` block type.
pub struct Lookup;

/// A `core/lookup` block's config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupConfig {
    /// The app whose records are searched.
    pub app: String,
    /// The unique field of that app that must hold the value.
    pub field: String,
}

impl Validator for Lookup {
    type Config = LookupConfig;
    const BLOCK_TYPE: &'static str = "core/lookup";
    const DESCRIPTION: &'static str = "A value that must exist in a unique field of another app";

    fn value_kind(_config: &LookupConfig) -> ValueKind {
        ValueKind::Text
    }

    fn check_config(config: &LookupConfig) -> Result<(), String> {
        check_target(config, |app, field| records::exists(app, field, &[]))
    }

    /// Not used: the rule needs the whole column, see `validate_column`.
    fn validate(_config: &LookupConfig, _value: &Value) -> Option<Rule> {
        None
    }

    fn validate_column(
        config: &LookupConfig,
        values: &[&Value],
    ) -> Result<Vec<Option<Rule>>, String> {
        check_column(config, values, |distinct| {
            records::exists(&config.app, &config.field, distinct)
        })
    }
}

tessera_sdk::register!(Lookup);

/// Checks that the config names an app and field, and that the host can
/// look values up there: asking `exists` about no values fails when the app
/// has no live version or the field is not unique. So a broken lookup is
/// refused when the form is saved, not on every submission after.
///
/// # Errors
///
/// A blank name, or the host's reason the target cannot be looked up.
pub fn check_target(
    config: &LookupConfig,
    exists: impl FnOnce(&str, &str) -> Result<Vec<bool>, String>,
) -> Result<(), String> {
    if config.app.trim().is_empty() {
        return Err("app must name an app".to_owned());
    }
    if config.field.trim().is_empty() {
        return Err("field must name a field".to_owned());
    }
    exists(&config.app, &config.field).map(|_| ())
}

/// Checks a column with one call to `exists`, which answers, for each of the
/// distinct texts it is given, whether a record holds it.
///
/// # Errors
///
/// The error of `exists`, or a message when it answers for the wrong number
/// of values.
pub fn check_column(
    config: &LookupConfig,
    values: &[&Value],
    exists: impl FnOnce(&[String]) -> Result<Vec<bool>, String>,
) -> Result<Vec<Option<Rule>>, String> {
    let texts: Vec<Option<&str>> = values.iter().map(|value| text_of(value)).collect();
    let mut distinct: Vec<String> = texts
        .iter()
        .flatten()
        .map(|text| text.to_string())
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.is_empty() {
        return Ok(vec![None; values.len()]);
    }

    let found = exists(&distinct)?;
    if found.len() != distinct.len() {
        return Err(format!(
            "asked about {} values, got {} answers",
            distinct.len(),
            found.len()
        ));
    }
    let found: BTreeMap<&str, bool> = distinct.iter().map(String::as_str).zip(found).collect();

    Ok(texts
        .into_iter()
        .map(|text| {
            let text = text?;
            (!found[text]).then(|| not_found(config, text))
        })
        .collect())
}

fn text_of(value: &Value) -> Option<&str> {
    match value {
        Value::Text(text) if !text.is_empty() => Some(text),
        _ => None,
    }
}

fn not_found(config: &LookupConfig, text: &str) -> Rule {
    Rule::new(
        "not-found",
        format!("“{text}” is not a {} in app {}", config.field, config.app),
    )
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use tessera_sdk::testing;

    use super::*;

    /// FAA location identifiers of real airports (FAA Order JO 7350).
    const AIRPORTS: [&str; 3] = ["JFK", "LAX", "ORD"];

    fn airports() -> LookupConfig {
        // Built directly: parsing through the SDK would also ask the host,
        // which native tests do not have.
        LookupConfig {
            app: "airports".into(),
            field: "faa".into(),
        }
    }

    fn texts(items: &[&str]) -> Vec<Value> {
        items
            .iter()
            .map(|item| Value::Text((*item).to_owned()))
            .collect()
    }

    #[test]
    fn asks_once_with_the_distinct_values_and_maps_answers_back_to_rows() {
        let asked = RefCell::new(Vec::new());
        let column = texts(&["LAX", "XYZ", "JFK", "LAX", "XYZ"]);
        let values: Vec<&Value> = column.iter().collect();
        let rules = check_column(&airports(), &values, |distinct| {
            asked.borrow_mut().push(distinct.to_vec());
            Ok(distinct
                .iter()
                .map(|code| AIRPORTS.contains(&code.as_str()))
                .collect())
        })
        .unwrap();

        assert_eq!(asked.into_inner(), [["JFK", "LAX", "XYZ"]]);
        let codes: Vec<_> = rules
            .iter()
            .map(|rule| rule.as_ref().map(|r| r.code))
            .collect();
        assert_eq!(
            codes,
            [None, Some("not-found"), None, None, Some("not-found")]
        );
    }

    #[test]
    fn the_message_names_the_value_the_field_and_the_app() {
        let column = texts(&["BQN"]);
        let rules = check_column(&airports(), &[&column[0]], |distinct| {
            Ok(vec![false; distinct.len()])
        })
        .unwrap();
        assert_eq!(
            rules[0].as_ref().unwrap().message,
            "“BQN” is not a faa in app airports"
        );
    }

    #[test]
    fn a_failed_host_call_fails_the_column() {
        let column = texts(&["JFK"]);
        let failed = check_column(
            &airports(),
            &[&column[0]],
            |_| Err("no app airports".into()),
        );
        assert_eq!(failed, Err("no app airports".to_owned()));
        let short = check_column(&airports(), &[&column[0]], |_| Ok(vec![]));
        assert!(short.is_err());
    }

    #[test]
    fn a_target_the_host_cannot_look_up_is_a_config_error() {
        let refused = check_target(&airports(), |app, field| {
            Err(format!("block {field:?} of app {app:?} is not unique"))
        });
        assert_eq!(
            refused,
            Err("block \"faa\" of app \"airports\" is not unique".into())
        );
        assert_eq!(check_target(&airports(), |_, _| Ok(vec![])), Ok(()));
    }

    #[test]
    fn a_column_with_no_text_asks_nothing() {
        let rules = check_column(&airports(), &[], |_| panic!("no call expected")).unwrap();
        assert!(rules.is_empty());
    }

    #[test]
    fn outside_the_host_a_batch_fails_instead_of_passing() {
        let found =
            testing::validate::<Lookup>(r#"{"app": "airports", "field": "faa"}"#, &texts(&["JFK"]));
        assert!(found.is_err());
    }

    #[test]
    fn app_and_field_are_required_and_not_blank() {
        assert!(testing::check_config::<Lookup>(r#"{"app": "airports"}"#).is_err());
        assert!(testing::check_config::<Lookup>(r#"{"app": " ", "field": "faa"}"#).is_err());
        assert!(testing::check_config::<Lookup>(r#"{"app": "airports", "field": ""}"#).is_err());
    }
}
