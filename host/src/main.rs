//! The `tessera` command: `serve` and `reindex`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tessera::config::Config;
use tessera::runtime::Runtime;

/// Many small allocations per submission (JSON values, index terms, store
/// records); mimalloc keeps them cheap where the system allocator fragments.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tessera: a no-code platform for business apps.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server.
    Serve(Options),
    /// Rebuild the search index from the store. Stop the server first.
    Reindex(Options),
}

/// Flags override the environment, which overrides the config file.
#[derive(Args)]
struct Options {
    /// TOML config file.
    #[arg(long, env = "TESSERA_CONFIG")]
    config: Option<PathBuf>,
    /// Folder for the store and the index [default: ./data].
    #[arg(long, env = "TESSERA_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Folder of plugin components [default: target/wasm32-wasip2/release].
    #[arg(long, env = "TESSERA_PLUGINS_DIR")]
    plugins_dir: Option<PathBuf>,
    /// Folder for compiled plugins [default: <data-dir>/plugin-cache].
    #[arg(long, env = "TESSERA_PLUGIN_CACHE_DIR")]
    plugin_cache_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "TESSERA_LISTEN")]
    listen: Option<SocketAddr>,
    /// IANA time zone of the org made at first start [default: UTC].
    #[arg(long, env = "TESSERA_TIME_ZONE")]
    time_zone: Option<String>,
    /// Load the demo workspace at first start.
    #[arg(long, env = "TESSERA_DEMO")]
    demo: bool,
}

impl Options {
    fn into_config(self) -> anyhow::Result<Config> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(dir) = self.data_dir {
            config.data_dir = dir;
        }
        if let Some(dir) = self.plugins_dir {
            config.plugins_dir = dir;
        }
        if let Some(dir) = self.plugin_cache_dir {
            config.plugin_cache_dir = Some(dir);
        }
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if let Some(time_zone) = self.time_zone {
            config.time_zone = time_zone;
        }
        config.demo |= self.demo;
        config.validate()?;
        Ok(config)
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,wasmtime=warn,cranelift=warn,tantivy=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match cli.command {
        Command::Serve(options) => runtime.block_on(tessera::server::serve(options.into_config()?)),
        Command::Reindex(options) => {
            let config = options.into_config()?;
            runtime.block_on(async {
                let cache_dir = config.plugin_cache_dir();
                let limits = config.plugin_limits.validator.clone();
                let grants = config.plugin_grants();
                let plugins =
                    Runtime::load(&config.plugins_dir, Some(&cache_dir), limits, &grants).await?;
                tessera::server::reindex(&config, Arc::new(plugins))
            })?;
            println!(
                "Index rebuilt in {}",
                config.data_dir.join("index").display()
            );
            Ok(())
        }
    }
}
