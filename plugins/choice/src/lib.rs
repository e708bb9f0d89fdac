//! `core/choice`: one or several options from a fixed list.
//!
//! Config, `options` required:
//!
//! ```json
//! {"options": ["A", "B", "C"], "multiple": true, "min_selected": 1, "max_selected": 2}
//! ```
//!
//! A single choice holds text; with `"multiple": true` the block holds a
//! list of texts, and `min_selected` and `max_selected` bound how many are
//! chosen. Options match exactly, case included. Rules, checked in this
//! order: `option`, `duplicate`, `min-selected`, `max-selected`.

mod config;

use tessera_sdk::{Rule, Scalar, Validator, Value, ValueKind};

pub use config::ChoiceConfig;

/// The `core/choice` block type.
pub struct Choice;

impl Validator for Choice {
    type Config = ChoiceConfig;
    const BLOCK_TYPE: &'static str = "core/choice";
    const DESCRIPTION: &'static str = "One or several options from a fixed list";

    fn value_kind(config: &ChoiceConfig) -> ValueKind {
        match config.multiple {
            true => ValueKind::TextList,
            false => ValueKind::Text,
        }
    }

    fn check_config(config: &ChoiceConfig) -> Result<(), String> {
        config.check()
    }

    fn validate(config: &ChoiceConfig, value: &Value) -> Option<Rule> {
        match value {
            Value::Text(chosen) => check(config, &[chosen.as_str()]),
            Value::List(items) => {
                let chosen: Vec<&str> = items.iter().filter_map(text_of).collect();
                check(config, &chosen)
            }
            _ => None,
        }
    }
}

tessera_sdk::register!(Choice);

fn text_of(item: &Scalar) -> Option<&str> {
    match item {
        Scalar::Text(text) => Some(text),
        _ => None,
    }
}

/// The first rule the `chosen` options break, if any.
pub fn check(config: &ChoiceConfig, chosen: &[&str]) -> Option<Rule> {
    if let Some(unknown) = chosen
        .iter()
        .find(|option| !config.options.iter().any(|o| o == *option))
    {
        let allowed = config.options.join(", ");
        return Some(Rule::new(
            "option",
            format!("“{unknown}” is not one of the allowed options: {allowed}"),
        ));
    }
    if let Some(twice) = first_repeat(chosen) {
        return Some(Rule::new(
            "duplicate",
            format!("“{twice}” is chosen more than once"),
        ));
    }
    let count = chosen.len();
    if let Some(min) = config.min_selected
        && count < min
    {
        return Some(Rule::new(
            "min-selected",
            format!("must have at least {} chosen", options(min)),
        ));
    }
    match config.max_selected {
        Some(max) if count > max => Some(Rule::new(
            "max-selected",
            format!("must have at most {} chosen", options(max)),
        )),
        _ => None,
    }
}

fn first_repeat<'a>(chosen: &[&'a str]) -> Option<&'a str> {
    let mut seen = std::collections::BTreeSet::new();
    chosen.iter().copied().find(|option| !seen.insert(*option))
}

fn options(count: usize) -> String {
    match count {
        1 => "1 option".to_owned(),
        _ => format!("{count} options"),
    }
}

#[cfg(test)]
mod tests {
    use tessera_sdk::testing;

    use super::*;

    fn config(json: &str) -> ChoiceConfig {
        testing::config::<Choice>(json).unwrap()
    }

    fn list(items: &[&str]) -> Value {
        Value::List(
            items
                .iter()
                .map(|item| Scalar::Text((*item).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_single_choice_must_be_one_of_the_options() {
        let abc = config(r#"{"options": ["A", "B", "C"]}"#);
        assert_eq!(Choice::validate(&abc, &Value::Text("B".into())), None);
        let rule = Choice::validate(&abc, &Value::Text("XYZ".into())).unwrap();
        assert_eq!(rule.code, "option");
        assert_eq!(
            rule.message,
            "“XYZ” is not one of the allowed options: A, B, C"
        );
    }

    #[test]
    fn options_match_exactly() {
        let abc = config(r#"{"options": ["A", "B", "C"]}"#);
        assert_eq!(check(&abc, &["a"]).map(|rule| rule.code), Some("option"));
    }

    #[test]
    fn multiple_choices_are_a_text_list_without_repeats() {
        let json = r#"{"options": ["A", "B", "C"], "multiple": true}"#;
        assert_eq!(
            testing::check_config::<Choice>(json),
            Ok(ValueKind::TextList)
        );
        let abc = config(json);
        assert_eq!(Choice::validate(&abc, &list(&["A", "C"])), None);
        let rule = Choice::validate(&abc, &list(&["A", "C", "A"])).unwrap();
        assert_eq!(
            (rule.code, rule.message.as_str()),
            ("duplicate", "“A” is chosen more than once")
        );
    }

    #[test]
    fn the_number_chosen_is_bounded() {
        let two = r#"{"options": ["A", "B", "C"], "multiple": true,
            "min_selected": 2, "max_selected": 2}"#;
        let two = config(two);
        let few = Choice::validate(&two, &list(&["A"])).unwrap();
        assert_eq!(
            (few.code, few.message.as_str()),
            ("min-selected", "must have at least 2 options chosen")
        );
        let many = Choice::validate(&two, &list(&["A", "B", "C"])).unwrap();
        assert_eq!(
            (many.code, many.message.as_str()),
            ("max-selected", "must have at most 2 options chosen")
        );
    }

    #[test]
    fn an_unknown_option_is_reported_before_the_count() {
        let one = config(r#"{"options": ["A", "B"], "multiple": true, "max_selected": 1}"#);
        assert_eq!(
            check(&one, &["A", "Z"]).map(|rule| rule.code),
            Some("option")
        );
    }
}
