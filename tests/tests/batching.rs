//! A batch reaches each validator plugin in one call, however many rows it
//! holds. Checked in-process on the real server modules and the real
//! plugin components, by the runtime's own call counters.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use tessera::apps::NewApp;
use tessera::auth::{self, Caller};
use tessera::config::Config;
use tessera::server::Server;
use tessera::submissions::{NewSubmission, RowOutcome};
use tessera_tests::{plugins_dir, root, temp_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_two_thousand_flights_calls_each_validator_once() -> anyhow::Result<()> {
    let data_dir = temp_dir("batching");
    let config = Config {
        data_dir: data_dir.clone(),
        plugins_dir: plugins_dir(),
        plugin_cache_dir: Some(root().join("target/plugin-cache")),
        ..Config::default()
    };
    let server = Server::start(config).await?;
    let first = auth::ensure_first_org(&server.store, "America/New_York")?.expect("a new org");
    let caller = Caller {
        org: first.org,
        token_name: "test".into(),
    };

    let mut flights = Vec::new();
    for (definition, data) in tessera::demo::APPS {
        let definition: Json = serde_json::from_str(definition)?;
        let mut app: NewApp = serde_json::from_value(definition.clone())?;
        app.publish = true;
        let app = server
            .apps
            .create(&caller.org.id, app, server.records(&caller))
            .await?;
        let rows = rows(&definition, data)?;
        if app.id == "flights" {
            flights = rows;
        } else {
            server
                .submissions
                .create_batch(&caller, &app.id, rows)
                .await?;
        }
    }
    flights.truncate(2_000);

    let before = calls(&server);
    let outcomes = server
        .submissions
        .create_batch(&caller, "flights", flights)
        .await?;
    let after = calls(&server);
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, RowOutcome::Created { .. }))
        .count();
    assert!(created > 1_900, "most sample flights are valid: {created}");

    // Flights uses number, text, lookup and datetime blocks: one call each.
    let delta: BTreeMap<&str, u64> = after
        .iter()
        .map(|(name, n)| (name.as_str(), n - before[name]))
        .collect();
    let expected = BTreeMap::from([
        ("core/barcode", 0),
        ("core/choice", 0),
        ("core/datetime", 1),
        ("core/email", 0),
        ("core/gps", 0),
        ("core/lookup", 1),
        ("core/number", 1),
        ("core/phone", 0),
        ("core/text", 1),
        ("core/url", 0),
    ]);
    assert_eq!(delta, expected);

    drop(server);
    let _ = std::fs::remove_dir_all(data_dir);
    Ok(())
}

fn rows(definition: &Json, data: &str) -> anyhow::Result<Vec<NewSubmission>> {
    let mut reader = csv::Reader::from_reader(data.as_bytes());
    let headers = reader.headers()?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let values = tessera::demo::csv_values(definition, &headers, &record?);
        rows.push(NewSubmission { id: None, values });
    }
    Ok(rows)
}

fn calls(server: &Server) -> BTreeMap<String, u64> {
    server
        .runtime
        .plugins()
        .iter()
        .map(|p| (p.block_type.clone(), p.calls()))
        .collect()
}
