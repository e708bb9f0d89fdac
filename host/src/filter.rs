//! Filters over submission values: equality and ranges, nested AND/OR.
//!
//! The JSON form, checked against an app version at the edge:
//!
//! ```json
//! {"and": [
//!   {"field": "carrier", "eq": "AA"},
//!   {"field": "dep_delay", "gte": 10, "lt": 60},
//!   {"or": [{"field": "origin", "eq": "JFK"}, {"field": "origin", "eq": "LGA"}]},
//!   {"field": "time_hour", "gte": "2013-01-01", "lt": "2013-02-01"}
//! ]}
//! ```
//!
//! Dates for a date-time block may be a day (its start in the org's time
//! zone), a local date-time, or RFC 3339. The same [`Filter`] is evaluated on
//! stored rows here and translated to an index query by the analytics module.

use std::cmp::Ordering;

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde_json::{Map, Value as Json};

use crate::apps::AppVersion;
use crate::field_error::FieldError;
use crate::values::{self, ValueKind};

/// A parsed, type-checked filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Compare {
        field: String,
        kind: ValueKind,
        op: Op,
        value: Operand,
    },
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A typed value to compare with.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Text(String),
    Number(f64),
    Boolean(bool),
    /// Days since 1970-01-01.
    Date(i64),
    /// Seconds since midnight.
    Time(i64),
    /// Microseconds since 1970-01-01T00:00:00Z.
    Instant(i64),
}

const OPS: [(&str, Op); 5] = [
    ("eq", Op::Eq),
    ("gt", Op::Gt),
    ("gte", Op::Gte),
    ("lt", Op::Lt),
    ("lte", Op::Lte),
];

impl Filter {
    /// Parses and checks a filter against `version`'s blocks.
    pub fn parse(input: &Json, version: &AppVersion, tz: Tz) -> Result<Filter, FieldError> {
        parse_at("filter", input, version, tz)
    }

    /// Whether stored values pass the filter.
    pub fn matches(&self, values: &Map<String, Json>) -> bool {
        match self {
            Filter::And(all) => all.iter().all(|f| f.matches(values)),
            Filter::Or(any) => any.iter().any(|f| f.matches(values)),
            Filter::Compare {
                field,
                kind,
                op,
                value,
            } => values
                .get(field)
                .is_some_and(|stored| stored_matches(stored, *kind, *op, value)),
        }
    }
}

fn parse_at(at: &str, input: &Json, version: &AppVersion, tz: Tz) -> Result<Filter, FieldError> {
    let object = input
        .as_object()
        .ok_or_else(|| FieldError::new(at, "type", "must be a JSON object"))?;
    for (name, make) in [("and", Filter::And as fn(_) -> _), ("or", Filter::Or)] {
        if let Some(list) = object.get(name) {
            if object.len() != 1 {
                let message = format!("\"{name}\" must be the only key of its object");
                return Err(FieldError::new(at, "shape", message));
            }
            let items = list
                .as_array()
                .ok_or_else(|| FieldError::new(format!("{at}.{name}"), "type", "must be a list"))?;
            let parsed = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_at(&format!("{at}.{name}[{i}]"), item, version, tz))
                .collect::<Result<_, _>>()?;
            return Ok(make(parsed));
        }
    }
    parse_comparison(at, object, version, tz)
}

fn parse_comparison(
    at: &str,
    object: &Map<String, Json>,
    version: &AppVersion,
    tz: Tz,
) -> Result<Filter, FieldError> {
    let field = object.get("field").and_then(Json::as_str).ok_or_else(|| {
        let message = "needs \"and\", \"or\", or \"field\" with eq, gt, gte, lt or lte";
        FieldError::new(at, "shape", message)
    })?;
    let block = version.block(field).ok_or_else(|| {
        let message = format!("app {:?} has no block {field:?}", version.app);
        FieldError::new(format!("{at}.field"), "unknown-block", message)
    })?;
    for key in object.keys() {
        if key != "field" && !OPS.iter().any(|(name, _)| name == key) {
            let message = format!("unknown key {key:?}; use eq, gt, gte, lt or lte");
            return Err(FieldError::new(format!("{at}.{key}"), "shape", message));
        }
    }

    if matches!(
        block.kind,
        ValueKind::Gps | ValueKind::File | ValueKind::FileList
    ) {
        let message = format!("{field:?} holds GPS positions or files, which cannot be filtered");
        return Err(FieldError::new(format!("{at}.field"), "type", message));
    }
    let mut comparisons = Vec::new();
    for (name, op) in OPS {
        let Some(raw) = object.get(name) else {
            continue;
        };
        let value = operand(block.kind, raw, tz).ok_or_else(|| {
            let message = format!(
                "must be {} to compare with {field:?}",
                block.kind.expected()
            );
            FieldError::new(format!("{at}.{name}"), "type", message)
        })?;
        comparisons.push(Filter::Compare {
            field: field.to_string(),
            kind: block.kind,
            op,
            value,
        });
    }
    match comparisons.len() {
        0 => Err(FieldError::new(
            at,
            "shape",
            "needs one of eq, gt, gte, lt, lte",
        )),
        1 => Ok(comparisons.remove(0)),
        _ => Ok(Filter::And(comparisons)),
    }
}

/// Reads a filter value, or a stored value, as an operand of `kind`.
fn operand(kind: ValueKind, raw: &Json, tz: Tz) -> Option<Operand> {
    Some(match kind {
        ValueKind::Text | ValueKind::TextList => Operand::Text(raw.as_str()?.to_string()),
        ValueKind::Number => Operand::Number(raw.as_f64()?),
        ValueKind::Boolean => Operand::Boolean(raw.as_bool()?),
        ValueKind::Date => Operand::Date(epoch_days(raw.as_str()?)?),
        ValueKind::Time => Operand::Time(seconds_of_day(raw.as_str()?)?),
        ValueKind::Datetime => Operand::Instant(instant(raw.as_str()?, tz)?),
        ValueKind::Gps | ValueKind::File | ValueKind::FileList => return None,
    })
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn epoch_days(text: &str) -> Option<i64> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some((date - NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days())
}

/// Seconds since midnight of an `HH:MM[:SS]` time.
pub fn seconds_of_day(text: &str) -> Option<i64> {
    let time = values::time(text)?;
    Some(time.hour as i64 * 3600 + time.minute as i64 * 60 + time.second as i64)
}

/// A day means its first moment in `tz`.
fn instant(text: &str, tz: Tz) -> Option<i64> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let start = tz
            .from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
            .earliest()?;
        return Some(start.timestamp_micros());
    }
    let value = values::datetime(text, tz)?;
    Some(value.seconds * 1_000_000 + value.nanoseconds as i64 / 1_000)
}

fn stored_matches(stored: &Json, kind: ValueKind, op: Op, wanted: &Operand) -> bool {
    if let (ValueKind::TextList, Some(items)) = (kind, stored.as_array()) {
        return items
            .iter()
            .any(|item| stored_matches(item, ValueKind::Text, op, wanted));
    }
    // Stored values are canonical, so the time zone only matters for input.
    let Some(have) = operand(kind, stored, chrono_tz::UTC) else {
        return false;
    };
    let Some(order) = compare(&have, wanted) else {
        return false;
    };
    match op {
        Op::Eq => order == Ordering::Equal,
        Op::Gt => order == Ordering::Greater,
        Op::Gte => order != Ordering::Less,
        Op::Lt => order == Ordering::Less,
        Op::Lte => order != Ordering::Greater,
    }
}

fn compare(have: &Operand, wanted: &Operand) -> Option<Ordering> {
    use Operand::*;
    match (have, wanted) {
        (Text(a), Text(b)) => Some(a.cmp(b)),
        (Number(a), Number(b)) => a.partial_cmp(b),
        (Boolean(a), Boolean(b)) => Some(a.cmp(b)),
        (Date(a), Date(b)) | (Time(a), Time(b)) | (Instant(a), Instant(b)) => Some(a.cmp(b)),
        _ => None,
    }
}
