//! Parsing submitted JSON into typed block values.
//!
//! This is the edge: what a person or a program sent becomes a
//! [`wit::Value`] that plugins can check, plus a canonical JSON form that is
//! stored. Anything that does not fit the block's kind is a [`FieldError`]
//! naming the block and the expected shape.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use crate::field_error::FieldError;
use crate::runtime::wit;

/// What a block holds. Mirrors the WIT `value-kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Text,
    Number,
    Boolean,
    Date,
    Time,
    Datetime,
    Gps,
    File,
    TextList,
    FileList,
}

impl From<wit::ValueKind> for ValueKind {
    fn from(kind: wit::ValueKind) -> ValueKind {
        match kind {
            wit::ValueKind::Text => ValueKind::Text,
            wit::ValueKind::Number => ValueKind::Number,
            wit::ValueKind::Boolean => ValueKind::Boolean,
            wit::ValueKind::Date => ValueKind::Date,
            wit::ValueKind::Time => ValueKind::Time,
            wit::ValueKind::Datetime => ValueKind::Datetime,
            wit::ValueKind::Gps => ValueKind::Gps,
            wit::ValueKind::File => ValueKind::File,
            wit::ValueKind::TextList => ValueKind::TextList,
            wit::ValueKind::FileList => ValueKind::FileList,
        }
    }
}

impl ValueKind {
    /// How the expected JSON is described in error messages.
    pub fn expected(self) -> &'static str {
        match self {
            ValueKind::Text => "a string",
            ValueKind::Number => "a number",
            ValueKind::Boolean => "true or false",
            ValueKind::Date => "a date as \"YYYY-MM-DD\"",
            ValueKind::Time => "a time as \"HH:MM\" or \"HH:MM:SS\"",
            ValueKind::Datetime => {
                "a date and time as RFC 3339 (\"2024-05-01T09:30:00Z\"), or \
                 \"YYYY-MM-DDTHH:MM[:SS]\" in the org's time zone"
            }
            ValueKind::Gps => "an object {\"latitude\": number, \"longitude\": number}",
            ValueKind::File => "a file object {\"id\", \"name\", \"media_type\", \"size\"}",
            ValueKind::TextList => "a list of strings",
            ValueKind::FileList => "a list of file objects",
        }
    }
}

/// A value ready for plugins, and its canonical JSON for storage.
pub struct Parsed {
    pub value: wit::Value,
    pub json: Json,
}

/// Parses the JSON sent for block `key` of kind `kind`. `null` is empty.
pub fn parse(key: &str, kind: ValueKind, input: &Json, tz: Tz) -> Result<Parsed, FieldError> {
    // An empty string is a blank block, as an untouched form field is.
    if input.is_null() || input.as_str() == Some("") {
        return Ok(Parsed {
            value: wit::Value::Empty,
            json: Json::Null,
        });
    }
    if let Some(error) = too_long(key, input) {
        return Err(error);
    }
    let wrong_type = || FieldError::new(key, "type", format!("must be {}", kind.expected()));
    let value = match kind {
        ValueKind::TextList => list(input, |item| text(item).map(wit::Scalar::Text)),
        ValueKind::FileList => list(input, |item| file(item).map(wit::Scalar::File)),
        _ => scalar(kind, input, tz).map(into_value),
    }
    .ok_or_else(wrong_type)?;
    let json = to_json(&value);
    Ok(Parsed { value, json })
}

fn too_long(key: &str, input: &Json) -> Option<FieldError> {
    let long = |text: &Json| text.as_str().is_some_and(|t| t.len() > MAX_TEXT_BYTES);
    let any_long = match input {
        Json::Array(items) => items.iter().any(long),
        other => long(other),
    };
    any_long.then(|| {
        let message =
            format!("must be at most {MAX_TEXT_BYTES} bytes of text; attach a file instead");
        FieldError::new(key, "max-bytes", message)
    })
}

fn list(input: &Json, item: impl Fn(&Json) -> Option<wit::Scalar>) -> Option<wit::Value> {
    let items = input.as_array()?;
    let scalars: Option<Vec<_>> = items.iter().map(item).collect();
    scalars.map(|items| {
        if items.is_empty() {
            wit::Value::Empty
        } else {
            wit::Value::List(items)
        }
    })
}

fn scalar(kind: ValueKind, input: &Json, tz: Tz) -> Option<wit::Scalar> {
    Some(match kind {
        ValueKind::Text => wit::Scalar::Text(text(input)?),
        ValueKind::Number => wit::Scalar::Number(input.as_f64().filter(|n| n.is_finite())?),
        ValueKind::Boolean => wit::Scalar::Boolean(input.as_bool()?),
        ValueKind::Date => wit::Scalar::Date(date(input.as_str()?)?),
        ValueKind::Time => wit::Scalar::Time(time(input.as_str()?)?),
        ValueKind::Datetime => wit::Scalar::Datetime(datetime(input.as_str()?, tz)?),
        ValueKind::Gps => wit::Scalar::Gps(gps(input)?),
        ValueKind::File => wit::Scalar::File(file(input)?),
        ValueKind::TextList | ValueKind::FileList => return None,
    })
}

/// The largest text a block holds, in bytes. Longer content belongs in a
/// file block; the index cannot hold longer terms either.
pub const MAX_TEXT_BYTES: usize = 32 * 1024;

fn text(input: &Json) -> Option<String> {
    input.as_str().map(str::to_owned)
}

/// Parses `YYYY-MM-DD`.
pub fn date(input: &str) -> Option<wit::Date> {
    let date = NaiveDate::parse_from_str(input, "%Y-%m-%d").ok()?;
    Some(wit_date(date))
}

fn wit_date(date: NaiveDate) -> wit::Date {
    use chrono::Datelike;
    wit::Date {
        year: date.year(),
        month: date.month() as u8,
        day: date.day() as u8,
    }
}

/// Parses `HH:MM` or `HH:MM:SS`.
pub fn time(input: &str) -> Option<wit::TimeOfDay> {
    let time = NaiveTime::parse_from_str(input, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(input, "%H:%M"))
        .ok()?;
    Some(wit::TimeOfDay {
        hour: time.hour() as u8,
        minute: time.minute() as u8,
        second: time.second() as u8,
    })
}

/// Parses RFC 3339, or a local date-time without offset in `tz`.
pub fn datetime(input: &str, tz: Tz) -> Option<wit::Datetime> {
    let instant = match DateTime::parse_from_rfc3339(input) {
        Ok(instant) => instant,
        Err(_) => local_datetime(input, tz)?,
    };
    Some(wit::Datetime {
        seconds: instant.timestamp(),
        nanoseconds: instant.timestamp_subsec_nanos(),
        offset_minutes: instant.offset().local_minus_utc() / 60,
    })
}

fn local_datetime(input: &str, tz: Tz) -> Option<DateTime<FixedOffset>> {
    let naive = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(input, format).ok())?;
    // A wall-clock time skipped by a daylight-saving jump does not exist;
    // one repeated by the fall-back is taken at its first occurrence.
    let local = tz.from_local_datetime(&naive).earliest()?;
    Some(local.fixed_offset())
}

fn gps(input: &Json) -> Option<wit::Gps> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Input {
        latitude: f64,
        longitude: f64,
        accuracy: Option<f64>,
        altitude: Option<f64>,
    }
    let gps: Input = serde_json::from_value(input.clone()).ok()?;
    Some(wit::Gps {
        latitude: gps.latitude,
        longitude: gps.longitude,
        accuracy: gps.accuracy,
        altitude: gps.altitude,
    })
}

fn file(input: &Json) -> Option<wit::FileRef> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Input {
        id: String,
        name: String,
        media_type: String,
        size: u64,
    }
    let file: Input = serde_json::from_value(input.clone()).ok()?;
    Some(wit::FileRef {
        id: file.id,
        name: file.name,
        media_type: file.media_type,
        size: file.size,
    })
}

fn into_value(scalar: wit::Scalar) -> wit::Value {
    match scalar {
        wit::Scalar::Text(v) => wit::Value::Text(v),
        wit::Scalar::Number(v) => wit::Value::Number(v),
        wit::Scalar::Boolean(v) => wit::Value::Boolean(v),
        wit::Scalar::Date(v) => wit::Value::Date(v),
        wit::Scalar::Time(v) => wit::Value::Time(v),
        wit::Scalar::Datetime(v) => wit::Value::Datetime(v),
        wit::Scalar::Gps(v) => wit::Value::Gps(v),
        wit::Scalar::File(v) => wit::Value::File(v),
    }
}

/// The canonical JSON stored for a value.
pub fn to_json(value: &wit::Value) -> Json {
    match value {
        wit::Value::Empty => Json::Null,
        wit::Value::Text(v) => json!(v),
        wit::Value::Number(v) => number_json(*v),
        wit::Value::Boolean(v) => json!(v),
        wit::Value::Date(v) => json!(format_date(v)),
        wit::Value::Time(v) => json!(format!("{:02}:{:02}:{:02}", v.hour, v.minute, v.second)),
        wit::Value::Datetime(v) => json!(format_datetime(v)),
        wit::Value::Gps(v) => gps_json(v),
        wit::Value::File(v) => file_json(v),
        wit::Value::List(items) => Json::Array(items.iter().map(scalar_json).collect()),
    }
}

/// Whole numbers are stored without a fraction (`2013`, not `2013.0`).
fn number_json(n: f64) -> Json {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() < EXACT {
        json!(n as i64)
    } else {
        json!(n)
    }
}

fn scalar_json(item: &wit::Scalar) -> Json {
    match item {
        wit::Scalar::Text(v) => json!(v),
        wit::Scalar::File(v) => file_json(v),
        other => to_json(&into_value(other.clone())),
    }
}

fn format_date(date: &wit::Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

fn format_datetime(value: &wit::Datetime) -> String {
    let offset = FixedOffset::east_opt(value.offset_minutes * 60).expect("offset came from chrono");
    let instant = DateTime::from_timestamp(value.seconds, value.nanoseconds)
        .expect("instant came from chrono")
        .with_timezone(&offset);
    instant.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn gps_json(v: &wit::Gps) -> Json {
    let mut object = json!({"latitude": v.latitude, "longitude": v.longitude});
    if let Some(accuracy) = v.accuracy {
        object["accuracy"] = json!(accuracy);
    }
    if let Some(altitude) = v.altitude {
        object["altitude"] = json!(altitude);
    }
    object
}

fn file_json(v: &wit::FileRef) -> Json {
    json!({"id": v.id, "name": v.name, "media_type": v.media_type, "size": v.size})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ny() -> Tz {
        "America/New_York".parse().unwrap()
    }

    #[test]
    fn local_datetime_takes_the_org_offset_of_that_day() {
        // 2013-07-01 is in daylight time in New York (UTC-4), 2013-01-01 is not.
        let summer = datetime("2013-07-01 05:00:00", ny()).unwrap();
        assert_eq!(summer.offset_minutes, -240);
        let winter = datetime("2013-01-01T05:00", ny()).unwrap();
        assert_eq!(winter.seconds, 1_357_034_400); // 2013-01-01T10:00:00Z
    }

    #[test]
    fn rfc3339_keeps_its_offset_and_round_trips() {
        let parsed = parse(
            "at",
            ValueKind::Datetime,
            &json!("2013-01-01T10:00:00Z"),
            ny(),
        )
        .unwrap();
        assert_eq!(parsed.json, json!("2013-01-01T10:00:00Z"));
    }

    #[test]
    fn wrong_type_names_field_and_expected_shape() {
        let err = parse("dep_delay", ValueKind::Number, &json!("12"), ny())
            .err()
            .unwrap();
        assert_eq!(err.field, "dep_delay");
        assert_eq!(err.rule, "type");
        assert_eq!(err.message, "must be a number");
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert!(date("2013-02-29").is_none());
        assert!(date("2012-02-29").is_some());
    }

    #[test]
    fn gps_with_unknown_keys_is_refused() {
        let input = json!({"latitude": 1.0, "longitude": 2.0, "lat": 3});
        assert!(parse("where", ValueKind::Gps, &input, ny()).is_err());
    }
}
