//! Submissions the server must refuse: bad JSON, values of the wrong kind,
//! broken plugin rules and requests over the configured limits. A refused
//! request stores nothing.

use serde_json::{Value as Json, json};
use tessera_tests::TestServer;

use crate::fixtures::{ean_13_check_digit, inspections, valid_inspection};
use crate::support::*;

#[tokio::test]
async fn bad_submissions_are_refused_with_field_and_rule_and_store_nothing() -> anyhow::Result<()> {
    let server = TestServer::start("api-input", "UTC")?;
    create_app(&server, inspections()).await;

    bodies_that_are_not_the_expected_json_are_refused(&server).await;
    assert!(ids(&server, "inspections").await.is_empty());
    values_that_do_not_fit_their_block_are_refused(&server).await;
    every_broken_rule_of_a_row_is_reported_at_once(&server).await;
    an_app_that_does_not_exist_is_not_found(&server).await;
    assert!(ids(&server, "inspections").await.is_empty());

    let stored = submit(&server, "inspections", valid_inspection()).await;
    assert_eq!(ids(&server, "inspections").await, [id_of(&stored)]);
    Ok(())
}

async fn bodies_that_are_not_the_expected_json_are_refused(server: &TestServer) {
    let path = "/api/apps/inspections/submissions";
    let token = Some(server.token.as_str());
    let cut_short = br#"{"values": {"site": "Depot""#;
    let answer = send_raw(server, "POST", path, token, cut_short).await;
    assert_error(&answer, 400, "invalid_json");
    // The field named is the one being read when the body ran out.
    assert_rules(&answer, 400, &["values:json"]);

    let answer = send_raw(server, "POST", path, token, b"[]").await;
    assert_rules(&answer, 400, &["body:json"]);
    assert!(
        message(&answer.1).contains("must be a JSON object; this one is an array"),
        "{}",
        answer.1
    );

    let cases = [
        (json!({"values": {}, "extra": 1}), "extra:json"),
        (json!({"values": ["Depot"]}), "values:json"),
        (json!({"id": 7, "values": {}}), "id:json"),
    ];
    for (body, rule) in cases {
        let answer = server.post(path, &body).await;
        assert_error(&answer, 400, "invalid_json");
        assert_rules(&answer, 400, &[rule]);
    }
}

async fn values_that_do_not_fit_their_block_are_refused(server: &TestServer) {
    let cases = [
        ("site", json!(5), "type"),
        ("count", json!("3"), "type"),
        ("hazards", json!("fire"), "type"),
        ("seen_at", json!("yesterday"), "type"),
        ("position", json!({"lat": 1, "lng": 2}), "type"),
        ("colour", json!("red"), "unknown-block"),
        // An empty text is a blank block, as an untouched form field is.
        ("site", json!(""), "required"),
    ];
    for (block, value, rule) in cases {
        let mut values = valid_inspection();
        values[block] = value;
        let answer = post_values(server, "inspections", values).await;
        assert_error(&answer, 422, "validation_failed");
        assert_rules(&answer, 422, &[&format!("{block}:{rule}")]);
        assert!(
            ids(server, "inspections").await.is_empty(),
            "{block}: stored nothing"
        );
    }

    let mut values = valid_inspection();
    values.as_object_mut().unwrap().remove("site");
    assert_rules(
        &post_values(server, "inspections", values).await,
        422,
        &["site:required"],
    );
    let row = json!({"id": "visit-1", "values": valid_inspection()});
    let answer = server.post("/api/apps/inspections/submissions", &row).await;
    assert_rules(&answer, 422, &["id:ulid"]);
    assert!(ids(server, "inspections").await.is_empty());
}

async fn every_broken_rule_of_a_row_is_reported_at_once(server: &TestServer) {
    let values = json!({"site": 5, "count": "3", "colour": "red"});
    let (status, body) = post_values(server, "inspections", values).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        sorted(rules(&body)),
        ["colour:unknown-block", "count:type", "site:type"]
    );
    let errors = body["error"]["errors"].as_array().unwrap();
    let site = errors.iter().find(|e| e["field"] == "site").unwrap();
    assert_eq!(site["message"], "must be a string");
}

async fn an_app_that_does_not_exist_is_not_found(server: &TestServer) {
    let row = json!({"values": {"site": "Depot"}});
    let requests = [
        ("/api/apps/ghost/submissions", row.clone()),
        (
            "/api/apps/ghost/submissions/batch",
            json!({ "submissions": [row] }),
        ),
        ("/api/apps/ghost/submissions/query", json!({})),
        ("/api/apps/ghost/aggregate", json!({})),
    ];
    for (path, body) in requests {
        assert_error(&server.post(path, &body).await, 404, "not_found");
    }
    // An unknown submission is named as it was asked.
    let answer = server
        .get("/api/apps/inspections/submissions/hello-world")
        .await;
    assert_error(&answer, 404, "not_found");
    assert!(
        message(&answer.1).contains("\"hello-world\""),
        "{}",
        answer.1
    );

    // A route that exists, with a method it does not take, answers in the
    // same error shape.
    let answer = server
        .call("DELETE", "/api/apps/inspections/publish", None)
        .await;
    assert_error(&answer, 405, "method_not_allowed");
    assert_error(
        &server.call("PUT", "/metrics", None).await,
        405,
        "method_not_allowed",
    );
}

#[tokio::test]
async fn bodies_and_batches_over_the_configured_limits_are_refused_whole() -> anyhow::Result<()> {
    let config = "max_body_bytes = 4096\nmax_batch_rows = 5\n";
    let server = TestServer::start_with_config("api-limits", "UTC", config)?;
    create_app(&server, inspections()).await;

    let long_site = json!({"site": "x".repeat(5_000)});
    let answer = post_values(&server, "inspections", long_site).await;
    assert_error(&answer, 413, "body_too_large");
    assert!(
        message(&answer.1).contains("limit of 4096 bytes (the max_body_bytes setting)"),
        "{}",
        answer.1
    );
    let big_app = json!({"id": "big", "name": "x".repeat(5_000)});
    assert_error(
        &server.post("/api/apps", &big_app).await,
        413,
        "body_too_large",
    );
    assert_error(&server.get("/api/apps/big").await, 404, "not_found");

    let rows = |count: usize| {
        let rows: Vec<Json> = (0..count)
            .map(|i| json!({"values": {"site": format!("Site {i}")}}))
            .collect();
        json!({ "submissions": rows })
    };
    let answer = server
        .post("/api/apps/inspections/submissions/batch", &rows(6))
        .await;
    assert_error(&answer, 413, "batch_too_large");
    assert_rules(&answer, 413, &["submissions:max-rows"]);
    assert!(
        message(&answer.1).contains("at most 5 rows; this one has 6"),
        "{}",
        answer.1
    );
    assert!(
        ids(&server, "inspections").await.is_empty(),
        "no row of the batch is stored"
    );

    let (status, body) = server
        .post("/api/apps/inspections/submissions/batch", &rows(5))
        .await;
    assert_eq!((status, &body["created"]), (200, &json!(5)), "{body}");
    assert_eq!(ids(&server, "inspections").await.len(), 5);
    Ok(())
}

#[tokio::test]
async fn each_core_plugin_refuses_a_bad_value_with_its_documented_rule() -> anyhow::Result<()> {
    let server = TestServer::start("api-plugins", "UTC")?;
    create_app(&server, inspections()).await;

    // The EAN-13 example 4006381333931 ends in its check digit, so the same
    // number ending in 2 is a mistyped one.
    assert_eq!(ean_13_check_digit("400638133393"), 1);

    let cases = broken_plugin_rules();
    for (block, value, rule, expected_message) in &cases {
        let mut values = valid_inspection();
        values[*block] = value.clone();
        let answer = post_values(&server, "inspections", values).await;
        assert_rules(&answer, 422, &[&format!("{block}:{rule}")]);
        let message = &answer.1["error"]["errors"][0]["message"];
        assert_eq!(message, *expected_message, "{block} = {value}");
    }
    assert!(ids(&server, "inspections").await.is_empty());

    // A row that breaks a rule of every plugin gets one error per block.
    let mut all_bad = json!({});
    for (block, value, _, _) in &cases {
        all_bad[*block] = value.clone();
    }
    let (status, body) = post_values(&server, "inspections", all_bad).await;
    assert_eq!(status, 422, "{body}");
    let expected = [
        "code:pattern",
        "contact:format",
        "count:integer",
        "hazards:option",
        "position:coordinates",
        "product:check-digit",
        "seen_at:min",
        "site:max-length",
    ];
    assert_eq!(sorted(rules(&body)), expected);

    let stored = submit(&server, "inspections", valid_inspection()).await;
    assert_eq!(stored["values"], valid_inspection(), "stored as sent");
    Ok(())
}

/// A value breaking one rule of each core plugin, with the rule's code and
/// message as each plugin documents them.
fn broken_plugin_rules() -> Vec<(&'static str, Json, &'static str, &'static str)> {
    let off_the_globe = "must have a latitude from -90 to 90 and a longitude from -180 to 180";
    vec![
        (
            "site",
            json!("Warehouse 12"),
            "max-length",
            "must be at most 10 characters long",
        ),
        (
            "code",
            json!("abc-12"),
            "pattern",
            "is not in the expected format",
        ),
        ("count", json!(-1), "min", "must be at least 0"),
        ("count", json!(2.5), "integer", "must be a whole number"),
        (
            "contact",
            json!("ann@"),
            "format",
            "is not a valid email address",
        ),
        (
            "contact",
            json!("ann@localhost"),
            "format",
            "is not a valid email address",
        ),
        (
            "hazards",
            json!(["fire", "smoke"]),
            "option",
            "“smoke” is not one of the allowed options: fire, flood, gas",
        ),
        (
            "seen_at",
            json!("2019-12-31T23:59:59Z"),
            "min",
            "must be at or after 2020-01-01T00:00:00Z",
        ),
        (
            "position",
            json!({"latitude": 91.0, "longitude": 2.2945}),
            "coordinates",
            off_the_globe,
        ),
        (
            "product",
            json!("4006381333932"),
            "check-digit",
            "has a wrong check digit: a digit is probably mistyped",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_broken_rule_of_a_row_is_reported_in_one_answer() -> anyhow::Result<()> {
    let server = TestServer::start("api-all-rules", "UTC")?;
    create_app(&server, inspections()).await;

    // A missing required block, a wrong type and two plugin rules at once:
    // the plugins still check the values that parsed.
    let values = json!({"count": "three", "code": "abc", "hazards": ["smoke"]});
    let answer = post_values(&server, "inspections", values).await;
    assert_rules(
        &answer,
        422,
        &[
            "site:required",
            "code:pattern",
            "count:type",
            "hazards:option",
        ],
    );

    // 8ZZ... has 26 valid characters but overflows 128 bits: not a ULID.
    let overflow = json!({"id": "8ZZZZZZZZZZZZZZZZZZZZZZZZZ", "values": valid_inspection()});
    let answer = server
        .post("/api/apps/inspections/submissions", &overflow)
        .await;
    assert_rules(&answer, 422, &["id:ulid"]);

    // A block named twice is refused rather than one of the two kept.
    let twice = br#"{"values": {"site": "Depot", "site": "Quay"}}"#;
    let path = "/api/apps/inspections/submissions";
    let answer = send_raw(&server, "POST", path, Some(&server.token), twice).await;
    assert_error(&answer, 400, "invalid_json");
    assert!(
        message(&answer.1).contains("\"site\" is given twice"),
        "{}",
        answer.1
    );
    assert!(ids(&server, "inspections").await.is_empty());
    Ok(())
}
