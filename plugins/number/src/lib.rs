//! `core/number`: numbers with bounds, whole numbers and decimal places.
//!
//! Config, every key optional (`{}` accepts any finite number):
//!
//! ```json
//! {"min": 0, "max": 100, "integer": false, "decimals": 2}
//! ```
//!
//! `decimals` is the most digits allowed after the decimal point, counted in
//! the shortest decimal form that reads back as the same number, which is
//! what a person typed: 2.35 has 2 decimals even though the nearest binary
//! number is 2.34999…. Rules, checked in this order: `finite`, `min`, `max`,
//! `integer`, `decimals`.

use serde::Deserialize;
use tessera_sdk::{Rule, Validator, Value, ValueKind};

/// The `core/number` block type.
pub struct Number;

/// A `core/number` block's config.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberConfig {
    /// Smallest value allowed.
    pub min: Option<f64>,
    /// Largest value allowed.
    pub max: Option<f64>,
    /// Whether only whole numbers are allowed.
    #[serde(default)]
    pub integer: bool,
    /// Most digits allowed after the decimal point.
    pub decimals: Option<u32>,
}

impl Validator for Number {
    type Config = NumberConfig;
    const BLOCK_TYPE: &'static str = "core/number";
    const DESCRIPTION: &'static str = "A number, with optional bounds and decimal places";

    fn value_kind(_config: &NumberConfig) -> ValueKind {
        ValueKind::Number
    }

    fn check_config(config: &NumberConfig) -> Result<(), String> {
        match (config.min, config.max) {
            (Some(min), Some(max)) if min > max => {
                Err(format!("min ({min}) must not be greater than max ({max})"))
            }
            _ => Ok(()),
        }
    }

    fn validate(config: &NumberConfig, value: &Value) -> Option<Rule> {
        let Value::Number(number) = value else {
            return None;
        };
        check(config, *number)
    }
}

tessera_sdk::register!(Number);

/// The first rule `number` breaks, if any.
pub fn check(config: &NumberConfig, number: f64) -> Option<Rule> {
    if !number.is_finite() {
        return Some(Rule::new("finite", "must be a finite number"));
    }
    if let Some(min) = config.min
        && number < min
    {
        return Some(Rule::new("min", format!("must be at least {min}")));
    }
    if let Some(max) = config.max
        && number > max
    {
        return Some(Rule::new("max", format!("must be at most {max}")));
    }
    if config.integer && number.fract() != 0.0 {
        return Some(Rule::new("integer", "must be a whole number"));
    }
    match config.decimals {
        Some(most) if decimal_places(number) > most as usize => Some(Rule::new(
            "decimals",
            format!("must have {}", at_most_decimals(most)),
        )),
        _ => None,
    }
}

/// Digits after the point in the shortest decimal that reads back as
/// `number`; Rust's `Display` for `f64` writes that form, never with an
/// exponent.
fn decimal_places(number: f64) -> usize {
    let written = number.to_string();
    written
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.len())
}

fn at_most_decimals(most: u32) -> String {
    match most {
        0 => "no digits after the decimal point".to_owned(),
        1 => "at most 1 digit after the decimal point".to_owned(),
        _ => format!("at most {most} digits after the decimal point"),
    }
}

#[cfg(test)]
mod tests {
    use tessera_sdk::testing;

    use super::*;

    fn config(json: &str) -> NumberConfig {
        testing::config::<Number>(json).unwrap()
    }

    fn code(config: &NumberConfig, number: f64) -> Option<&'static str> {
        check(config, number).map(|rule| rule.code)
    }

    #[test]
    fn an_empty_config_accepts_any_finite_number() {
        let any = config("{}");
        assert_eq!(code(&any, -1.5e300), None);
        assert_eq!(code(&any, f64::NAN), Some("finite"));
        assert_eq!(code(&any, f64::INFINITY), Some("finite"));
    }

    #[test]
    fn bounds_are_inclusive() {
        let percent = config(r#"{"min": 0, "max": 100}"#);
        assert_eq!(code(&percent, 0.0), None);
        assert_eq!(code(&percent, 100.0), None);
        assert_eq!(check(&percent, -0.5).unwrap().message, "must be at least 0");
        assert_eq!(
            check(&percent, 100.5).unwrap().message,
            "must be at most 100"
        );
    }

    #[test]
    fn integer_rejects_a_fraction() {
        let whole = config(r#"{"integer": true}"#);
        assert_eq!(code(&whole, 42.0), None);
        assert_eq!(code(&whole, 42.5), Some("integer"));
    }

    #[test]
    fn decimals_count_what_was_typed_not_the_binary_value() {
        // 2.35 and 1.1 have no exact binary form; scaling them by 100 gives
        // 234.99999999999997 and 110.00000000000001.
        let cents = config(r#"{"decimals": 2}"#);
        assert_eq!(code(&cents, 2.35), None);
        assert_eq!(code(&cents, 1.1), None);
        assert_eq!(code(&cents, 19.99), None);
        assert_eq!(code(&cents, 1.005), Some("decimals"));
    }

    #[test]
    fn a_sum_with_a_binary_rounding_error_has_seventeen_decimals() {
        // IEEE 754 doubles give 0.1 + 0.2 = 0.30000000000000004.
        let cents = config(r#"{"decimals": 2}"#);
        assert_eq!(code(&cents, 0.1 + 0.2), Some("decimals"));
        assert_eq!(code(&config(r#"{"decimals": 17}"#), 0.1 + 0.2), None);
    }

    #[test]
    fn large_and_small_numbers_are_counted_without_an_exponent() {
        let whole = config(r#"{"decimals": 0}"#);
        assert_eq!(code(&whole, 1e21), None);
        assert_eq!(
            check(&whole, 1e-7).unwrap().message,
            "must have no digits after the decimal point"
        );
    }

    #[test]
    fn min_above_max_is_a_config_error() {
        let error = testing::check_config::<Number>(r#"{"min": 5, "max": 1}"#);
        assert_eq!(
            error,
            Err("min (5) must not be greater than max (1)".into())
        );
    }

    #[test]
    fn a_negative_decimals_is_a_config_error() {
        assert!(testing::check_config::<Number>(r#"{"decimals": -1}"#).is_err());
    }
}
