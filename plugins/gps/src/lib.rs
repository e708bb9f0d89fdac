//! `core/gps`: GPS positions with an accuracy limit and an allowed area.
//!
//! Config, every key optional (`{}` accepts any position on Earth):
//!
//! ```json
//! {"max_accuracy_m": 25,
//!  "bounds": {"min_latitude": 41.3, "max_latitude": 51.1,
//!             "min_longitude": -5.2, "max_longitude": 9.6}}
//! ```
//!
//! Positions are WGS 84 degrees. `max_accuracy_m` is the largest accuracy
//! radius allowed, in metres; with it set, a position without an accuracy
//! is refused. Bounds are inclusive; a box whose `min_longitude` is greater
//! than its `max_longitude` crosses the 180° meridian. Rules, checked in
//! this order: `coordinates`, `accuracy`, `bounds`.

mod area;

use serde::Deserialize;
use tessera_sdk::{Gps, Rule, Validator, Value, ValueKind};

pub use area::Area;

/// The `core/gps` block type.
pub struct GpsBlock;

/// A `core/gps` block's config.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpsConfig {
    /// The largest accuracy radius allowed, in metres.
    pub max_accuracy_m: Option<f64>,
    /// The area positions must lie in.
    pub bounds: Option<Area>,
}

impl Validator for GpsBlock {
    type Config = GpsConfig;
    const BLOCK_TYPE: &'static str = "core/gps";
    const DESCRIPTION: &'static str = "A GPS position, with an accuracy limit and an allowed area";

    fn value_kind(_config: &GpsConfig) -> ValueKind {
        ValueKind::Gps
    }

    fn check_config(config: &GpsConfig) -> Result<(), String> {
        if let Some(metres) = config.max_accuracy_m
            && metres <= 0.0
        {
            return Err(format!("max_accuracy_m ({metres}) must be greater than 0"));
        }
        config.bounds.as_ref().map_or(Ok(()), Area::check)
    }

    fn validate(config: &GpsConfig, value: &Value) -> Option<Rule> {
        let Value::Gps(position) = value else {
            return None;
        };
        check(config, position)
    }
}

tessera_sdk::register!(GpsBlock);

/// The first rule `position` breaks, if any.
pub fn check(config: &GpsConfig, position: &Gps) -> Option<Rule> {
    if !on_earth(position.latitude, position.longitude) {
        return Some(Rule::new(
            "coordinates",
            "must have a latitude from -90 to 90 and a longitude from -180 to 180",
        ));
    }
    if let Some(rule) = config
        .max_accuracy_m
        .and_then(|limit| check_accuracy(limit, position))
    {
        return Some(rule);
    }
    match &config.bounds {
        Some(area) if !area.contains(position.latitude, position.longitude) => {
            Some(Rule::new("bounds", format!("must lie {}", area.describe())))
        }
        _ => None,
    }
}

fn check_accuracy(limit: f64, position: &Gps) -> Option<Rule> {
    let message = match position.accuracy {
        None => format!("must come with its accuracy, which must be {limit} m or better"),
        Some(metres) if metres.is_nan() || metres > limit => {
            format!("must be accurate to {limit} m or better, not {metres} m")
        }
        Some(_) => return None,
    };
    Some(Rule::new("accuracy", message))
}

/// Whether the degrees name a point on Earth; false for NaN and infinities.
pub fn on_earth(latitude: f64, longitude: f64) -> bool {
    (-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)
}

#[cfg(test)]
mod tests {
    use tessera_sdk::testing;

    use super::*;

    fn at(latitude: f64, longitude: f64, accuracy: Option<f64>) -> Gps {
        Gps {
            latitude,
            longitude,
            accuracy,
            altitude: None,
        }
    }

    fn code(config: &str, position: Gps) -> Option<&'static str> {
        check(&testing::config::<GpsBlock>(config).unwrap(), &position).map(|rule| rule.code)
    }

    #[test]
    fn any_point_on_earth_passes_an_empty_config() {
        assert_eq!(code("{}", at(90.0, -180.0, None)), None);
        assert_eq!(code("{}", at(-90.0, 180.0, None)), None);
    }

    #[test]
    fn coordinates_off_the_globe_or_not_finite_are_refused() {
        assert_eq!(code("{}", at(90.5, 0.0, None)), Some("coordinates"));
        assert_eq!(code("{}", at(0.0, -180.01, None)), Some("coordinates"));
        assert_eq!(code("{}", at(f64::NAN, 0.0, None)), Some("coordinates"));
    }

    #[test]
    fn accuracy_must_be_reported_and_within_the_limit() {
        let limit = r#"{"max_accuracy_m": 25}"#;
        assert_eq!(code(limit, at(0.0, 0.0, Some(25.0))), None);
        assert_eq!(code(limit, at(0.0, 0.0, None)), Some("accuracy"));
        assert_eq!(code(limit, at(0.0, 0.0, Some(f64::NAN))), Some("accuracy"));
        let config = testing::config::<GpsBlock>(limit).unwrap();
        let rule = check(&config, &at(0.0, 0.0, Some(120.0))).unwrap();
        assert_eq!(
            rule.message,
            "must be accurate to 25 m or better, not 120 m"
        );
    }

    #[test]
    fn the_eiffel_tower_is_in_a_box_around_mainland_france_and_new_york_is_not() {
        let france = r#"{"bounds": {"min_latitude": 41.3, "max_latitude": 51.1,
            "min_longitude": -5.2, "max_longitude": 9.6}}"#;
        assert_eq!(code(france, at(48.8584, 2.2945, None)), None);
        assert_eq!(code(france, at(40.6892, -74.0445, None)), Some("bounds"));
    }

    #[test]
    fn a_box_across_the_180th_meridian_holds_both_sides() {
        // Fiji spans the meridian: Suva is at 178.44° E, Lakeba at 178.8° W.
        let fiji = r#"{"bounds": {"min_latitude": -21, "max_latitude": -12,
            "min_longitude": 177, "max_longitude": -178}}"#;
        assert_eq!(code(fiji, at(-18.1416, 178.4419, None)), None);
        assert_eq!(code(fiji, at(-18.2, -178.8, None)), None);
        assert_eq!(code(fiji, at(21.3069, -157.8583, None)), Some("bounds"));
    }

    #[test]
    fn a_non_positive_accuracy_limit_or_a_broken_box_is_a_config_error() {
        assert!(testing::check_config::<GpsBlock>(r#"{"max_accuracy_m": 0}"#).is_err());
        let upside_down = r#"{"bounds": {"min_latitude": 10, "max_latitude": 5,
            "min_longitude": 0, "max_longitude": 1}}"#;
        assert!(testing::check_config::<GpsBlock>(upside_down).is_err());
        let half = r#"{"bounds": {"min_latitude": 0, "max_latitude": 5}}"#;
        assert!(testing::check_config::<GpsBlock>(half).is_err());
    }
}
