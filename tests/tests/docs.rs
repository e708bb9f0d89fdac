//! The curl examples in `docs/api.md` run as written against a server with
//! the demo workspace, and none of them is answered with a client error.

use std::process::Command;

use tessera_tests::{TestServer, root};

#[test]
fn every_api_doc_example_runs_against_the_demo_workspace() -> anyhow::Result<()> {
    let server = TestServer::start_with_config("docs", "America/New_York", "demo = true")?;
    let doc = std::fs::read_to_string(root().join("docs/api.md"))?;
    let examples = shell_blocks(&doc);
    assert!(examples.len() >= 10, "found {} examples", examples.len());

    // The first block only sets TOKEN and BASE, which the test provides.
    for example in &examples[1..] {
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", example])
            .env("TOKEN", &server.token)
            .env("BASE", &server.base)
            .output()?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{example}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!stdout.trim().is_empty(), "no answer to:\n{example}");
        assert!(
            !stdout.contains("\"error\""),
            "{example}\nanswered: {stdout}"
        );
    }
    Ok(())
}

fn shell_blocks(markdown: &str) -> Vec<String> {
    markdown
        .split("```sh\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or("").to_string())
        .collect()
}
