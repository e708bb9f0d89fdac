//! `core/barcode`: EAN-13, EAN-8 and UPC-A numbers with a valid check digit.
//!
//! Config, every key optional (`{}` accepts any of the three formats):
//!
//! ```json
//! {"formats": ["ean-13", "upc-a"], "pattern": "(978|979)[0-9]{10}"}
//! ```
//!
//! A value is the digits alone, without spaces. Its last digit is the GS1
//! modulo-10 check digit (GS1 General Specifications, section 7.9). `pattern`
//! uses the syntax of the `regex` crate and must match the whole value.
//! Rules, checked in this order: `format`, `check-digit`, `pattern`.

mod gs1;
mod pattern;

use serde::Deserialize;
use tessera_sdk::{Rule, Validator, Value, ValueKind};

pub use gs1::{Format, has_valid_check_digit};
pub use pattern::Pattern;

/// The `core/barcode` block type.
pub struct Barcode;

/// A `core/barcode` block's config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarcodeConfig {
    /// The formats a value may have; all three when not set.
    #[serde(default = "Format::all")]
    pub formats: Vec<Format>,
    /// A pattern the whole value must match.
    pub pattern: Option<Pattern>,
}

impl Validator for Barcode {
    type Config = BarcodeConfig;
    const BLOCK_TYPE: &'static str = "core/barcode";
    const DESCRIPTION: &'static str = "An EAN-13, EAN-8 or UPC-A barcode number";

    fn value_kind(_config: &BarcodeConfig) -> ValueKind {
        ValueKind::Text
    }

    fn check_config(config: &BarcodeConfig) -> Result<(), String> {
        match config.formats.is_empty() {
            true => Err("formats must name at least one format".to_owned()),
            false => Ok(()),
        }
    }

    fn validate(config: &BarcodeConfig, value: &Value) -> Option<Rule> {
        let Value::Text(text) = value else {
            return None;
        };
        check(config, text)
    }
}

tessera_sdk::register!(Barcode);

/// The first rule `text` breaks, if any.
pub fn check(config: &BarcodeConfig, text: &str) -> Option<Rule> {
    let digits_only = text.bytes().all(|byte| byte.is_ascii_digit());
    if !digits_only
        || !config
            .formats
            .iter()
            .any(|format| format.digits() == text.len())
    {
        let expected: Vec<String> = config.formats.iter().map(|f| f.describe()).collect();
        return Some(Rule::new(
            "format",
            format!("must be {}", either_of(&expected)),
        ));
    }
    if !has_valid_check_digit(text) {
        return Some(Rule::new(
            "check-digit",
            "has a wrong check digit: a digit is probably mistyped",
        ));
    }
    match &config.pattern {
        Some(pattern) if !pattern.matches(text) => {
            Some(Rule::new("pattern", "does not match the expected pattern"))
        }
        _ => None,
    }
}

/// "a", "a or b", "a, b or c".
fn either_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use tessera_sdk::testing;

    use super::*;

    fn code(config: &str, text: &str) -> Option<&'static str> {
        check(&testing::config::<Barcode>(config).unwrap(), text).map(|rule| rule.code)
    }

    #[test]
    fn accepts_codes_printed_on_real_products() {
        // Nutella 400 g, Coca-Cola 330 ml can, the EAN-13, EAN-8 and UPC-A
        // examples of Wikipedia's articles on each format.
        let printed = [
            "3017620422003",
            "5449000000996",
            "4006381333931",
            "96385074",
            "036000291452",
        ];
        for barcode in printed {
            assert_eq!(code("{}", barcode), None, "{barcode}");
        }
    }

    #[test]
    fn a_mistyped_digit_breaks_the_check_digit() {
        assert_eq!(code("{}", "3017620422004"), Some("check-digit"));
        assert_eq!(code("{}", "3017620242203"), Some("check-digit"));
        assert_eq!(code("{}", "036000291453"), Some("check-digit"));
    }

    #[test]
    fn only_the_allowed_lengths_of_digits_are_a_format() {
        let ean_13 = r#"{"formats": ["ean-13"]}"#;
        assert_eq!(code(ean_13, "036000291452"), Some("format"));
        assert_eq!(code(ean_13, "0036000291452"), None);
        assert_eq!(code("{}", "4006381 333931"), Some("format"));
        assert_eq!(code("{}", "４００６３８１３３３９３１"), Some("format"));
        let config = testing::config::<Barcode>(r#"{"formats": ["ean-8", "upc-a"]}"#).unwrap();
        let message = check(&config, "123").unwrap().message;
        assert_eq!(message, "must be 8 digits (EAN-8) or 12 digits (UPC-A)");
    }

    #[test]
    fn the_pattern_is_checked_after_the_check_digit() {
        // GS1 prefixes 978 and 979 are for books (ISBN).
        let books = r#"{"pattern": "97[89][0-9]{10}"}"#;
        assert_eq!(code(books, "9780306406157"), None);
        assert_eq!(code(books, "3017620422003"), Some("pattern"));
        assert_eq!(code(books, "9780306406158"), Some("check-digit"));
    }

    #[test]
    fn unknown_formats_and_an_empty_list_are_config_errors() {
        assert!(testing::check_config::<Barcode>(r#"{"formats": ["qr"]}"#).is_err());
        assert!(testing::check_config::<Barcode>(r#"{"formats": []}"#).is_err());
        assert!(testing::check_config::<Barcode>(r#"{"pattern": "("}"#).is_err());
    }
}
