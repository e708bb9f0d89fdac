//! Writes: client ids that make retries safe, batches answered row by row,
//! unique blocks, and edits that keep their history.

use std::collections::BTreeSet;

use serde_json::json;
use tessera_tests::TestServer;

use crate::support::*;

#[tokio::test]
async fn a_client_id_makes_a_retry_safe_alone_and_in_a_batch() -> anyhow::Result<()> {
    let server = TestServer::start("api-retries", "UTC")?;
    create_app(&server, visits_app()).await;

    let id = new_id();
    let row = json!({"id": id, "values": {"who": "Ann", "minutes": 30}});
    let (status, first) = server.post("/api/apps/visits/submissions", &row).await;
    assert_eq!((status, id_of(&first)), (201, id.clone()), "{first}");
    let retry = server.post("/api/apps/visits/submissions", &row).await;
    assert_eq!(
        retry,
        (200, first.clone()),
        "a retry gets the stored submission"
    );

    // ULIDs are Crockford base 32, read without regard to case; 30.0 is 30.
    let same = json!({"id": id.to_lowercase(), "values": {"who": "Ann", "minutes": 30.0}});
    let retry = server.post("/api/apps/visits/submissions", &same).await;
    assert_eq!(retry, (200, first.clone()));

    let other = json!({"id": id, "values": {"who": "Ann", "minutes": 45}});
    assert_error(
        &server.post("/api/apps/visits/submissions", &other).await,
        409,
        "conflict",
    );
    let stored = server
        .get(&format!("/api/apps/visits/submissions/{id}"))
        .await;
    assert_eq!(stored, (200, first), "a conflicting retry changes nothing");

    for bad in ["visit-1", "", "01ARZ3NDEKTSV4RRFFQ69G5FAVX"] {
        let row = json!({"id": bad, "values": {"who": "Bob"}});
        assert_rules(
            &server.post("/api/apps/visits/submissions", &row).await,
            422,
            &["id:ulid"],
        );
    }
    assert_eq!(
        ids(&server, "visits").await,
        [id.as_str()],
        "one submission however many tries"
    );

    retries_in_a_batch_are_answered_row_by_row(&server, &id).await;
    Ok(())
}

async fn retries_in_a_batch_are_answered_row_by_row(server: &TestServer, stored: &str) {
    let (a, b, c) = (new_id(), new_id(), new_id());
    let batch = json!({"submissions": [
        {"id": a, "values": {"who": "Cy"}},
        {"id": a, "values": {"who": "Cy"}},
        {"id": stored, "values": {"who": "Ann", "minutes": 30}},
        {"id": stored, "values": {"who": "Ann", "minutes": 31}},
        {"id": b, "values": {"who": "Dee"}},
        {"id": c, "values": {"who": "Eve"}},
    ]});
    let (status, body) = server
        .post("/api/apps/visits/submissions/batch", &batch)
        .await;
    assert_eq!(status, 200, "{body}");
    let counts = (&body["created"], &body["existing"], &body["rejected"]);
    assert_eq!(counts, (&json!(3), &json!(1), &json!(2)), "{body}");
    let expected = [
        "created", "rejected", "existing", "rejected", "created", "created",
    ];
    assert_eq!(statuses(&body), expected);
    let results = body["results"].as_array().unwrap();
    assert_eq!(row_rules(&results[1]), ["id:duplicate"]);
    assert_eq!(row_rules(&results[3]), ["id:conflict"]);
    let answered: Vec<String> = [0, 2, 4, 5].iter().map(|&i| id_of(&results[i])).collect();
    assert_eq!(answered, [a, stored.to_string(), b, c]);
    assert_eq!(ids(server, "visits").await.len(), 4);

    // Sent again, every row whose id is stored is a retry; the one with
    // other values is still a conflict.
    let (status, body) = server
        .post("/api/apps/visits/submissions/batch", &batch)
        .await;
    assert_eq!((status, &body["created"]), (200, &json!(0)), "{body}");
    let expected = [
        "existing", "existing", "existing", "rejected", "existing", "existing",
    ];
    assert_eq!(statuses(&body), expected);
    assert_eq!(
        ids(server, "visits").await.len(),
        4,
        "a replayed batch stores nothing new"
    );
}

#[tokio::test]
async fn a_batch_stores_its_valid_rows_and_says_why_each_other_was_refused() -> anyhow::Result<()> {
    let server = TestServer::start("api-batch", "UTC")?;
    create_app(
        &server,
        json!({"id": "readings", "name": "Readings", "publish": true, "blocks": [
        {"key": "station", "type": "core/text", "required": true,
            "config": {"pattern": "[A-Z]{2}[0-9]"}},
        {"key": "celsius", "type": "core/number", "config": {"min": -50, "max": 60}}]}),
    )
    .await;

    let batch = json!({"submissions": [
        {"values": {"station": "AB1", "celsius": 21.5}},
        {"values": {"celsius": 3}},
        {"values": {"station": "AB2", "celsius": "warm", "colour": "red"}},
        {"values": {"station": "ab3", "celsius": 75}},
        {"values": {"station": "CD4", "celsius": -50}},
        {"id": "reading-6", "values": {"station": "CD5"}},
    ]});
    let (status, body) = server
        .post("/api/apps/readings/submissions/batch", &batch)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["created"], &body["rejected"]),
        (&json!(2), &json!(4)),
        "{body}"
    );
    let expected = [
        "created", "rejected", "rejected", "rejected", "created", "rejected",
    ];
    assert_eq!(statuses(&body), expected);
    let results = body["results"].as_array().unwrap();
    let indexes: Vec<u64> = results
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [0, 1, 2, 3, 4, 5]);
    assert_eq!(row_rules(&results[1]), ["station:required"]);
    assert_eq!(
        row_rules(&results[2]),
        ["celsius:type", "colour:unknown-block"]
    );
    assert_eq!(row_rules(&results[3]), ["celsius:max", "station:pattern"]);
    assert_eq!(row_rules(&results[5]), ["id:ulid"]);

    let created: BTreeSet<String> = [&results[0], &results[4]].map(id_of).into();
    let stored: BTreeSet<String> = ids(&server, "readings").await.into_iter().collect();
    assert_eq!(stored, created, "only the valid rows are stored");

    // A row that is not JSON of the right shape refuses the whole batch.
    let malformed = json!({"submissions": [{"values": {"station": "EF6"}}, {"values": ["EF7"]}]});
    let answer = server
        .post("/api/apps/readings/submissions/batch", &malformed)
        .await;
    assert_rules(&answer, 400, &["submissions[1].values:json"]);
    assert_eq!(ids(&server, "readings").await.len(), 2);

    let empty = json!({"submissions": []});
    let (status, body) = server
        .post("/api/apps/readings/submissions/batch", &empty)
        .await;
    assert_eq!((status, &body["results"]), (200, &json!([])), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_unique_block_refuses_a_value_already_held_until_it_is_freed() -> anyhow::Result<()> {
    let server = TestServer::start("api-unique", "UTC")?;
    create_app(
        &server,
        json!({"id": "assets", "name": "Assets", "publish": true, "blocks": [
        {"key": "tag", "type": "core/text", "required": true, "unique": true},
        {"key": "serial", "type": "core/number", "unique": true}]}),
    )
    .await;

    let first = submit(&server, "assets", json!({"tag": "A-1", "serial": 7})).await;
    let answer = post_values(&server, "assets", json!({"tag": "A-1"})).await;
    assert_rules(&answer, 422, &["tag:unique"]);
    let reason = answer.1["error"]["errors"][0]["message"].as_str().unwrap();
    assert!(reason.contains("\"A-1\""), "names the value: {reason}");
    // 7.0 and 7 are the same JSON number.
    let answer = post_values(&server, "assets", json!({"tag": "A-2", "serial": 7.0})).await;
    assert_rules(&answer, 422, &["serial:unique"]);
    assert_eq!(ids(&server, "assets").await.len(), 1);

    let batch = json!({"submissions": [
        {"values": {"tag": "B-1"}}, {"values": {"tag": "B-1"}}, {"values": {"tag": "A-1"}}]});
    let (status, body) = server
        .post("/api/apps/assets/submissions/batch", &batch)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(statuses(&body), ["created", "rejected", "rejected"]);
    assert_eq!(
        row_rules(&body["results"][1]),
        ["tag:unique"],
        "also within one batch"
    );
    assert_eq!(row_rules(&body["results"][2]), ["tag:unique"]);
    let second = format!(
        "/api/apps/assets/submissions/{}",
        id_of(&body["results"][0])
    );
    assert_eq!(ids(&server, "assets").await.len(), 2);

    // An edit may not take a held value; moving off a value frees it.
    assert_rules(
        &patch(&server, &second, json!({"tag": "A-1"})).await,
        422,
        &["tag:unique"],
    );
    assert_eq!(patch(&server, &second, json!({"tag": "B-2"})).await.0, 200);
    submit(&server, "assets", json!({"tag": "B-1"})).await;

    // So does a delete.
    assert_eq!(
        delete(
            &server,
            &format!("/api/apps/assets/submissions/{}", id_of(&first))
        )
        .await,
        204
    );
    submit(&server, "assets", json!({"tag": "A-1", "serial": 7})).await;
    assert_eq!(ids(&server, "assets").await.len(), 3);

    a_value_held_by_a_newer_submission_stays_held_when_an_older_one_changes(&server).await;
    Ok(())
}

/// A block made unique in a later version is enforced from that version
/// on: a submission from before does not hold its value, so deleting or
/// editing it must not free the value that a newer submission holds.
async fn a_value_held_by_a_newer_submission_stays_held_when_an_older_one_changes(
    server: &TestServer,
) {
    let blocks = |unique: bool| json!([{"key": "code", "type": "core/text", "unique": unique}]);
    let app = json!({"id": "badges", "name": "Badges", "publish": true, "blocks": blocks(false)});
    create_app(server, app).await;
    let deleted = submit(server, "badges", json!({"code": "K1"})).await;
    let edited = submit(server, "badges", json!({"code": "K2"})).await;
    let draft = json!({"name": "Badges", "blocks": blocks(true)});
    assert_eq!(
        server
            .call("PUT", "/api/apps/badges/draft", Some(&draft))
            .await
            .0,
        200
    );
    assert_eq!(
        server.post("/api/apps/badges/publish", &json!({})).await.0,
        200
    );
    submit(server, "badges", json!({"code": "K1"})).await;
    submit(server, "badges", json!({"code": "K2"})).await;

    let path = format!("/api/apps/badges/submissions/{}", id_of(&deleted));
    assert_eq!(delete(server, &path).await, 204);
    let answer = post_values(server, "badges", json!({"code": "K1"})).await;
    assert_rules(&answer, 422, &["code:unique"]);

    let path = format!("/api/apps/badges/submissions/{}", id_of(&edited));
    assert_eq!(patch(server, &path, json!({"code": "K3"})).await.0, 200);
    let answer = post_values(server, "badges", json!({"code": "K2"})).await;
    assert_rules(&answer, 422, &["code:unique"]);
}

#[tokio::test]
async fn an_edit_keeps_the_old_revision_and_a_refused_edit_changes_nothing() -> anyhow::Result<()> {
    let server = TestServer::start("api-edits", "UTC")?;
    create_app(
        &server,
        json!({"id": "tickets", "name": "Tickets", "publish": true, "blocks": [
        {"key": "title", "type": "core/text", "required": true, "config": {"max_length": 20}},
        {"key": "priority", "type": "core/number",
            "config": {"min": 1, "max": 5, "integer": true}},
        {"key": "note", "type": "core/text"}]}),
    )
    .await;
    let values = json!({"title": "Printer jam", "priority": 2, "note": "3rd floor"});
    let created = submit(&server, "tickets", values).await;
    assert_eq!(created["revision"], 1);
    let path = format!("/api/apps/tickets/submissions/{}", id_of(&created));

    let (status, edited) = patch(&server, &path, json!({"priority": 4})).await;
    assert_eq!((status, &edited["revision"]), (200, &json!(2)), "{edited}");
    let values = json!({"title": "Printer jam", "priority": 4, "note": "3rd floor"});
    assert_eq!(edited["values"], values);
    assert_eq!(edited["created_at"], created["created_at"]);
    assert_ne!(edited["updated_at"], created["updated_at"]);
    assert_eq!(server.get(&path).await, (200, edited.clone()));
    assert_eq!(
        history(&server, &path).await,
        std::slice::from_ref(&created)
    );

    let refused = [
        (json!({"priority": 9}), "priority:max"),
        (json!({"priority": "high"}), "priority:type"),
        (json!({"colour": "red"}), "colour:unknown-block"),
        (json!({"title": null}), "title:required"),
        (
            json!({"title": "The printer on floor 3 jams"}),
            "title:max-length",
        ),
    ];
    for (values, rule) in refused {
        assert_rules(&patch(&server, &path, values.clone()).await, 422, &[rule]);
        assert_eq!(
            server.get(&path).await,
            (200, edited.clone()),
            "{values} changed nothing"
        );
    }
    let cut_short = br#"{"values": "#;
    let answer = send_raw(&server, "PATCH", &path, Some(&server.token), cut_short).await;
    assert_error(&answer, 400, "invalid_json");
    assert_eq!(
        history(&server, &path).await,
        std::slice::from_ref(&created),
        "refused edits left no revision"
    );

    let (status, cleared) = patch(&server, &path, json!({"note": null})).await;
    assert_eq!(
        (status, &cleared["revision"]),
        (200, &json!(3)),
        "{cleared}"
    );
    assert_eq!(
        cleared["values"],
        json!({"title": "Printer jam", "priority": 4})
    );
    assert_eq!(
        history(&server, &path).await,
        [created, edited],
        "oldest first"
    );

    let ghost = format!("/api/apps/tickets/submissions/{}", new_id());
    assert_error(
        &patch(&server, &ghost, json!({"priority": 1})).await,
        404,
        "not_found",
    );

    assert_eq!(delete(&server, &path).await, 204);
    assert_error(&server.get(&path).await, 404, "not_found");
    assert_error(
        &server.get(&format!("{path}/history")).await,
        404,
        "not_found",
    );
    assert_eq!(delete(&server, &path).await, 404);
    assert!(ids(&server, "tickets").await.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_id_stays_taken_and_an_edit_that_changes_nothing_adds_no_revision()
-> anyhow::Result<()> {
    let server = TestServer::start("api-tombstones", "UTC")?;
    create_app(&server, visits_app()).await;

    let id = new_id();
    let row = json!({"id": id, "values": {"who": "Ann", "minutes": 30}});
    assert_eq!(
        server.post("/api/apps/visits/submissions", &row).await.0,
        201
    );
    let path = format!("/api/apps/visits/submissions/{id}");

    let (status, same) = patch(&server, &path, json!({"minutes": 30})).await;
    assert_eq!(
        (status, same["revision"].clone()),
        (200, json!(1)),
        "{same}"
    );
    assert!(history(&server, &path).await.is_empty());

    // Ids are read without regard to case, on every route.
    let lower = format!("/api/apps/visits/submissions/{}", id.to_lowercase());
    assert_eq!(server.get(&lower).await.0, 200);
    assert_eq!(delete(&server, &lower).await, 204);

    // A late retry of the create must not bring the deleted row back.
    let retry = server.post("/api/apps/visits/submissions", &row).await;
    assert_error(&retry, 409, "conflict");
    assert!(message(&retry.1).contains("deleted"), "{}", retry.1);
    assert!(ids(&server, "visits").await.is_empty());
    Ok(())
}

/// Who visited, for how long.
fn visits_app() -> serde_json::Value {
    json!({"id": "visits", "name": "Visits", "publish": true, "blocks": [
        {"key": "who", "type": "core/text", "required": true},
        {"key": "minutes", "type": "core/number"}]})
}
