//! `core/text`: free text with length limits and a pattern.
//!
//! Config, every key optional (`{}` accepts any text):
//!
//! ```json
//! {"min_length": 2, "max_length": 40, "pattern": "[A-Z]{3}",
//!  "pattern_message": "must be three capital letters"}
//! ```
//!
//! Lengths count Unicode characters (scalar values), not bytes. `pattern`
//! uses the syntax of the `regex` crate and must match the whole value.
//! Rules, checked in this order: `min-length`, `max-length`, `pattern`.

mod pattern;

use serde::Deserialize;
use tessera_sdk::{Rule, Validator, Value, ValueKind};

pub use pattern::Pattern;

/// The `core/text` block type.
pub struct Text;

/// A `core/text` block's config.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextConfig {
    /// Fewest characters allowed.
    pub min_length: Option<usize>,
    /// Most characters allowed.
    pub max_length: Option<usize>,
    /// A pattern the whole value must match.
    pub pattern: Option<Pattern>,
    /// The message shown when `pattern` does not match.
    pub pattern_message: Option<String>,
}

impl Validator for Text {
    type Config = TextConfig;
    const BLOCK_TYPE: &'static str = "core/text";
    const DESCRIPTION: &'static str = "Free text, with length limits and an optional pattern";

    fn value_kind(_config: &TextConfig) -> ValueKind {
        ValueKind::Text
    }

    fn check_config(config: &TextConfig) -> Result<(), String> {
        if let (Some(min), Some(max)) = (config.min_length, config.max_length)
            && min > max
        {
            return Err(format!(
                "min_length ({min}) must not be greater than max_length ({max})"
            ));
        }
        if config.pattern_message.is_some() && config.pattern.is_none() {
            return Err("pattern_message needs a pattern".to_owned());
        }
        Ok(())
    }

    fn validate(config: &TextConfig, value: &Value) -> Option<Rule> {
        let Value::Text(text) = value else {
            return None;
        };
        check(config, text)
    }
}

tessera_sdk::register!(Text);

/// The first rule `text` breaks, if any.
pub fn check(config: &TextConfig, text: &str) -> Option<Rule> {
    let length = text.chars().count();
    if let Some(min) = config.min_length
        && length < min
    {
        return Some(Rule::new(
            "min-length",
            format!("must be at least {} long", characters(min)),
        ));
    }
    if let Some(max) = config.max_length
        && length > max
    {
        return Some(Rule::new(
            "max-length",
            format!("must be at most {} long", characters(max)),
        ));
    }
    match &config.pattern {
        Some(pattern) if !pattern.matches(text) => {
            let message = config.pattern_message.as_deref();
            Some(Rule::new(
                "pattern",
                message.unwrap_or("is not in the expected format"),
            ))
        }
        _ => None,
    }
}

fn characters(count: usize) -> String {
    match count {
        1 => "1 character".to_owned(),
        _ => format!("{count} characters"),
    }
}

#[cfg(test)]
mod tests {
    use tessera_sdk::testing;

    use super::*;

    fn config(json: &str) -> TextConfig {
        testing::config::<Text>(json).unwrap()
    }

    fn code(config: &TextConfig, text: &str) -> Option<&'static str> {
        check(config, text).map(|rule| rule.code)
    }

    #[test]
    fn an_empty_config_accepts_any_text() {
        assert_eq!(code(&config("{}"), "anything at all"), None);
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        // "naïve" is 5 characters and 6 bytes in UTF-8; "日本語" is 3 and 9;
        // U+1F44D (thumbs up) is 1 character and 4 bytes.
        let at_most_five = config(r#"{"max_length": 5}"#);
        assert_eq!(code(&at_most_five, "naïve"), None);
        assert_eq!(code(&at_most_five, "naïves"), Some("max-length"));
        let exactly_three = config(r#"{"min_length": 3, "max_length": 3}"#);
        assert_eq!(code(&exactly_three, "日本語"), None);
        assert_eq!(code(&config(r#"{"max_length": 1}"#), "\u{1F44D}"), None);
    }

    #[test]
    fn messages_say_the_limit_in_characters() {
        let limits = config(r#"{"min_length": 1, "max_length": 3}"#);
        assert_eq!(
            check(&limits, "").unwrap().message,
            "must be at least 1 character long"
        );
        assert_eq!(
            check(&limits, "ABCD").unwrap().message,
            "must be at most 3 characters long"
        );
    }

    #[test]
    fn the_pattern_must_match_the_whole_value() {
        let codes = config(r#"{"pattern": "[A-Z]{3}"}"#);
        assert_eq!(code(&codes, "BQN"), None);
        assert_eq!(code(&codes, "BQNX"), Some("pattern"));
        assert_eq!(
            check(&codes, "bqn").unwrap().message,
            "is not in the expected format"
        );
    }

    #[test]
    fn the_pattern_message_replaces_the_default() {
        let codes = config(r#"{"pattern": "[A-Z]{3}", "pattern_message": "must be 3 capitals"}"#);
        assert_eq!(check(&codes, "bq").unwrap().message, "must be 3 capitals");
    }

    #[test]
    fn length_is_checked_before_the_pattern() {
        let both = config(r#"{"max_length": 2, "pattern": "[0-9]+"}"#);
        assert_eq!(code(&both, "abc"), Some("max-length"));
    }

    #[test]
    fn an_invalid_regex_is_a_config_error() {
        let error = testing::check_config::<Text>(r#"{"pattern": "[A-Z"}"#).unwrap_err();
        assert!(error.contains("pattern is not valid"), "{error}");
    }

    #[test]
    fn min_above_max_is_a_config_error() {
        let error = testing::check_config::<Text>(r#"{"min_length": 4, "max_length": 3}"#);
        assert_eq!(
            error,
            Err("min_length (4) must not be greater than max_length (3)".into())
        );
    }

    #[test]
    fn unknown_keys_are_a_config_error() {
        assert!(testing::check_config::<Text>(r#"{"maxlength": 3}"#).is_err());
    }

    #[test]
    fn a_batch_reports_the_rows_that_break_a_rule() {
        let values = ["ok", "far too long", ""].map(|text| Value::Text(text.to_owned()));
        let found = testing::validate::<Text>(r#"{"max_length": 5}"#, &values).unwrap();
        let rows: Vec<_> = found.iter().map(|v| (v.row, v.rule.as_str())).collect();
        assert_eq!(rows, [(1, "max-length")]);
    }

    #[test]
    fn a_config_error_names_the_key_without_json_positions() {
        let error = testing::check_config::<Text>(r#"{"max_length": "x"}"#).unwrap_err();
        assert_eq!(
            error,
            "max_length: invalid type: string \"x\", expected usize"
        );
    }
}
