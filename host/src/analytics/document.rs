//! Turning a stored submission into an index document.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use serde_json::Value as Json;
use tantivy::TantivyDocument;
use tantivy::schema::OwnedValue;

use super::calendar;
use super::schema::IndexFields;
use crate::apps::AppVersion;
use crate::filter::{epoch_days, seconds_of_day};
use crate::submissions::Submission;
use crate::values::ValueKind;

/// The index document of `submission`, typed by the version it was made with.
pub fn document(
    fields: &IndexFields,
    org: &str,
    submission: &Submission,
    version: &AppVersion,
    tz: Tz,
) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    let key = format!("{org}/{}/{}", submission.app, submission.id);
    doc.add_text(fields.key, key);
    doc.add_text(fields.org, org);
    doc.add_text(fields.app, &submission.app);

    let mut values = BTreeMap::new();
    let mut calendar = BTreeMap::new();
    for block in &version.blocks {
        let Some(stored) = submission.values.get(&block.key) else {
            continue;
        };
        let Some(value) = index_value(block.kind, stored) else {
            continue;
        };
        if let Some(day) = local_day(block.kind, &value, tz) {
            calendar.insert(block.key.clone(), calendar_entry(day));
        }
        values.insert(block.key.clone(), value);
    }
    doc.add_object(fields.values, values);
    doc.add_object(fields.calendar, calendar);
    doc
}

/// How a stored value is indexed. Lists of text are multi-valued; GPS is
/// indexed as latitude and longitude; files are not indexed.
pub fn index_value(kind: ValueKind, stored: &Json) -> Option<OwnedValue> {
    Some(match kind {
        ValueKind::Text => OwnedValue::Str(stored.as_str()?.to_string()),
        ValueKind::Number => OwnedValue::F64(stored.as_f64()?),
        ValueKind::Boolean => OwnedValue::Bool(stored.as_bool()?),
        ValueKind::Date => OwnedValue::I64(epoch_days(stored.as_str()?)?),
        ValueKind::Time => OwnedValue::I64(seconds_of_day(stored.as_str()?)?),
        ValueKind::Datetime => {
            let instant = DateTime::parse_from_rfc3339(stored.as_str()?).ok()?;
            OwnedValue::I64(instant.timestamp_micros())
        }
        ValueKind::Gps => OwnedValue::Object(vec![
            (
                "latitude".into(),
                OwnedValue::F64(stored["latitude"].as_f64()?),
            ),
            (
                "longitude".into(),
                OwnedValue::F64(stored["longitude"].as_f64()?),
            ),
        ]),
        ValueKind::TextList => OwnedValue::Array(
            stored
                .as_array()?
                .iter()
                .filter_map(|item| Some(OwnedValue::Str(item.as_str()?.to_string())))
                .collect(),
        ),
        ValueKind::File | ValueKind::FileList => return None,
    })
}

fn local_day(kind: ValueKind, value: &OwnedValue, tz: Tz) -> Option<NaiveDate> {
    match (kind, value) {
        (ValueKind::Date, OwnedValue::I64(days)) => {
            NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(*days))
        }
        (ValueKind::Datetime, OwnedValue::I64(micros)) => calendar::local_date(*micros, tz),
        _ => None,
    }
}

fn calendar_entry(day: NaiveDate) -> OwnedValue {
    let [day, week, month] = calendar::buckets(day);
    OwnedValue::Object(vec![
        ("day".into(), OwnedValue::I64(day)),
        ("week".into(), OwnedValue::I64(week)),
        ("month".into(), OwnedValue::I64(month)),
    ])
}
