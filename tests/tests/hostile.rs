//! Hostile plugins against the real server: components built from source in
//! `tests/fixtures/` that loop, sleep in a host call, eat memory, recurse,
//! panic, trap, answer too much, target the wrong world, lack an export, or
//! import what they were not granted or what no validator gets (sockets).
//! Each must fail alone, with an error that names the plugin and the limit,
//! while the server keeps answering everyone else correctly.

#[path = "api/support.rs"]
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value as Json, json};
use support::{assert_rules, create_app, ids, post_values, submit};
use tessera_tests::{
    TestServer, copy_components, fixtures_dir, loaded_block_types, plugins_dir, temp_dir,
};

/// Limits small enough that the slow fixtures fail fast.
const CONFIG: &str = "\
[plugin_limits.validator]
timeout_ms = 300
max_memory_bytes = 33554432
max_output_bytes = 1048576
";

/// A plugins folder with every real plugin and every fixture in it.
fn plugins_with_fixtures(name: &str, extra: &[(&str, &[u8])]) -> PathBuf {
    let dir = temp_dir(name);
    copy_components(&plugins_dir(), &dir);
    copy_components(&fixtures_dir(), &dir);
    for (file, bytes) in extra {
        std::fs::write(dir.join(file), bytes).unwrap();
    }
    dir
}

fn start(name: &str, config: &str) -> (TestServer, PathBuf) {
    let plugins = plugins_with_fixtures(name, &[]);
    let server = TestServer::start_with_plugins(name, "UTC", Some(config), &plugins)
        .expect("the server starts beside hostile plugins");
    (server, plugins)
}

async fn create_apps(server: &TestServer) {
    create_app(
        server,
        json!({"id": "hostile", "name": "Hostile", "publish": true, "blocks": [
            {"key": "mode", "type": "test/hostile", "required": true}]}),
    )
    .await;
    create_app(
        server,
        json!({"id": "counts", "name": "Counts", "publish": true, "blocks": [
            {"key": "n", "type": "core/number", "required": true,
             "config": {"min": 0, "max": 100, "integer": true}}]}),
    )
    .await;
}

/// The good path still works: a valid count is stored, an invalid one gets
/// the number plugin's rule.
async fn assert_good_calls_answer(server: &TestServer) {
    submit(server, "counts", json!({"n": 42})).await;
    let answer = post_values(server, "counts", json!({"n": 101})).await;
    assert_rules(&answer, 422, &["n:max"]);
}

#[track_caller]
fn assert_validator_failed(answer: &(u16, Json), reason: &str, message_part: &str) {
    let (status, body) = answer;
    let error = &body["error"];
    assert_eq!(*status, 500, "{body}");
    assert_eq!(error["code"], "validator_failed", "{body}");
    assert_eq!(error["reason"], reason, "{body}");
    let plugin = error["plugin"].as_str().unwrap_or_default();
    assert!(plugin.starts_with("test/hostile@"), "{body}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(plugin),
        "the message names the plugin: {body}"
    );
    assert!(message.contains(message_part), "{body}");
}

#[tokio::test]
async fn each_hostile_call_fails_alone_with_its_reason() {
    let (server, plugins) = start("hostile-each", CONFIG);
    create_apps(&server).await;
    let before = metrics(&server).await;

    let cases = [
        ("loop", "timeout", "300 ms time limit"),
        ("sleep", "timeout", "300 ms time limit"),
        ("memory", "memory", "memory limit of 33554432 bytes"),
        ("recurse", "stack", "ran out of its 524288 byte stack"),
        ("panic", "panic", "the hostile fixture panics on request"),
        ("trap", "trap", "unreachable"),
        ("huge", "output", "over its output limit of 1048576"),
    ];
    for (mode, reason, message_part) in cases {
        let answer = post_values(&server, "hostile", json!({"mode": mode})).await;
        assert_validator_failed(&answer, reason, message_part);
        assert_good_calls_answer(&server).await;
    }
    // The fixture's ordinary answers still come through.
    submit(&server, "hostile", json!({"mode": "ok"})).await;
    let answer = post_values(&server, "hostile", json!({"mode": "reject"})).await;
    assert_rules(&answer, 422, &["mode:rejected"]);

    // Nothing from a failed call was written.
    assert_eq!(ids(&server, "hostile").await.len(), 1);
    assert_eq!(ids(&server, "counts").await.len(), cases.len());

    // Every failure is counted under its plugin and reason.
    let metrics = metrics(&server).await;
    for (reason, count) in [
        ("timeout", 2),
        ("memory", 1),
        ("stack", 1),
        ("panic", 1),
        ("trap", 1),
        ("output", 1),
        ("ok", 2),
    ] {
        let calls = call_count(&metrics, "test/hostile", reason)
            - call_count(&before, "test/hostile", reason);
        assert_eq!(calls, count, "{reason}:\n{metrics}");
    }
    let number_calls =
        call_count(&metrics, "core/number", "ok") - call_count(&before, "core/number", "ok");
    assert_eq!(number_calls, 2 * cases.len() as u64);
    assert!(
        metrics.contains("tessera_plugin_call_seconds_count{plugin=\"test/hostile\""),
        "{metrics}"
    );

    // A plugin that fails while checking a block's config fails the save as
    // a validator failure, not as the admin's mistake, and saves nothing.
    let answer = server
        .post(
            "/api/apps",
            &json!({"id": "hanging", "name": "Hanging", "blocks": [
                {"key": "mode", "type": "test/hostile", "config": {"hang": true}}]}),
        )
        .await;
    assert_validator_failed(&answer, "timeout", "300 ms time limit");
    let (status, body) = server.get("/api/apps/hanging").await;
    assert_eq!(status, 404, "{body}");
    assert_good_calls_answer(&server).await;
    drop(server);
    let _ = std::fs::remove_dir_all(plugins);
}

#[tokio::test]
async fn components_of_the_wrong_shape_are_refused_by_name_and_the_rest_load() {
    // A file with a component header and nothing valid after it.
    let broken: &[u8] = &[0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 0xff, 0xff];
    let plugins = plugins_with_fixtures("hostile-shape", &[("broken.wasm", broken)]);
    // The lookup plugin imports records; here it is not granted them.
    let config = format!("{CONFIG}\n[plugin_grants]\ntessera_plugin_lookup = []\n");
    let server = TestServer::start_with_plugins("hostile-shape", "UTC", Some(&config), &plugins)
        .expect("bad components do not stop the server");

    let (status, body) = server.get("/api/plugins").await;
    assert_eq!(status, 200, "{body}");
    let loaded = loaded_block_types(&body);
    assert!(loaded.contains(&"core/number"), "{body}");
    assert!(loaded.contains(&"test/hostile"), "{body}");
    assert!(!loaded.contains(&"core/lookup"), "{body}");
    assert!(!loaded.contains(&"test/half"), "{body}");
    assert!(!loaded.contains(&"test/network"), "{body}");

    let refused = |file: &str| refusal(&body, file);
    let wrong_world = refused("tessera_fixture_command.wasm");
    assert!(
        wrong_world.contains("does not export tessera:plugin/validation@0.1.0")
            && wrong_world.contains("wasi:cli/run"),
        "{wrong_world}"
    );
    let half = refused("tessera_fixture_half_validator.wasm");
    assert!(
        half.contains("lacks the functions check-config and validate"),
        "{half}"
    );
    let ungranted = refused("tessera_plugin_lookup.wasm");
    assert!(
        ungranted.contains("imports tessera:plugin/records@0.1.0, which is not granted")
            && ungranted.contains("plugin_grants.tessera_plugin_lookup"),
        "{ungranted}"
    );
    let network = refused("tessera_fixture_network.wasm");
    assert!(
        network.contains("imports wasi:sockets/")
            && network.contains("which is never granted to a validator"),
        "{network}"
    );
    assert!(
        refused("broken.wasm").contains("does not compile"),
        "{body}"
    );
    assert_eq!(body["refused"].as_array().unwrap().len(), 5, "{body}");

    // An app cannot use a refused plugin's block type, and says why.
    let (status, answer) = server
        .post(
            "/api/apps",
            &json!({"id": "airports", "name": "Airports", "blocks": [
                {"key": "code", "type": "core/lookup",
                 "config": {"app": "x", "field": "y"}}]}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(answer.to_string().contains("core/lookup"), "{answer}");

    create_apps(&server).await;
    assert_good_calls_answer(&server).await;
    let metrics = metrics(&server).await;
    assert!(metrics.contains("tessera_plugins_refused 5"), "{metrics}");
    drop(server);
    let _ = std::fs::remove_dir_all(plugins);
}

#[tokio::test]
async fn the_lookup_plugin_reads_records_when_granted_by_default() {
    let (server, plugins) = start("hostile-grant", CONFIG);
    let (_, body) = server.get("/api/plugins").await;
    let lookup = body["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["block_type"] == "core/lookup")
        .cloned()
        .unwrap_or_else(|| panic!("core/lookup is loaded: {body}"));
    assert_eq!(lookup["grants"], json!(["records"]), "{body}");
    assert!(
        body["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["block_type"] != "core/lookup")
            .all(|p| p["grants"] == json!([])),
        "{body}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(plugins);
}

/// Thousands of hostile calls beside thousands of good ones, all at once:
/// every good call gets its right answer and the server lives on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_calls_interleaved_with_good_ones_leave_every_good_answer_right() {
    let config = CONFIG.replace("timeout_ms = 300", "timeout_ms = 200");
    let (server, plugins) = start("hostile-mix", &config);
    create_apps(&server).await;
    let before = metrics(&server).await;
    let server = Arc::new(server);
    let pid = server.pid();

    const GOOD: usize = 2_000;
    const HOSTILE: usize = 2_000;
    // Mostly the failures that cost little, with loops and sleeps that hold
    // a core or an instance until their deadline among them.
    const MODES: [&str; 6] = ["memory", "recurse", "panic", "trap", "huge", "reject"];
    let hostile_mode = |i: usize| match i % 40 {
        0 => "loop",
        20 => "sleep",
        n => MODES[n % MODES.len()],
    };
    let in_flight = Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..GOOD.max(HOSTILE) {
        for good in [true, false] {
            if (good && i >= GOOD) || (!good && i >= HOSTILE) {
                continue;
            }
            let server = server.clone();
            let permit = in_flight.clone().acquire_owned().await.unwrap();
            tasks.spawn(async move {
                let _permit = permit;
                if good {
                    // 0..=150: in bounds up to 100, then over the max.
                    let n = (i * 7919) % 151;
                    let answer = post_values(&server, "counts", json!({"n": n})).await;
                    if n <= 100 {
                        assert_eq!(answer.0, 201, "n = {n}: {}", answer.1);
                        assert_eq!(answer.1["values"]["n"], json!(n), "{}", answer.1);
                    } else {
                        assert_rules(&answer, 422, &["n:max"]);
                    }
                    (n <= 100) as usize
                } else {
                    let mode = hostile_mode(i);
                    let answer = post_values(&server, "hostile", json!({"mode": mode})).await;
                    if mode == "reject" {
                        assert_rules(&answer, 422, &["mode:rejected"]);
                    } else {
                        assert_eq!(answer.1["error"]["code"], "validator_failed", "{mode}");
                    }
                    0
                }
            });
        }
    }
    let mut stored = 0;
    while let Some(outcome) = tasks.join_next().await {
        stored += outcome.expect("every call answers as expected");
    }

    assert!(process_alive(pid), "the server process survives");
    assert_eq!(ids(&server, "counts").await.len(), stored);
    assert!(ids(&server, "hostile").await.is_empty());
    let metrics = metrics(&server).await;
    let calls = |plugin: &str, reason: &str| {
        call_count(&metrics, plugin, reason) - call_count(&before, plugin, reason)
    };
    assert_eq!(calls("core/number", "ok"), GOOD as u64);
    let hostile_calls: u64 = [
        "ok", "timeout", "memory", "stack", "panic", "trap", "output",
    ]
    .iter()
    .map(|reason| calls("test/hostile", reason))
    .sum();
    assert_eq!(hostile_calls, HOSTILE as u64, "{metrics}");
    drop(server);
    let _ = std::fs::remove_dir_all(plugins);
}

/// A stray copy of a plugin never replaces the one an app relies on: a block
/// type that two files provide is refused for both, submissions to a live
/// app that uses it fail as a validator failure, and `.wasm` files that are
/// not components are refused with the fix.
#[tokio::test]
async fn a_block_type_two_files_provide_is_refused_for_both() {
    let plugins = plugins_with_fixtures("hostile-clash", &[]);
    let mut server = TestServer::start_with_plugins("hostile-clash", "UTC", Some(CONFIG), &plugins)
        .expect("the server starts");
    create_apps(&server).await;
    submit(&server, "counts", json!({"n": 42})).await;
    let draft = json!({"name": "Counts", "blocks": [
        {"key": "n", "type": "core/number", "required": true}]});
    let (status, body) = server
        .call("PUT", "/api/apps/counts/draft", Some(&draft))
        .await;
    assert_eq!(status, 200, "{body}");
    server.stop();

    // A copy that sorts before the real number plugin, a core module and a
    // file that is not WebAssembly at all.
    let number = plugins.join("tessera_plugin_number.wasm");
    std::fs::copy(&number, plugins.join("aaa_number.wasm")).unwrap();
    let core_module: &[u8] = &[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    std::fs::write(plugins.join("core_module.wasm"), core_module).unwrap();
    std::fs::write(plugins.join("notes.wasm"), "not a plugin\n").unwrap();
    std::fs::write(plugins.join("SHOUTED.WASM"), "").unwrap();
    server
        .start_again()
        .expect("the server starts beside the clash");

    let (status, body) = server.get("/api/plugins").await;
    assert_eq!(status, 200, "{body}");
    let loaded = loaded_block_types(&body);
    assert!(!loaded.contains(&"core/number"), "{body}");
    assert!(loaded.contains(&"test/hostile"), "{body}");
    let clash = "block type core/number is provided by \
                 aaa_number.wasm and tessera_plugin_number.wasm";
    for file in ["aaa_number.wasm", "tessera_plugin_number.wasm"] {
        let reason = refusal(&body, file);
        assert!(reason.contains(clash), "{reason}");
    }
    let core = refusal(&body, "core_module.wasm");
    assert!(
        core.contains("core WebAssembly module, not a component") && core.contains("wasm32-wasip2"),
        "{core}"
    );
    assert!(
        refusal(&body, "notes.wasm").contains("not WebAssembly"),
        "{body}"
    );
    assert!(
        refusal(&body, "SHOUTED.WASM").contains("not WebAssembly"),
        "{body}"
    );

    // The live app that uses core/number now fails loudly instead of
    // accepting what the number plugin would have refused.
    let (status, answer) = post_values(&server, "counts", json!({"n": 101})).await;
    assert_eq!(status, 500, "{answer}");
    assert_eq!(answer["error"]["code"], "validator_failed", "{answer}");
    assert_eq!(answer["error"]["reason"], "unknown", "{answer}");
    assert_eq!(answer["error"]["plugin"], "core/number", "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("core/number"),
        "{answer}"
    );
    assert_eq!(ids(&server, "counts").await.len(), 1);
    submit(&server, "hostile", json!({"mode": "ok"})).await;

    // The draft saved while the plugin was there cannot go live without it.
    let answer = server.post("/api/apps/counts/publish", &json!({})).await;
    assert_rules(&answer, 422, &["blocks[0].type:unknown-type"]);
    drop(server);
    let _ = std::fs::remove_dir_all(plugins);
}

/// A first start with `--demo` on a folder that lacks plugins the demo apps
/// need stops with their block types named, before it makes the org, so a
/// later start on the right folder still gets the demo.
#[test]
fn a_demo_first_start_without_its_plugins_names_them_and_makes_no_org() {
    let plugins = temp_dir("hostile-demo-plugins");
    let number = "tessera_plugin_number.wasm";
    std::fs::copy(plugins_dir().join(number), plugins.join(number)).unwrap();
    let data = temp_dir("hostile-demo-data");
    let output = std::process::Command::new(tessera_tests::server_binary())
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--demo"])
        .arg("--data-dir")
        .arg(&data)
        .arg("--plugins-dir")
        .arg(&plugins)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    let error = stderr
        .lines()
        .find(|line| line.starts_with("Error: "))
        .unwrap_or_else(|| panic!("an error line: {stderr}"));
    assert!(
        error.contains("the demo workspace needs block types that no loaded plugin provides")
            && error.contains("core/text")
            && error.contains("core/lookup")
            && !error.contains("core/number"),
        "{error}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("tsr_"), "no token was issued: {stdout}");

    // With the full folder, the same data folder gets its first start.
    let mut server = std::process::Command::new(tessera_tests::server_binary())
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--demo"])
        .arg("--data-dir")
        .arg(&data)
        .arg("--plugins-dir")
        .arg(plugins_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
    let printed: Vec<String> = lines
        .map_while(Result::ok)
        .take_while(|line| !line.starts_with("Tessera is listening"))
        .collect();
    let _ = server.kill();
    let _ = server.wait();
    let printed = printed.join("\n");
    assert!(
        printed.contains("tsr_") && printed.contains("Demo Flights:"),
        "{printed}"
    );
    let _ = std::fs::remove_dir_all(plugins);
    let _ = std::fs::remove_dir_all(data);
}

/// The reason `GET /api/plugins` gives for refusing `file`.
#[track_caller]
fn refusal(plugins: &Json, file: &str) -> String {
    plugins["refused"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == file)
        .unwrap_or_else(|| panic!("{file} is refused: {plugins}"))["reason"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn metrics(server: &TestServer) -> String {
    let response = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("the server answers /metrics");
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The `tessera_plugin_calls_total` counter for one plugin and outcome.
fn call_count(metrics: &str, plugin: &str, outcome: &str) -> u64 {
    metrics
        .lines()
        .filter(|line| line.starts_with("tessera_plugin_calls_total{"))
        .filter(|line| line.contains(&format!("plugin=\"{plugin}\"")))
        .filter(|line| line.contains(&format!("outcome=\"{outcome}\"")))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}
