//! Loads all 336,776 `nycflights13` flights into a real server over HTTP,
//! with every validator running, and prints throughput, request latency,
//! peak memory, and the latency of grouped aggregations over the full set.
//!
//! Run: `cargo bench -p tessera-tests --bench flights` (after
//! `scripts/test` has built the plugins and fetched the data).

use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use tessera_tests::TestServer;
use tessera_tests::flights::{self, Flights};

const BATCH: usize = 5_000;
const CONCURRENCY: usize = 2;
const SINGLE_REQUESTS: usize = 5_000;
const AGGREGATION_RUNS: usize = 100;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let data = Flights::read(None)?;
    let expected = data.expected();
    let server = TestServer::start("bench", "America/New_York")?;
    flights::create_apps(&server).await?;
    flights::load(
        &server,
        "airlines",
        flights::rows("airlines", &data.airlines),
        1_000,
        1,
    )
    .await?;
    flights::load(
        &server,
        "airports",
        flights::rows("airports", &data.airports),
        1_000,
        1,
    )
    .await?;

    let rows = flights::rows("flights", &data.flights);
    let total = rows.len();
    let report = flights::load(&server, "flights", rows, BATCH, CONCURRENCY).await?;
    anyhow::ensure!(
        report.created == expected.accepted,
        "accepted {} rows",
        report.created
    );
    let rate = total as f64 / report.elapsed.as_secs_f64();
    println!(
        "batch load: {total} flights ({} accepted, {} rejected) in {:.2} s \
         = {rate:.0} submissions/s",
        report.created,
        report.rejected.len(),
        report.elapsed.as_secs_f64()
    );
    print_latencies(
        &format!("batch request ({BATCH} rows, {CONCURRENCY} in flight)"),
        report.request_latencies,
    );

    let indexed = Instant::now();
    flights::wait_for_count(&server, expected.accepted, Duration::from_secs(600)).await?;
    println!(
        "index caught up {:.2} s after the last batch was acknowledged",
        indexed.elapsed().as_secs_f64()
    );

    single_submissions(&server, &data).await?;
    aggregations(&server).await;
    if let Some(peak) = server.peak_memory() {
        println!(
            "server peak resident memory: {:.0} MiB",
            peak as f64 / (1 << 20) as f64
        );
    }
    Ok(())
}

/// One flight per request, eight requests in flight.
async fn single_submissions(server: &TestServer, data: &Flights) -> anyhow::Result<()> {
    let rows: Vec<Json> = flights::rows("flights", &data.flights)
        .into_iter()
        .filter(|row| {
            !["BQN", "SJU", "STT", "PSE"].contains(&row["values"]["dest"].as_str().unwrap_or(""))
        })
        .take(SINGLE_REQUESTS)
        .collect();
    let started = Instant::now();
    let url = format!("{}/api/apps/flights/submissions", server.base);
    let mut tasks = tokio::task::JoinSet::new();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(rows.into_iter()));
    for _ in 0..8 {
        let (queue, client, url, token) = (
            queue.clone(),
            server.client.clone(),
            url.clone(),
            server.token.clone(),
        );
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(row) = queue.lock().unwrap().next() else {
                    break;
                };
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&row)
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status() == 201,
                    "single submission: {}",
                    response.status()
                );
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done??);
    }
    let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    println!(
        "single submissions: {} in {:.2} s = {rate:.0} submissions/s",
        latencies.len(),
        started.elapsed().as_secs_f64()
    );
    print_latencies("single request (8 in flight)", latencies);
    Ok(())
}

async fn aggregations(server: &TestServer) {
    let cases = [
        (
            "count by carrier",
            json!({"group_by": [{"field": "carrier"}]}),
        ),
        (
            "avg dep_delay by carrier",
            json!({
            "metrics": [{"op": "avg", "field": "dep_delay"}], "group_by": [{"field": "carrier"}]}),
        ),
        (
            "count by month (America/New_York)",
            json!({
            "group_by": [{"field": "time_hour", "interval": "month"}]}),
        ),
        (
            "avg arr_delay by carrier and week",
            json!({
            "metrics": [{"op": "count"}, {"op": "avg", "field": "arr_delay"}],
            "group_by": [{"field": "carrier"}, {"field": "time_hour", "interval": "week"}]}),
        ),
        (
            "count by origin, dep_delay >= 60, JFK or LGA",
            json!({
            "group_by": [{"field": "origin"}],
            "filter": {"and": [{"field": "dep_delay", "gte": 60},
                {"or": [{"field": "origin", "eq": "JFK"}, {"field": "origin", "eq": "LGA"}]}]}}),
        ),
    ];
    for (name, request) in cases {
        let mut latencies = Vec::with_capacity(AGGREGATION_RUNS);
        for _ in 0..AGGREGATION_RUNS {
            let sent = Instant::now();
            let groups = flights::aggregate(server, request.clone()).await;
            latencies.push(sent.elapsed());
            assert!(!groups.is_empty());
        }
        print_latencies(&format!("aggregation: {name}"), latencies);
    }
}

fn print_latencies(name: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name}: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        latencies.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
}
