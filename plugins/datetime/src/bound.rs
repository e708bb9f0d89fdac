//! What a `core/datetime` block holds, and the bounds a config sets on it.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike};
use serde::Deserialize;
use tessera_sdk::{Value, ValueKind};

/// What a block holds: a date, a time of day, or an instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A calendar date, bounds written `YYYY-MM-DD`.
    #[default]
    Date,
    /// A time of day, bounds written `HH:MM` or `HH:MM:SS`.
    Time,
    /// An instant, bounds written in RFC 3339 such as
    /// `2024-05-01T09:00:00+02:00`.
    Datetime,
}

impl Kind {
    /// The value kind the host parses input into.
    pub fn value_kind(self) -> ValueKind {
        match self {
            Kind::Date => ValueKind::Date,
            Kind::Time => ValueKind::Time,
            Kind::Datetime => ValueKind::Datetime,
        }
    }

    /// How a bound of this kind is written, for error messages.
    fn form(self) -> &'static str {
        match self {
            Kind::Date => "a date written YYYY-MM-DD",
            Kind::Time => "a time written HH:MM or HH:MM:SS",
            Kind::Datetime => "a date and time in RFC 3339, such as 2024-05-01T09:00:00Z",
        }
    }
}

/// A point on the line of one kind: comparable with points of that kind.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub enum Point {
    /// Year, month, day.
    Date(i32, u8, u8),
    /// Hour, minute, second.
    Time(u8, u8, u8),
    /// Seconds since the Unix epoch, and nanoseconds.
    Instant(i64, u32),
}

impl Point {
    /// The point a value stands for, when it is a date, time or instant.
    pub fn of(value: &Value) -> Option<Point> {
        match value {
            Value::Date(date) => Some(Point::Date(date.year, date.month, date.day)),
            Value::Time(time) => Some(Point::Time(time.hour, time.minute, time.second)),
            Value::Datetime(instant) => Some(Point::Instant(instant.seconds, instant.nanoseconds)),
            _ => None,
        }
    }
}

/// A bound as the admin wrote it, and the point it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// The text from the config, repeated in messages.
    pub text: String,
    /// Where the bound lies.
    pub point: Point,
}

impl Bound {
    /// Reads `text` as a bound of `kind`; `name` is the config key.
    pub fn parse(kind: Kind, name: &str, text: String) -> Result<Bound, String> {
        let point = match kind {
            Kind::Date => parse_date(&text),
            Kind::Time => parse_time(&text),
            Kind::Datetime => parse_instant(&text),
        };
        match point {
            Some(point) => Ok(Bound { text, point }),
            None => Err(format!("{name} “{text}” is not {}", kind.form())),
        }
    }
}

fn parse_date(text: &str) -> Option<Point> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(Point::Date(
        date.year(),
        date.month() as u8,
        date.day() as u8,
    ))
}

fn parse_time(text: &str) -> Option<Point> {
    let time = NaiveTime::parse_from_str(text, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .ok()?;
    Some(Point::Time(
        time.hour() as u8,
        time.minute() as u8,
        time.second() as u8,
    ))
}

fn parse_instant(text: &str) -> Option<Point> {
    let instant = DateTime::parse_from_rfc3339(text).ok()?;
    Some(Point::Instant(
        instant.timestamp(),
        instant.timestamp_subsec_nanos(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(kind: Kind, text: &str) -> Option<Point> {
        Bound::parse(kind, "min", text.to_owned())
            .ok()
            .map(|bound| bound.point)
    }

    #[test]
    fn reads_the_examples_of_rfc_3339_section_5_8_as_instants() {
        // Expected seconds and nanoseconds from GNU date, `date -d '…' +'%s %N'`;
        // before 1970 the seconds count down and the nanoseconds still up.
        let cases = [
            (
                "1985-04-12T23:20:50.52Z",
                Point::Instant(482_196_050, 520_000_000),
            ),
            ("1996-12-19T16:39:57-08:00", Point::Instant(851_042_397, 0)),
            (
                "1937-01-01T12:00:27.87+00:20",
                Point::Instant(-1_041_337_173, 870_000_000),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(point(Kind::Datetime, text), Some(expected), "{text}");
        }
    }

    #[test]
    fn the_leap_second_of_rfc_3339_falls_between_its_neighbours() {
        // RFC 3339 gives 1990-12-31T23:59:60Z and, for the same second in
        // another zone, 1990-12-31T15:59:60-08:00.
        let leap = point(Kind::Datetime, "1990-12-31T23:59:60Z").unwrap();
        let before = point(Kind::Datetime, "1990-12-31T23:59:59.999Z").unwrap();
        let after = point(Kind::Datetime, "1991-01-01T00:00:00Z").unwrap();
        assert!(before < leap && leap < after);
        assert_eq!(
            point(Kind::Datetime, "1990-12-31T15:59:60-08:00"),
            Some(leap)
        );
    }

    #[test]
    fn dates_must_exist_in_the_calendar() {
        assert_eq!(
            point(Kind::Date, "2024-02-29"),
            Some(Point::Date(2024, 2, 29))
        );
        assert_eq!(point(Kind::Date, "2023-02-29"), None);
        assert_eq!(point(Kind::Date, "2024-13-01"), None);
    }

    #[test]
    fn times_may_leave_out_the_seconds() {
        assert_eq!(point(Kind::Time, "08:30"), Some(Point::Time(8, 30, 0)));
        assert_eq!(point(Kind::Time, "17:45:10"), Some(Point::Time(17, 45, 10)));
        assert_eq!(point(Kind::Time, "24:00"), None);
    }

    #[test]
    fn a_bound_of_the_wrong_form_names_the_key_and_the_form() {
        let error = Bound::parse(Kind::Date, "max", "31/12/2024".to_owned()).unwrap_err();
        assert_eq!(error, "max “31/12/2024” is not a date written YYYY-MM-DD");
    }
}
