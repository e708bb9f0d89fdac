//! Requests and assertions the API tests share.

use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};
use tessera_tests::TestServer;

/// A status and a JSON body.
pub type Answer = (u16, Json);

/// A new client-chosen submission id.
pub fn new_id() -> String {
    ulid::Ulid::new().to_string()
}

pub async fn create_app(server: &TestServer, definition: Json) {
    let (status, body) = server.post("/api/apps", &definition).await;
    assert_eq!(status, 201, "{definition}: {body}");
}

/// Submits `values`, expecting them stored; returns the submission.
pub async fn submit(server: &TestServer, app: &str, values: Json) -> Json {
    let (status, body) = post_values(server, app, values.clone()).await;
    assert_eq!(status, 201, "{values}: {body}");
    body
}

/// Submits `values` as one submission, whatever the answer.
pub async fn post_values(server: &TestServer, app: &str, values: Json) -> Answer {
    let path = format!("/api/apps/{app}/submissions");
    server.post(&path, &json!({ "values": values })).await
}

/// Edits the submission at `path`.
pub async fn patch(server: &TestServer, path: &str, values: Json) -> Answer {
    server
        .call("PATCH", path, Some(&json!({ "values": values })))
        .await
}

/// Deletes what is at `path`; returns the status.
pub async fn delete(server: &TestServer, path: &str) -> u16 {
    server.call("DELETE", path, None).await.0
}

/// Every submission id of `app`, newest first, over all pages.
pub async fn ids(server: &TestServer, app: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = format!("/api/apps/{app}/submissions?limit=1000");
    loop {
        let (status, page) = server.get(&path).await;
        assert_eq!(status, 200, "{page}");
        ids.extend(page["items"].as_array().unwrap().iter().map(id_of));
        match page.get("next_cursor").and_then(Json::as_str) {
            Some(cursor) => path = format!("/api/apps/{app}/submissions?limit=1000&after={cursor}"),
            None => return ids,
        }
    }
}

/// The `id` of a submission or a batch row.
pub fn id_of(item: &Json) -> String {
    item["id"].as_str().expect("an id").to_string()
}

/// The earlier revisions of the submission at `path`.
pub async fn history(server: &TestServer, path: &str) -> Vec<Json> {
    let (status, body) = server.get(&format!("{path}/history")).await;
    assert_eq!(status, 200, "{body}");
    body["revisions"].as_array().unwrap().clone()
}

/// The groups of an aggregation that must succeed, as a JSON list.
pub async fn aggregate(server: &TestServer, app: &str, request: Json) -> Json {
    let (status, body) = server
        .post(&format!("/api/apps/{app}/aggregate"), &request)
        .await;
    assert_eq!(status, 200, "{request}: {body}");
    body["groups"].clone()
}

/// Polls an aggregation until it answers `expected`. The indexer commits
/// every 500 ms; three seconds leave room for a loaded machine without
/// hiding a missing commit.
pub async fn wait_for_groups(server: &TestServer, app: &str, request: Json, expected: Json) {
    let started = Instant::now();
    loop {
        let groups = aggregate(server, app, request.clone()).await;
        if groups == expected {
            return;
        }
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_secs(3),
            "{request} gave {groups}, not {expected}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Sends `body` as it is, with `token` as the bearer token when given.
pub async fn send_raw(
    server: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a valid method");
    let mut request = server
        .client
        .request(method, format!("{}{path}", server.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Json::String(text)),
    )
}

/// Asserts an error answer by its status and code.
#[track_caller]
pub fn assert_error(answer: &Answer, status: u16, code: &str) {
    let (got, body) = answer;
    assert_eq!(
        (*got, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
}

/// Asserts an answer with `status` whose errors are exactly `expected`
/// `field:rule` pairs, in order.
#[track_caller]
pub fn assert_rules(answer: &Answer, status: u16, expected: &[&str]) {
    let (got, body) = answer;
    let expected: Vec<String> = expected.iter().map(|rule| rule.to_string()).collect();
    assert_eq!((*got, rules(body)), (status, expected), "{body}");
}

/// The message of an error answer.
pub fn message(body: &Json) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

/// `field:rule` of each error of an error answer, in order.
pub fn rules(body: &Json) -> Vec<String> {
    field_rules(&body["error"]["errors"])
}

/// `field:rule` of each error of a batch row, sorted.
pub fn row_rules(row: &Json) -> Vec<String> {
    sorted(field_rules(&row["errors"]))
}

fn field_rules(errors: &Json) -> Vec<String> {
    let errors = errors.as_array().map(Vec::as_slice).unwrap_or_default();
    let rule = |e: &Json| {
        format!(
            "{}:{}",
            e["field"].as_str().unwrap(),
            e["rule"].as_str().unwrap()
        )
    };
    errors.iter().map(rule).collect()
}

/// The status of each row of a batch answer, in order.
pub fn statuses(body: &Json) -> Vec<&str> {
    let results = body["results"].as_array().expect("batch results");
    results
        .iter()
        .map(|row| row["status"].as_str().unwrap())
        .collect()
}

pub fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}
