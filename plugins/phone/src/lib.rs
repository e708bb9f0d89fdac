//! `core/phone`: phone numbers, optionally from allowed regions.
//!
//! Config, every key optional (`{}` accepts any valid number written with
//! `+` and its country code):
//!
//! ```json
//! {"default_region": "US", "allowed_regions": ["US", "CA"]}
//! ```
//!
//! Regions are ISO 3166-1 alpha-2 codes. `default_region` is the region of a
//! number written without `+` and a country code. Numbers are checked
//! against the metadata of Google's libphonenumber, through the
//! `phonenumber` crate; a number's region comes from that metadata, so
//! `+1 416 …` is in `CA` and `+1 202 …` in `US`. Rules: `format`, `region`.

mod region;

use phonenumber::PhoneNumber;
use serde::Deserialize;
use tessera_sdk::{Rule, Validator, Value, ValueKind};

pub use region::Region;

/// The `core/phone` block type.
pub struct Phone;

/// A `core/phone` block's config.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneConfig {
    /// The region of numbers written without a country code.
    pub default_region: Option<Region>,
    /// The only regions numbers may be from, when set.
    pub allowed_regions: Option<Vec<Region>>,
}

impl Validator for Phone {
    type Config = PhoneConfig;
    const BLOCK_TYPE: &'static str = "core/phone";
    const DESCRIPTION: &'static str = "A phone number, optionally from allowed regions";

    fn value_kind(_config: &PhoneConfig) -> ValueKind {
        ValueKind::Text
    }

    fn check_config(config: &PhoneConfig) -> Result<(), String> {
        match &config.allowed_regions {
            Some(regions) if regions.is_empty() => {
                Err("allowed_regions must name at least one region".to_owned())
            }
            _ => Ok(()),
        }
    }

    fn validate(config: &PhoneConfig, value: &Value) -> Option<Rule> {
        let Value::Text(text) = value else {
            return None;
        };
        check(config, text)
    }
}

tessera_sdk::register!(Phone);

/// The first rule `text` breaks, if any.
pub fn check(config: &PhoneConfig, text: &str) -> Option<Rule> {
    let Some(number) = parse_valid(config, text) else {
        let message = match config.default_region {
            None if !text.trim_start().starts_with('+') => "must start with + and the country code",
            _ => "is not a valid phone number",
        };
        return Some(Rule::new("format", message));
    };

    let allowed = config.allowed_regions.as_deref()?;
    let region = number.country().id();
    if allowed.iter().any(|allowed| Some(allowed.id()) == region) {
        return None;
    }
    let codes: Vec<&str> = allowed.iter().map(Region::code).collect();
    let message = match codes.as_slice() {
        [only] => format!("must be a phone number from {only}"),
        _ => format!("must be a phone number from one of: {}", codes.join(", ")),
    };
    Some(Rule::new("region", message))
}

fn parse_valid(config: &PhoneConfig, text: &str) -> Option<PhoneNumber> {
    let default = config.default_region.as_ref().map(Region::id);
    let number = phonenumber::parse(default, text).ok()?;
    phonenumber::is_valid(&number).then_some(number)
}

#[cfg(test)]
mod tests {
    use tessera_sdk::testing;

    use super::*;

    fn code(config: &str, text: &str) -> Option<&'static str> {
        check(&testing::config::<Phone>(config).unwrap(), text).map(|rule| rule.code)
    }

    // Published numbers: the White House switchboard, the UK Parliament
    // switchboard and Toronto's 311 line for callers outside the city.
    const WHITE_HOUSE: &str = "+1 202-456-1414";
    const PARLIAMENT: &str = "+44 20 7219 3000";
    const TORONTO: &str = "+1 416-392-2489";

    #[test]
    fn accepts_published_numbers_written_with_a_country_code() {
        for number in [WHITE_HOUSE, PARLIAMENT, TORONTO] {
            assert_eq!(code("{}", number), None, "{number}");
        }
    }

    #[test]
    fn a_default_region_reads_numbers_written_the_national_way() {
        assert_eq!(code(r#"{"default_region": "US"}"#, "(202) 456-1414"), None);
        assert_eq!(code(r#"{"default_region": "GB"}"#, "020 7219 3000"), None);
    }

    #[test]
    fn without_a_default_region_a_country_code_is_required() {
        let rule = check(&PhoneConfig::default(), "(202) 456-1414").unwrap();
        assert_eq!(
            (rule.code, rule.message.as_str()),
            ("format", "must start with + and the country code")
        );
    }

    #[test]
    fn rejects_numbers_one_digit_short_and_text_that_is_no_number() {
        assert_eq!(code("{}", "+1 202-456-141"), Some("format"));
        assert_eq!(code("{}", "+44 20 7219 300"), Some("format"));
        assert_eq!(
            code(r#"{"default_region": "US"}"#, "call me"),
            Some("format")
        );
    }

    #[test]
    fn the_region_comes_from_the_number_not_the_country_code() {
        let canada = r#"{"allowed_regions": ["CA"]}"#;
        assert_eq!(code(canada, TORONTO), None);
        assert_eq!(code(canada, WHITE_HOUSE), Some("region"));
        let message = check(&testing::config::<Phone>(canada).unwrap(), PARLIAMENT)
            .unwrap()
            .message;
        assert_eq!(message, "must be a phone number from CA");
    }

    #[test]
    fn region_codes_are_checked_when_the_config_is_saved() {
        assert!(testing::check_config::<Phone>(r#"{"default_region": "us"}"#).is_ok());
        assert!(testing::check_config::<Phone>(r#"{"default_region": "XX"}"#).is_err());
        assert!(testing::check_config::<Phone>(r#"{"allowed_regions": ["USA"]}"#).is_err());
        assert!(testing::check_config::<Phone>(r#"{"allowed_regions": []}"#).is_err());
    }
}
