//! `core/datetime`: dates, times of day and instants within bounds.
//!
//! Config, every key optional (`{}` accepts any date):
//!
//! ```json
//! {"kind": "date", "min": "2024-01-01", "max": "2024-12-31"}
//! ```
//!
//! `kind` is `date` (the default), `time` or `datetime`, and says what the
//! block holds. Bounds are inclusive and written in the form of the kind:
//! `YYYY-MM-DD`, `HH:MM` or `HH:MM:SS`, or RFC 3339. Instants compare as
//! instants, whatever offset they were entered in. Rules: `min`, `max`.

mod bound;

use serde::Deserialize;
use tessera_sdk::{Rule, Validator, Value, ValueKind};

pub use bound::{Bound, Kind, Point};

/// The `core/datetime` block type.
pub struct Datetime;

/// A `core/datetime` block's config, with its bounds parsed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "DatetimeJson")]
pub struct DatetimeConfig {
    /// What the block holds.
    pub kind: Kind,
    /// The earliest value allowed.
    pub min: Option<Bound>,
    /// The latest value allowed.
    pub max: Option<Bound>,
}

/// The config as written, before its bounds are read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatetimeJson {
    #[serde(default)]
    kind: Kind,
    min: Option<String>,
    max: Option<String>,
}

impl TryFrom<DatetimeJson> for DatetimeConfig {
    type Error = String;

    fn try_from(json: DatetimeJson) -> Result<Self, String> {
        let kind = json.kind;
        let read = |name, text: Option<String>| text.map(|text| Bound::parse(kind, name, text));
        Ok(Self {
            kind,
            min: read("min", json.min).transpose()?,
            max: read("max", json.max).transpose()?,
        })
    }
}

impl Validator for Datetime {
    type Config = DatetimeConfig;
    const BLOCK_TYPE: &'static str = "core/datetime";
    const DESCRIPTION: &'static str = "A date, time of day or date and time, within bounds";

    fn value_kind(config: &DatetimeConfig) -> ValueKind {
        config.kind.value_kind()
    }

    fn check_config(config: &DatetimeConfig) -> Result<(), String> {
        match (&config.min, &config.max) {
            (Some(min), Some(max)) if min.point > max.point => Err(format!(
                "min ({}) must not be after max ({})",
                min.text, max.text
            )),
            _ => Ok(()),
        }
    }

    fn validate(config: &DatetimeConfig, value: &Value) -> Option<Rule> {
        check(config, Point::of(value)?)
    }
}

tessera_sdk::register!(Datetime);

/// The first bound `point` is outside of, if any.
pub fn check(config: &DatetimeConfig, point: Point) -> Option<Rule> {
    let (after, before) = match config.kind {
        Kind::Date => ("on or after", "on or before"),
        Kind::Time | Kind::Datetime => ("at or after", "at or before"),
    };
    if let Some(min) = &config.min
        && point < min.point
    {
        return Some(Rule::new("min", format!("must be {after} {}", min.text)));
    }
    match &config.max {
        Some(max) if point > max.point => {
            Some(Rule::new("max", format!("must be {before} {}", max.text)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use tessera_sdk::{Date, DateTime, TimeOfDay, testing};

    use super::*;

    fn config(json: &str) -> DatetimeConfig {
        testing::config::<Datetime>(json).unwrap()
    }

    fn date(year: i32, month: u8, day: u8) -> Value {
        Value::Date(Date { year, month, day })
    }

    fn instant(seconds: i64, offset_minutes: i32) -> Value {
        Value::Datetime(DateTime {
            seconds,
            nanoseconds: 0,
            offset_minutes,
        })
    }

    fn code(config: &DatetimeConfig, value: &Value) -> Option<&'static str> {
        Datetime::validate(config, value).map(|rule| rule.code)
    }

    #[test]
    fn the_kind_decides_the_value_kind_and_defaults_to_date() {
        assert_eq!(testing::check_config::<Datetime>("{}"), Ok(ValueKind::Date));
        assert_eq!(
            testing::check_config::<Datetime>(r#"{"kind": "time"}"#),
            Ok(ValueKind::Time)
        );
        let datetime = testing::check_config::<Datetime>(r#"{"kind": "datetime"}"#);
        assert_eq!(datetime, Ok(ValueKind::Datetime));
    }

    #[test]
    fn date_bounds_are_inclusive() {
        let year = config(r#"{"min": "2024-01-01", "max": "2024-12-31"}"#);
        assert_eq!(code(&year, &date(2024, 1, 1)), None);
        assert_eq!(code(&year, &date(2024, 12, 31)), None);
        assert_eq!(code(&year, &date(2023, 12, 31)), Some("min"));
        let late = Datetime::validate(&year, &date(2025, 1, 1)).unwrap();
        assert_eq!(late.message, "must be on or before 2024-12-31");
    }

    #[test]
    fn time_bounds_accept_minutes_or_seconds() {
        let office = config(r#"{"kind": "time", "min": "08:00", "max": "17:30:00"}"#);
        let time = |hour, minute, second| {
            Value::Time(TimeOfDay {
                hour,
                minute,
                second,
            })
        };
        assert_eq!(code(&office, &time(8, 0, 0)), None);
        assert_eq!(code(&office, &time(7, 59, 59)), Some("min"));
        let late = Datetime::validate(&office, &time(17, 30, 1)).unwrap();
        assert_eq!(late.message, "must be at or before 17:30:00");
    }

    #[test]
    fn instants_compare_whatever_their_offset() {
        // RFC 3339 section 5.8: 1996-12-19T16:39:57-08:00 is
        // 1996-12-20T00:39:57Z, 851042397 s after the epoch (GNU date).
        let bound = config(r#"{"kind": "datetime", "min": "1996-12-19T16:39:57-08:00"}"#);
        assert_eq!(code(&bound, &instant(851_042_397, 0)), None);
        assert_eq!(code(&bound, &instant(851_042_396, 60)), Some("min"));
    }

    #[test]
    fn a_bound_that_does_not_parse_or_min_after_max_is_a_config_error() {
        let wrong_form = testing::check_config::<Datetime>(r#"{"min": "2024-1-32"}"#);
        assert!(
            wrong_form
                .unwrap_err()
                .contains("min “2024-1-32” is not a date")
        );
        let backwards =
            testing::check_config::<Datetime>(r#"{"min": "2024-02-01", "max": "2024-01-01"}"#);
        assert_eq!(
            backwards,
            Err("min (2024-02-01) must not be after max (2024-01-01)".into())
        );
        assert!(testing::check_config::<Datetime>(r#"{"kind": "week"}"#).is_err());
        assert!(testing::check_config::<Datetime>(r#"{"minimum": "2024-01-01"}"#).is_err());
    }

    #[test]
    fn a_batch_skips_blank_values_and_reports_values_of_another_kind() {
        let values = [
            date(2024, 6, 1),
            Value::Empty,
            Value::Text("2024-06-01".into()),
        ];
        let found = testing::validate::<Datetime>(r#"{"min": "2024-01-01"}"#, &values).unwrap();
        let rows: Vec<_> = found.iter().map(|v| (v.row, v.rule.as_str())).collect();
        assert_eq!(rows, [(2, "value-kind")]);
    }
}
