//! Calendar buckets in a time zone.
//!
//! tantivy's date histogram has fixed intervals and no time zone, so months
//! and weeks as people mean them are computed here, at index time: each date
//! or date-time gets the start of its day, ISO week (Monday) and month in
//! the org's time zone, as `yyyymmdd` integers that group and sort.

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;

/// A calendar grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Day,
    Week,
    Month,
}

impl Interval {
    /// The key under a block's calendar entry.
    pub fn name(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// Renders a bucket key: `2013-01-07` for days and weeks (the Monday),
    /// `2013-01` for months.
    pub fn label(self, key: i64) -> String {
        let (year, month, day) = (key / 10_000, key / 100 % 100, key % 100);
        match self {
            Interval::Month => format!("{year:04}-{month:02}"),
            Interval::Day | Interval::Week => format!("{year:04}-{month:02}-{day:02}"),
        }
    }
}

/// `(day, week, month)` keys of a local date.
pub fn buckets(date: NaiveDate) -> [i64; 3] {
    let monday = date - chrono::Duration::days(date.weekday().num_days_from_monday() as i64);
    let first = date.with_day(1).expect("day 1 exists");
    [ymd(date), ymd(monday), ymd(first)]
}

/// The local date of an instant in `tz`.
pub fn local_date(micros: i64, tz: Tz) -> Option<NaiveDate> {
    let instant = chrono::DateTime::from_timestamp_micros(micros)?;
    Some(tz.from_utc_datetime(&instant.naive_utc()).date_naive())
}

fn ymd(date: NaiveDate) -> i64 {
    date.year() as i64 * 10_000 + date.month() as i64 * 100 + date.day() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_years_day_2013_falls_in_the_week_of_monday_2012_12_31() {
        // 2013-01-01 was a Tuesday.
        let date = NaiveDate::from_ymd_opt(2013, 1, 1).unwrap();
        assert_eq!(buckets(date), [20130101, 20121231, 20130101]);
    }

    #[test]
    fn late_evening_utc_is_still_the_previous_day_in_new_york() {
        // 2013-02-01T03:00Z is 22:00 on 31 January in New York.
        let micros = 1_359_687_600_000_000;
        let tz: Tz = "America/New_York".parse().unwrap();
        assert_eq!(local_date(micros, tz), NaiveDate::from_ymd_opt(2013, 1, 31));
    }

    #[test]
    fn labels_read_as_dates() {
        assert_eq!(Interval::Month.label(20130101), "2013-01");
        assert_eq!(Interval::Week.label(20121231), "2012-12-31");
    }
}
