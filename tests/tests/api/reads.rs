//! Reads: cursor-paged lists, filters, aggregations in the org's time zone,
//! and everything still there after a restart.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value as Json, json};
use tessera_tests::TestServer;

use crate::fixtures::{ean_13_check_digit, order_filters, orders, orders_app, sales, sales_app};
use crate::support::*;

#[tokio::test]
async fn lists_page_newest_first_and_filters_select_exactly_the_right_rows() -> anyhow::Result<()> {
    let server = TestServer::start("api-lists", "Asia/Tokyo")?;
    create_app(&server, orders_app()).await;
    let mut created = Vec::new();
    for order in orders() {
        created.push(id_of(&submit(&server, "orders", order).await));
        // A ULID sorts by its millisecond first: a millisecond apart, the
        // creation order is the id order.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    pages_hold_every_submission_once_newest_first(&server, &newest_first).await;
    filters_select_the_rows_worked_out_by_hand(&server, &created).await;
    bad_filters_and_paging_are_refused(&server).await;
    Ok(())
}

async fn pages_hold_every_submission_once_newest_first(
    server: &TestServer,
    newest_first: &[String],
) {
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut path = "/api/apps/orders/submissions?limit=3".to_string();
    loop {
        let (status, page) = server.get(&path).await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        sizes.push(items.len());
        seen.extend(items.iter().map(id_of));
        let Some(cursor) = page.get("next_cursor") else {
            break;
        };
        path = format!(
            "/api/apps/orders/submissions?limit=3&after={}",
            cursor.as_str().unwrap()
        );
    }
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(seen, newest_first);

    // When the rows end exactly at the page size, that page is the last.
    let (_, page) = server.get("/api/apps/orders/submissions?limit=7").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 7);
    assert!(page.get("next_cursor").is_none(), "{page}");

    // A filtered list pages the same way.
    let mut totals = Vec::new();
    let mut query = json!({"limit": 1, "filter": {"field": "customer", "eq": "ann"}});
    loop {
        let (status, page) = server
            .post("/api/apps/orders/submissions/query", &query)
            .await;
        assert_eq!(status, 200, "{page}");
        totals.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["values"]["total"].clone()),
        );
        let Some(cursor) = page.get("next_cursor") else {
            break;
        };
        query["after"] = cursor.clone();
    }
    assert_eq!(
        totals,
        [json!(40), json!(7), json!(12.5)],
        "ann's orders, newest first"
    );
}

async fn filters_select_the_rows_worked_out_by_hand(server: &TestServer, created: &[String]) {
    for (filter, expected) in order_filters() {
        let query = json!({ "filter": filter });
        let (status, page) = server
            .post("/api/apps/orders/submissions/query", &query)
            .await;
        assert_eq!(status, 200, "{filter}: {page}");
        let got: BTreeSet<String> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect();
        let want: BTreeSet<String> = expected.iter().map(|&i| created[i].clone()).collect();
        assert_eq!(got, want, "{filter}");
    }
}

async fn bad_filters_and_paging_are_refused(server: &TestServer) {
    let customer = json!({"field": "customer", "eq": "ann"});
    let colour = json!({"field": "colour", "eq": "red"});
    let cases = [
        (json!({"filter": colour}), "filter.field:unknown-block"),
        (
            json!({"filter": {"or": [customer, colour]}}),
            "filter.or[1].field:unknown-block",
        ),
        (
            json!({"filter": {"field": "total", "gte": "a lot"}}),
            "filter.gte:type",
        ),
        (
            json!({"filter": {"field": "placed", "lt": "next week"}}),
            "filter.lt:type",
        ),
        (
            json!({"filter": {"field": "total", "like": 4}}),
            "filter.like:shape",
        ),
        (json!({"limit": 0}), "limit:range"),
        (json!({"after": "page-2"}), "after:ulid"),
    ];
    for (query, rule) in cases {
        let answer = server
            .post("/api/apps/orders/submissions/query", &query)
            .await;
        assert_rules(&answer, 422, &[rule]);
    }
    let answer = server.get("/api/apps/orders/submissions?limit=ten").await;
    assert_error(&answer, 400, "invalid_query");
}

#[tokio::test]
async fn aggregations_group_by_text_and_by_local_calendar_periods() -> anyhow::Result<()> {
    let server = TestServer::start("api-aggregate", "America/New_York")?;
    create_app(&server, sales_app()).await;
    let mut sale_ids = Vec::new();
    for sale in sales() {
        sale_ids.push(id_of(&submit(&server, "sales", sale).await));
    }
    let all = json!({"metrics": [{"op": "count"}, {"op": "sum", "field": "amount"}]});
    let expected = json!([{"key": {}, "count": 7, "sum_amount": 133.75}]);
    wait_for_groups(&server, "sales", all, expected).await;

    metrics_per_region_match_the_sums_by_hand(&server).await;
    calendar_groups_follow_new_york_days(&server).await;
    aggregate_filters_select_what_list_filters_select(&server).await;
    bad_aggregations_are_refused(&server).await;
    edits_and_deletes_reach_the_index(&server, &sale_ids).await;
    rows_of_concurrent_writers_all_reach_the_index(&server).await;
    Ok(())
}

async fn metrics_per_region_match_the_sums_by_hand(server: &TestServer) {
    let metrics = json!([{"op": "count"}, {"op": "sum", "field": "amount"},
        {"op": "avg", "field": "amount"}, {"op": "min", "field": "amount"},
        {"op": "max", "field": "amount"}]);
    let request = json!({"metrics": metrics, "group_by": [{"field": "region"}]});
    // east: 100 and -4; north: 10 and 20; south: 5.5, and a sale without an
    // amount that is counted but not summed; west: 2.25.
    let group = |region: &str, count: u64, [sum, avg, min, max]: [f64; 4]| {
        json!({"key": {"region": region}, "count": count, "sum_amount": sum,
            "avg_amount": avg, "min_amount": min, "max_amount": max})
    };
    let expected = json!([
        group("east", 2, [96.0, 48.0, -4.0, 100.0]),
        group("north", 2, [30.0, 15.0, 10.0, 20.0]),
        group("south", 2, [5.5, 5.5, 5.5, 5.5]),
        group("west", 1, [2.25, 2.25, 2.25, 2.25]),
    ]);
    assert_eq!(aggregate(server, "sales", request).await, expected);

    // 10 + 20 + 5.5 + 100 - 4 + 2.25 = 133.75, over the six sales with an
    // amount.
    let whole = &aggregate(server, "sales", json!({ "metrics": metrics })).await[0];
    assert_eq!(
        (&whole["count"], &whole["sum_amount"]),
        (&json!(7), &json!(133.75))
    );
    assert!(
        (whole["avg_amount"].as_f64().unwrap() - 133.75 / 6.0).abs() < 1e-9,
        "{whole}"
    );
    assert_eq!(
        (&whole["min_amount"], &whole["max_amount"]),
        (&json!(-4.0), &json!(100.0))
    );
}

async fn calendar_groups_follow_new_york_days(server: &TestServer) {
    let by = |interval: &str| json!({"group_by": [{"field": "at", "interval": interval}]});
    let bucket = |key: &str, count: u64| json!({"key": {"at": key}, "count": count});
    // One sale a local day; the sale without a date is in no bucket.
    let days = [
        "2024-02-29",
        "2024-03-01",
        "2024-03-03",
        "2024-03-04",
        "2024-03-10",
        "2024-03-31",
    ];
    let expected = Json::Array(days.iter().map(|day| bucket(day, 1)).collect());
    assert_eq!(aggregate(server, "sales", by("day")).await, expected);

    let expected = json!([
        bucket("2024-02-26", 3),
        bucket("2024-03-04", 2),
        bucket("2024-03-25", 1)
    ]);
    assert_eq!(aggregate(server, "sales", by("week")).await, expected);

    // In UTC the first sale would be in March and the last in April.
    let expected = json!([bucket("2024-02", 1), bucket("2024-03", 5)]);
    assert_eq!(aggregate(server, "sales", by("month")).await, expected);

    let request = json!({"metrics": [{"op": "sum", "field": "amount"}],
        "group_by": [{"field": "region"}, {"field": "at", "interval": "month"}]});
    let cell = |region: &str, month: &str, sum: f64| {
        let key = json!({"region": region, "at": month});
        json!({"key": key, "sum_amount": sum})
    };
    let expected = json!([
        cell("east", "2024-03", 100.0),
        cell("north", "2024-02", 10.0),
        cell("north", "2024-03", 20.0),
        cell("south", "2024-03", 5.5),
        cell("west", "2024-03", 2.25),
    ]);
    assert_eq!(aggregate(server, "sales", request).await, expected);
}

async fn aggregate_filters_select_what_list_filters_select(server: &TestServer) {
    let region = |name: &str| json!({"field": "region", "eq": name});
    // Filters, the `row` of each sale they select, and its sum of amounts.
    let cases = [
        (region("north"), vec![0, 1], 30.0),
        (
            json!({"field": "amount", "gte": 5.5, "lt": 100}),
            vec![0, 1, 2],
            35.5,
        ),
        // New York days: from 2024-03-01T05:00Z up to 2024-03-04T05:00Z.
        (
            json!({"field": "at", "gte": "2024-03-01", "lt": "2024-03-04"}),
            vec![1, 2],
            25.5,
        ),
        // Local daylight time: 2024-03-10T07:30Z.
        (
            json!({"field": "at", "gte": "2024-03-10T03:30:00"}),
            vec![4, 6],
            102.25,
        ),
        (
            json!({"or": [region("east"),
                {"and": [region("south"), {"field": "amount", "gt": 0}]}]}),
            vec![2, 4, 5],
            101.5,
        ),
        (json!({"and": []}), vec![0, 1, 2, 3, 4, 5, 6], 133.75),
        (json!({"or": []}), vec![], 0.0),
    ];
    for (filter, rows, sum) in cases {
        let query = json!({ "filter": filter });
        let (status, page) = server
            .post("/api/apps/sales/submissions/query", &query)
            .await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        let listed: BTreeSet<u64> = items
            .iter()
            .map(|s| s["values"]["row"].as_u64().unwrap())
            .collect();
        assert_eq!(listed, rows.iter().copied().collect(), "list {filter}");

        let metrics = json!([{"op": "count"}, {"op": "sum", "field": "amount"}]);
        let request = json!({"filter": filter, "metrics": metrics});
        let expected = json!([{"key": {}, "count": rows.len(), "sum_amount": sum}]);
        assert_eq!(
            aggregate(server, "sales", request).await,
            expected,
            "aggregate {filter}"
        );
    }
}

async fn bad_aggregations_are_refused(server: &TestServer) {
    let metric = |op: &str, field: &str| json!({"metrics": [{"op": op, "field": field}]});
    let cases = [
        (metric("sum", "region"), "metrics[0].field:type"),
        (metric("avg", "at"), "metrics[0].field:type"),
        (metric("max", "price"), "metrics[0].field:unknown-block"),
        (
            json!({"metrics": [{"op": "sum"}]}),
            "metrics[0].field:required",
        ),
        (
            json!({"group_by": [{"field": "at"}]}),
            "group_by[0].interval:required",
        ),
        (
            json!({"group_by": [{"field": "region", "interval": "day"}]}),
            "group_by[0].interval:type",
        ),
        (
            json!({"filter": {"field": "price", "gt": 1}}),
            "filter.field:unknown-block",
        ),
    ];
    for (request, rule) in cases {
        assert_rules(
            &server.post("/api/apps/sales/aggregate", &request).await,
            422,
            &[rule],
        );
    }
    let median = json!({"metrics": [{"op": "median"}]});
    let answer = server.post("/api/apps/sales/aggregate", &median).await;
    assert_rules(&answer, 400, &["metrics[0].op:json"]);
}

async fn edits_and_deletes_reach_the_index(server: &TestServer, sale_ids: &[String]) {
    submit(
        server,
        "sales",
        json!({"row": 7, "region": "west", "amount": 7.75}),
    )
    .await;
    let east = format!("/api/apps/sales/submissions/{}", sale_ids[5]);
    assert_eq!(patch(server, &east, json!({"amount": 4})).await.0, 200);
    let north = format!("/api/apps/sales/submissions/{}", sale_ids[0]);
    assert_eq!(delete(server, &north).await, 204);

    // east 100 + 4; north lost its 10; west 2.25 + 7.75.
    let request = json!({"metrics": [{"op": "sum", "field": "amount"}],
        "group_by": [{"field": "region"}]});
    let sum = |region: &str, sum: f64| json!({"key": {"region": region}, "sum_amount": sum});
    let expected = json!([
        sum("east", 104.0),
        sum("north", 20.0),
        sum("south", 5.5),
        sum("west", 10.0)
    ]);
    wait_for_groups(server, "sales", request, expected).await;
}

/// Every acknowledged row is counted, however the commits of writers
/// working at the same time interleave.
async fn rows_of_concurrent_writers_all_reach_the_index(server: &TestServer) {
    let writer = |writer: u64| async move {
        for batch in 0..5 {
            let row = |i| {
                json!({"values": {"row": 100 + writer * 100 + batch * 10 + i,
                "region": "online", "amount": 1}})
            };
            let rows: Vec<Json> = (0..10).map(row).collect();
            let body = json!({ "submissions": rows });
            let (status, body) = server
                .post("/api/apps/sales/submissions/batch", &body)
                .await;
            assert_eq!((status, &body["created"]), (200, &json!(10)), "{body}");
        }
    };
    tokio::join!(writer(0), writer(1), writer(2), writer(3));

    let request = json!({"metrics": [{"op": "count"}, {"op": "sum", "field": "amount"}],
        "filter": {"field": "region", "eq": "online"}});
    let expected = json!([{"key": {}, "count": 200, "sum_amount": 200.0}]);
    wait_for_groups(server, "sales", request, expected).await;
}

#[tokio::test]
async fn everything_stored_survives_a_restart() -> anyhow::Result<()> {
    let mut server = TestServer::start("api-restart", "UTC")?;
    create_app(
        &server,
        json!({"id": "library", "name": "Library", "publish": true, "blocks": [
        {"key": "isbn", "type": "core/barcode", "required": true, "unique": true},
        {"key": "copies", "type": "core/number"}]}),
    )
    .await;
    // ISBN-13s of real books, their check digits checked here.
    let books = ["9780306406157", "9780262033848", "9780131103627"];
    for isbn in books {
        assert_eq!(
            ean_13_check_digit(&isbn[..12]),
            isbn[12..].parse::<u32>()?,
            "{isbn}"
        );
    }
    let ids: Vec<String> = books.iter().map(|_| new_id()).collect();
    for (id, isbn) in ids.iter().zip(books) {
        let row = json!({"id": id, "values": {"isbn": isbn, "copies": 2}});
        assert_eq!(
            server.post("/api/apps/library/submissions", &row).await.0,
            201
        );
    }
    let edited = format!("/api/apps/library/submissions/{}", ids[1]);
    assert_eq!(patch(&server, &edited, json!({"copies": 5})).await.0, 200);
    assert_eq!(
        delete(
            &server,
            &format!("/api/apps/library/submissions/{}", ids[2])
        )
        .await,
        204
    );
    let draft = json!({"name": "Library 2", "blocks": [{"key": "isbn", "type": "core/barcode"}]});
    assert_eq!(
        server
            .call("PUT", "/api/apps/library/draft", Some(&draft))
            .await
            .0,
        200
    );

    let totals = json!({"metrics": [{"op": "count"}, {"op": "sum", "field": "copies"}]});
    let expected = json!([{"key": {}, "count": 2, "sum_copies": 7.0}]);
    wait_for_groups(&server, "library", totals.clone(), expected.clone()).await;
    let before = library_state(&server, &edited).await;

    server.restart()?;

    let after = library_state(&server, &edited).await;
    assert_eq!(
        after, before,
        "the app, the list, the edit and its history are as they were"
    );
    wait_for_groups(&server, "library", totals, expected).await;

    // The unique values and the client ids came back too.
    let answer = post_values(&server, "library", json!({"isbn": books[0]})).await;
    assert_rules(&answer, 422, &["isbn:unique"]);
    let retry = json!({"id": ids[0], "values": {"isbn": books[0], "copies": 2}});
    assert_eq!(
        server.post("/api/apps/library/submissions", &retry).await.0,
        200
    );
    submit(&server, "library", json!({"isbn": books[2]})).await;
    Ok(())
}

/// The app, its submission ids, one submission and its history.
async fn library_state(
    server: &TestServer,
    edited: &str,
) -> (Answer, Vec<String>, Answer, Vec<Json>) {
    let app = server.get("/api/apps/library").await;
    let submission = server.get(edited).await;
    (
        app,
        ids(server, "library").await,
        submission,
        history(server, edited).await,
    )
}
