//! The walk in `docs/plugins.md` works as written: the test takes the
//! commands and the code from the doc, creates the `acme/word-count` crate
//! in an empty folder, runs its native tests, builds the component, and
//! installs it beside the core plugins in a real server, whose forms then
//! enforce the new rule.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value as Json, json};
use tessera_tests::{TestServer, copy_components, loaded_block_types, plugins_dir, root, temp_dir};

const CRATE: &str = "tessera-plugin-word-count";
const COMPONENT: &str = "tessera_plugin_word_count.wasm";

/// The lines of the first fenced block of `language` after `heading`.
fn block<'a>(doc: &'a str, heading: &str, language: &str) -> Vec<&'a str> {
    let mut lines = doc.lines();
    assert!(
        lines.any(|line| line.trim_end() == heading),
        "docs/plugins.md has no heading {heading:?}"
    );
    let fence = format!("```{language}");
    assert!(
        lines.any(|line| line.trim_end() == fence),
        "docs/plugins.md has no {fence} block after {heading:?}"
    );
    lines.take_while(|line| !line.starts_with("```")).collect()
}

/// Runs one line of the doc with `sh -c` in `dir`; panics with its output if
/// it fails.
fn run(dir: &Path, line: &str, target_dir: &Path) {
    let output = Command::new("sh")
        .args(["-c", line])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .unwrap_or_else(|error| panic!("`{line}` could not start: {error}"));
    assert!(
        output.status.success(),
        "`{line}` failed in {} ({}):\n{}\n{}",
        dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Appends `text` to the file at `path`.
fn append(path: &Path, text: &str) {
    let mut content = std::fs::read_to_string(path).unwrap();
    if !content.ends_with('\n') {
        content.push('\n');
    }
    content.push('\n');
    content.push_str(text);
    std::fs::write(path, content).unwrap();
}

/// Follows sections 1 to 4 of the doc in `walk`; returns the built component.
fn follow_the_walk(doc: &str, walk: &Path, target_dir: &Path) -> PathBuf {
    let repository = root();
    let repository = repository.to_str().expect("a UTF-8 repository path");
    // `cargo new` inside a workspace folder adds the new crate to that
    // workspace's members and inherits its package keys; the test folder is
    // inside the repository, whose manifest must stay untouched. An empty
    // workspace right above the crate takes that role instead.
    std::fs::write(walk.join("Cargo.toml"), "[workspace]\n").unwrap();
    let workspace_manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();

    // 1. Create the crate.
    let create = "## 1. Create the crate";
    let mut dir = walk.to_owned();
    for line in block(doc, create, "sh") {
        let line = line.trim();
        if let Some(folder) = line.strip_prefix("cd ") {
            dir = dir.join(folder);
            continue;
        }
        assert!(
            line.starts_with("cargo new ") || line.starts_with("cargo add "),
            "unexpected step in section 1: {line}"
        );
        run(
            &dir,
            &line.replace("/path/to/tessera", repository),
            target_dir,
        );
        if line.starts_with("cargo new ") {
            // A standalone crate, as a reader outside any workspace gets it.
            let name = line.split_whitespace().last().unwrap();
            append(&dir.join(name).join("Cargo.toml"), "[workspace]\n");
        }
    }
    assert_eq!(dir, walk.join(CRATE), "section 1 ends in the new crate");
    assert_eq!(
        std::fs::read_to_string(root().join("Cargo.toml")).unwrap(),
        workspace_manifest,
        "the walk left the repository's Cargo.toml alone"
    );
    let manifest = dir.join("Cargo.toml");
    append(&manifest, &(block(doc, create, "toml").join("\n") + "\n"));

    // 2. Write the rules.
    let code = block(doc, "## 2. Write the rules", "rust").join("\n") + "\n";
    assert!(
        code.contains("tessera_sdk::register!(WordCount);"),
        "{code}"
    );
    std::fs::write(dir.join("src/lib.rs"), code).unwrap();

    // 3. Test natively, and 4. Build the component.
    let test = block(doc, "## 3. Test natively", "sh");
    assert_eq!(test, ["cargo test"]);
    let build = block(doc, "## 4. Build the component", "sh");
    assert_eq!(build, ["cargo build --release --target wasm32-wasip2"]);
    for line in test.into_iter().chain(build) {
        run(&dir, line, target_dir);
    }

    // The doc's `target/…` path is under CARGO_TARGET_DIR here.
    let path = format!("target/wasm32-wasip2/release/{COMPONENT}");
    assert!(
        doc.contains(&format!("The component is `{path}`")),
        "the doc names the component {path}"
    );
    let component = target_dir.join(path.strip_prefix("target/").unwrap());
    let bytes = std::fs::read(&component)
        .unwrap_or_else(|error| panic!("{}: {error}", component.display()));
    assert_eq!(
        bytes[..8],
        [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00],
        "{} is a component",
        component.display()
    );
    component
}

fn app(max_words: u64) -> Json {
    json!({"id": "notes", "name": "Notes", "publish": true, "blocks": [
        {"key": "summary", "type": "acme/word-count", "config": {"max_words": max_words}}]})
}

#[tokio::test]
async fn the_plugin_walk_in_the_docs_works_as_written() {
    let doc = std::fs::read_to_string(root().join("docs/plugins.md")).unwrap();
    let walk = temp_dir("plugin-walk");
    // Outside the walk folder, so repeated runs reuse the build.
    let target_dir = root().join("target/plugin-walk");
    let component = follow_the_walk(&doc, &walk, &target_dir);

    // 5. Install it: beside the core plugins, in a folder of its own.
    let plugins = temp_dir("plugin-walk-plugins");
    copy_components(&plugins_dir(), &plugins);
    std::fs::copy(&component, plugins.join(COMPONENT)).unwrap();
    let server = TestServer::start_with_plugins("plugin-walk", "UTC", None, &plugins)
        .expect("the server starts with the new plugin");

    let (status, body) = server.get("/api/plugins").await;
    assert_eq!(status, 200, "{body}");
    let loaded = loaded_block_types(&body);
    assert!(loaded.contains(&"acme/word-count"), "{body}");
    assert!(loaded.contains(&"core/number"), "{body}");

    // The plugin's check_config refuses a zero limit when the app is saved.
    let (status, body) = server.post("/api/apps", &app(0)).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string().contains("max_words must be at least 1"),
        "{body}"
    );

    let (status, body) = server.post("/api/apps", &app(3)).await;
    assert_eq!(status, 201, "{body}");

    let submissions = "/api/apps/notes/submissions";
    let three = json!({"values": {"summary": "one two three"}});
    let (status, body) = server.post(submissions, &three).await;
    assert_eq!(status, 201, "{body}");

    let four = json!({"values": {"summary": "one two three four"}});
    let (status, body) = server.post(submissions, &four).await;
    assert_eq!(status, 422, "{body}");
    let error = &body["error"]["errors"][0];
    assert_eq!(error["rule"], "max-words", "{body}");
    assert_eq!(error["field"], "summary", "{body}");

    drop(server);
    let _ = std::fs::remove_dir_all(plugins);
    let _ = std::fs::remove_dir_all(walk);
}
