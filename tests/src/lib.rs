//! Test harness: starts the real `tessera` binary on a temporary data folder
//! and talks to it over HTTP.
//!
//! The binary and the plugins must be built first (`scripts/test` does it):
//! `cargo build --release -p tessera` and
//! `cargo build --release --target wasm32-wasip2` for the plugins.

pub mod flights;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value as Json;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// The built server binary.
pub fn server_binary() -> PathBuf {
    let path = root().join("target/release/tessera");
    assert!(
        path.exists(),
        "{} is missing: run scripts/test, or `cargo build --release -p tessera`",
        path.display()
    );
    path
}

/// The folder of built plugin components.
pub fn plugins_dir() -> PathBuf {
    let path = root().join("target/wasm32-wasip2/release");
    assert!(
        path.join("tessera_plugin_number.wasm").exists(),
        "plugins are missing in {}: run scripts/test, or build them for wasm32-wasip2",
        path.display()
    );
    path
}

/// The folder of test fixture components (hostile plugins and components
/// of the wrong shape), which `scripts/test` builds and moves out of the
/// plugins folder.
pub fn fixtures_dir() -> PathBuf {
    let path = root().join("target/fixtures");
    assert!(
        path.join("tessera_fixture_hostile.wasm").exists(),
        "fixtures are missing in {}: run scripts/test",
        path.display()
    );
    path
}

/// Copies every `.wasm` file of `from` into `to`.
pub fn copy_components(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("the components folder is readable") {
        let path = entry.expect("a folder entry").path();
        if path.extension().is_some_and(|ext| ext == "wasm") {
            let name = path.file_name().expect("a file name");
            std::fs::copy(&path, to.join(name)).expect("the component is copied");
        }
    }
}

/// The block types a `GET /api/plugins` answer lists as loaded.
pub fn loaded_block_types(plugins: &Json) -> Vec<&str> {
    plugins["plugins"]
        .as_array()
        .expect("the answer lists plugins")
        .iter()
        .filter_map(|plugin| plugin["block_type"].as_str())
        .collect()
}

/// A fresh, empty folder under the target directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = root()
        .join("target/test-data")
        .join(format!("{name}-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).expect("the test data folder can be made");
    dir
}

/// A running server.
pub struct TestServer {
    child: Child,
    pub base: String,
    pub token: String,
    pub data_dir: PathBuf,
    /// The `--config` file, kept across restarts.
    config: Option<PathBuf>,
    /// The `--plugins-dir` folder.
    plugins: PathBuf,
    pub client: reqwest::Client,
}

impl TestServer {
    /// Starts a server on a new data folder with an org in `time_zone`.
    pub fn start(name: &str, time_zone: &str) -> anyhow::Result<TestServer> {
        TestServer::start_with(name, time_zone, None)
    }

    /// Like [`TestServer::start`], with `toml` as the `--config` file.
    pub fn start_with_config(
        name: &str,
        time_zone: &str,
        toml: &str,
    ) -> anyhow::Result<TestServer> {
        TestServer::start_with(name, time_zone, Some(toml))
    }

    fn start_with(name: &str, time_zone: &str, toml: Option<&str>) -> anyhow::Result<TestServer> {
        TestServer::start_with_plugins(name, time_zone, toml, &plugins_dir())
    }

    /// Like [`TestServer::start_with_config`], loading plugins from `plugins`.
    pub fn start_with_plugins(
        name: &str,
        time_zone: &str,
        toml: Option<&str>,
        plugins: &Path,
    ) -> anyhow::Result<TestServer> {
        let data_dir = temp_dir(name);
        let config = match toml {
            Some(toml) => {
                let path = data_dir.join("tessera.toml");
                std::fs::write(&path, toml).context("writing the config file")?;
                Some(path)
            }
            None => None,
        };
        let (child, base, token) = spawn(&data_dir, time_zone, config.as_deref(), plugins)?;
        let token = token.context("a first start prints the admin token")?;
        Ok(TestServer {
            child,
            base,
            token,
            data_dir,
            config,
            plugins: plugins.to_owned(),
            client: reqwest::Client::new(),
        })
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory of the server process so far, in bytes (Linux).
    pub fn peak_memory(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Stops the server (SIGTERM, then waits).
    pub fn stop(&mut self) {
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        unsafe {
            libc_kill(self.child.id() as i32, 15);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops and starts the server again on the same data.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        self.start_again()
    }

    /// Starts a stopped server again on the same data.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        let (child, base, _) = spawn(&self.data_dir, "UTC", self.config.as_deref(), &self.plugins)?;
        self.child = child;
        self.base = base;
        Ok(())
    }

    /// Runs `tessera reindex` on this server's data (the server must be stopped).
    pub fn reindex(&self) -> anyhow::Result<String> {
        let output = Command::new(server_binary())
            .args(["reindex", "--data-dir"])
            .arg(&self.data_dir)
            .arg("--plugins-dir")
            .arg(&self.plugins)
            .arg("--plugin-cache-dir")
            .arg(root().join("target/plugin-cache"))
            .output()?;
        if !output.status.success() {
            bail!(
                "reindex failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Sends a request with the admin token; returns status and JSON body.
    pub async fn call(&self, method: &str, path: &str, body: Option<&Json>) -> (u16, Json) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a valid method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Json::String(text));
        (status, json)
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: &Json) -> (u16, Json) {
        self.call("POST", path, Some(body)).await
    }

    /// GET.
    pub async fn get(&self, path: &str) -> (u16, Json) {
        self.call("GET", path, None).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

/// Starts the binary and reads its stdout until it says where it listens.
fn spawn(
    data_dir: &Path,
    time_zone: &str,
    config: Option<&Path>,
    plugins: &Path,
) -> anyhow::Result<(Child, String, Option<String>)> {
    let mut command = Command::new(server_binary());
    command.arg("serve");
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let mut child = command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--plugins-dir")
        .arg(plugins)
        .arg("--plugin-cache-dir")
        .arg(root().join("target/plugin-cache"))
        .args(["--listen", "127.0.0.1:0", "--time-zone", time_zone])
        // Failed plugin calls are answered and counted; thousands of them
        // in the hostile-plugin tests would drown the test output.
        .env(
            "RUST_LOG",
            "warn,tessera::runtime=error,tessera::plugin=off",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the server")?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let mut token = None;
    while let Some(line) = lines.next() {
        let line = line?;
        if let Some(found) = line.trim().strip_prefix("tsr_") {
            token = Some(format!("tsr_{found}"));
        }
        if let Some(address) = line.strip_prefix("Tessera is listening on ") {
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return Ok((child, address.to_string(), token));
        }
    }
    bail!("the server exited before listening")
}
