//! Tokens, and app definitions: checked, created, drafted and published.

use serde_json::{Value as Json, json};
use tessera_tests::TestServer;

use crate::support::*;

#[tokio::test]
async fn the_api_needs_a_valid_bearer_token_and_health_does_not() -> anyhow::Result<()> {
    let server = TestServer::start("api-auth", "UTC")?;
    let notes = serde_json::to_vec(&json!({"id": "notes", "name": "Notes"}))?;

    let answer = send_raw(&server, "POST", "/api/apps", None, &notes).await;
    assert_error(&answer, 401, "unauthorized");
    assert!(
        message(&answer.1).contains("Authorization: Bearer"),
        "says how: {}",
        answer.1
    );

    let forged = format!("tsr_{}", "0".repeat(64));
    let answer = send_raw(&server, "POST", "/api/apps", Some(&forged), &notes).await;
    assert_error(&answer, 401, "unauthorized");

    // The right secret under another scheme is not a bearer token.
    let basic = server
        .client
        .get(format!("{}/api/apps", server.base))
        .header("authorization", format!("Basic {}", server.token))
        .send()
        .await?;
    assert_eq!(basic.status().as_u16(), 401);

    // Refused before anything is looked up: a caller without a token does
    // not learn whether an app exists.
    let answer = send_raw(&server, "GET", "/api/apps/ghost/submissions", None, b"").await;
    assert_error(&answer, 401, "unauthorized");

    let health = server
        .client
        .get(format!("{}/health", server.base))
        .send()
        .await?;
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await?, "ok");

    let (status, body) = server.get("/api/apps").await;
    assert_eq!(
        (status, &body["apps"]),
        (200, &json!([])),
        "nothing was created"
    );
    Ok(())
}

#[tokio::test]
async fn apps_are_checked_then_published_in_numbered_versions() -> anyhow::Result<()> {
    let server = TestServer::start("api-apps", "UTC")?;
    refused_definitions_name_the_field_and_store_nothing(&server).await;
    a_draft_becomes_live_only_when_published(&server).await;
    versions_can_be_read_back_by_number(&server).await;
    Ok(())
}

async fn refused_definitions_name_the_field_and_store_nothing(server: &TestServer) {
    let notes = json!({"id": "notes", "name": "Notes", "publish": true,
        "blocks": [{"key": "title", "type": "core/text"}]});
    let (status, body) = server.post("/api/apps", &notes).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (&body["live_version"], &body["draft_version"]),
        (&json!(1), &Json::Null)
    );

    let answer = server.post("/api/apps", &notes).await;
    assert_error(&answer, 409, "conflict");
    assert!(
        message(&answer.1).contains("\"notes\""),
        "names the id: {}",
        answer.1
    );

    for (definition, expected) in refused_definitions() {
        let answer = server.post("/api/apps", &definition).await;
        assert_error(&answer, 422, "validation_failed");
        assert_rules(&answer, 422, &expected);
    }

    // core/text documents that a min_length above max_length is refused.
    let backwards = json!({"id": "backwards", "name": "x", "blocks": [{"key": "code",
        "type": "core/text", "config": {"min_length": 5, "max_length": 2}}]});
    let answer = server.post("/api/apps", &backwards).await;
    assert_rules(&answer, 422, &["blocks[0].config:config"]);
    let reason = answer.1["error"]["errors"][0]["message"].as_str().unwrap();
    assert!(
        reason.contains("min_length") && reason.contains("max_length"),
        "{reason}"
    );

    let (_, body) = server.get("/api/apps").await;
    let apps: Vec<String> = body["apps"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(apps, ["notes"], "no refused definition was stored");
}

/// Definitions that break one rule or more, and the `field:rule` of each.
fn refused_definitions() -> Vec<(Json, Vec<&'static str>)> {
    let text = |key: &str| json!({"key": key, "type": "core/text"});
    let app = |id: &str, blocks: Json| json!({"id": id, "name": "x", "blocks": blocks});
    let choices = json!({"options": ["a", "b"], "multiple": true});
    vec![
        (json!({"id": "Field Notes", "name": "x"}), vec!["id:slug"]),
        (json!({"id": "-notes", "name": "x"}), vec!["id:slug"]),
        (
            json!({"id": "bad-name", "name": "  "}),
            vec!["name:required"],
        ),
        (
            app(
                "bad-type",
                json!([text("title"), {"key": "sketch", "type": "core/sketch"}]),
            ),
            vec!["blocks[1].type:unknown-type"],
        ),
        (
            app(
                "bad-config",
                json!([{"key": "title", "type": "core/text",
                "config": {"max_length": "x"}}]),
            ),
            vec!["blocks[0].config:config"],
        ),
        (
            app(
                "config-list",
                json!([{"key": "title", "type": "core/text", "config": [40]}]),
            ),
            vec!["blocks[0].config:type"],
        ),
        (
            app("bad-key", json!([text("Title")])),
            vec!["blocks[0].key:key"],
        ),
        (
            app("twice", json!([text("title"), text("title")])),
            vec!["blocks[1].key:duplicate"],
        ),
        (
            app(
                "unique-list",
                json!([{"key": "tags", "type": "core/choice", "unique": true,
                "config": choices}]),
            ),
            vec!["blocks[0].unique:unique"],
        ),
        (
            app(
                "faults",
                json!([{"key": "a", "type": "core/sketch"}, text("b"), text("b")]),
            ),
            vec!["blocks[0].type:unknown-type", "blocks[2].key:duplicate"],
        ),
    ]
}

async fn a_draft_becomes_live_only_when_published(server: &TestServer) {
    let survey = json!({"id": "survey", "name": "Survey",
        "blocks": [{"key": "answer", "type": "core/text"}]});
    let (status, body) = server.post("/api/apps", &survey).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (&body["live_version"], &body["draft_version"]),
        (&Json::Null, &json!(1))
    );

    let answer = post_values(server, "survey", json!({"answer": "yes"})).await;
    assert_error(&answer, 409, "conflict");
    assert!(
        message(&answer.1).contains("publish"),
        "says what to do: {}",
        answer.1
    );
    let batch = json!({"submissions": [{"values": {"answer": "yes"}}]});
    let answer = server
        .post("/api/apps/survey/submissions/batch", &batch)
        .await;
    assert_error(&answer, 409, "conflict");
    assert!(ids(server, "survey").await.is_empty());

    let (status, body) = server.post("/api/apps/survey/publish", &json!({})).await;
    assert_eq!((status, &body["live_version"]), (200, &json!(1)), "{body}");
    let answer = server.post("/api/apps/survey/publish", &json!({})).await;
    assert_error(&answer, 409, "conflict");
    let first = submit(server, "survey", json!({"answer": "yes"})).await;
    assert_eq!(first["version"], 1);

    // A saved draft changes nothing for submitters until it is published.
    let draft = json!({"name": "Survey", "blocks": [{"key": "answer", "type": "core/text"},
        {"key": "score", "type": "core/number", "required": true}]});
    let (status, body) = server
        .call("PUT", "/api/apps/survey/draft", Some(&draft))
        .await;
    assert_eq!(
        (status, &body["version"], &body["state"]),
        (200, &json!(2), &json!("draft"))
    );
    let unscored = submit(server, "survey", json!({"answer": "no"})).await;
    assert_eq!(unscored["version"], 1);
    let (_, app) = server.get("/api/apps/survey").await;
    assert_eq!(
        (&app["live_version"], &app["draft_version"]),
        (&json!(1), &json!(2))
    );

    let (status, body) = server.post("/api/apps/survey/publish", &json!({})).await;
    assert_eq!((status, &body["live_version"]), (200, &json!(2)), "{body}");
    let answer = post_values(server, "survey", json!({"answer": "no"})).await;
    assert_rules(&answer, 422, &["score:required"]);
    let scored = submit(server, "survey", json!({"answer": "no", "score": 3})).await;
    assert_eq!(scored["version"], 2);

    let (_, stored) = server
        .get(&format!("/api/apps/survey/submissions/{}", id_of(&first)))
        .await;
    assert_eq!(
        stored["version"], 1,
        "a submission keeps the version it was made with"
    );
}

async fn versions_can_be_read_back_by_number(server: &TestServer) {
    let keys = |version: &Json| -> Vec<String> {
        let blocks = version["blocks"].as_array().unwrap();
        blocks
            .iter()
            .map(|b| b["key"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, first) = server.get("/api/apps/survey/versions/1").await;
    assert_eq!(
        (status, &first["state"]),
        (200, &json!("published")),
        "{first}"
    );
    assert_eq!(keys(&first), ["answer"]);
    let (_, second) = server.get("/api/apps/survey/versions/2").await;
    assert_eq!(keys(&second), ["answer", "score"]);

    assert_error(
        &server.get("/api/apps/survey/versions/3").await,
        404,
        "not_found",
    );
    let answer = server.get("/api/apps/ghost/versions/1").await;
    assert_error(&answer, 404, "not_found");
    assert!(
        message(&answer.1).contains("does not exist"),
        "the app is missing: {}",
        answer.1
    );
    let answer = server.get("/api/apps/survey/versions/latest").await;
    assert_error(&answer, 400, "invalid_path");
    assert!(
        message(&answer.1).contains("a version is a whole number such as 1 or 2, not \"latest\""),
        "{}",
        answer.1
    );
}
