//! Wiring: opens the store, loads the plugins, starts the indexer and
//! serves the API.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::analytics::Analytics;
use crate::apps::Apps;
use crate::auth::{self, Caller};
use crate::config::Config;
use crate::runtime::{RecordsReader, Runtime};
use crate::storage::{ChangeSignal, Store};
use crate::submissions::{OrgRecords, Submissions};

/// Everything a request may need.
pub struct Server {
    pub config: Config,
    pub store: Store,
    pub runtime: Arc<Runtime>,
    pub apps: Arc<Apps>,
    pub submissions: Submissions,
    pub analytics: Arc<Analytics>,
}

impl Server {
    /// Opens the data folder, loads plugins and starts the indexer.
    pub async fn start(config: Config) -> anyhow::Result<Arc<Server>> {
        let store = open_store(&config)?;
        let cache_dir = config.plugin_cache_dir();
        let runtime = Runtime::load(
            &config.plugins_dir,
            Some(&cache_dir),
            config.plugin_limits.validator.clone(),
            &config.plugin_grants(),
        )
        .await
        .with_context(|| {
            format!(
                "loading plugins from {} (scripts/run builds the core plugins there; \
                 --plugins-dir names another folder of components)",
                config.plugins_dir.display()
            )
        })?;
        // A grant for a file that is not there is usually a misspelt name.
        let files: Vec<&str> = (runtime.plugins().iter().map(|p| p.file.as_str()))
            .chain(runtime.refused().iter().map(|r| r.file.as_str()))
            .collect();
        for name in config.plugin_grants.keys() {
            let named = |file: &&str| std::path::Path::new(file).file_stem() == Some(name.as_ref());
            if !files.iter().any(named) {
                tracing::warn!(
                    grant = name,
                    dir = %config.plugins_dir.display(),
                    "server.start plugin_grants names a file that is not in the plugins folder"
                );
            }
        }
        let runtime = Arc::new(runtime);
        let apps = Arc::new(Apps::new(store.clone(), runtime.clone()));
        for (org, app, block, block_type) in apps.unserved_blocks()? {
            tracing::warn!(
                org,
                app,
                block,
                block_type,
                "server.start no loaded plugin provides this block type; \
                 submissions that fill in the block fail until it is back"
            );
        }
        let index_dir = config.data_dir.join("index");
        let analytics = Arc::new(
            Analytics::open(&index_dir, store.clone(), apps.clone())
                .context("opening the index")?,
        );
        let changed = Arc::new(ChangeSignal::default());
        analytics.start_indexer(
            changed.clone(),
            Duration::from_millis(config.index_commit_ms),
        );
        let submissions = Submissions::new(
            store.clone(),
            apps.clone(),
            runtime.clone(),
            config.max_batch_rows,
            changed,
        );
        Ok(Arc::new(Server {
            config,
            store,
            runtime,
            apps,
            submissions,
            analytics,
        }))
    }

    /// The `records` capability for the caller's org.
    pub fn records(&self, caller: &Caller) -> Arc<dyn RecordsReader> {
        Arc::new(OrgRecords {
            store: self.store.clone(),
            apps: self.apps.clone(),
            org: caller.org.id.clone(),
        })
    }
}

/// Runs `tessera serve` until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let server = Server::start(config).await?;
    let first_start = server.store.orgs.iter().next().is_none();
    if first_start && server.config.demo {
        let missing = crate::demo::missing_block_types(&server.runtime)?;
        if !missing.is_empty() {
            anyhow::bail!(
                "the demo workspace needs block types that no loaded plugin provides: {}; \
                 the log above says which plugin files were refused; no org was made",
                missing.join(", ")
            );
        }
    }
    let first = auth::ensure_first_org(&server.store, &server.config.time_zone)?;
    if first.is_none() {
        println!(
            "Using the org in {}; its admin token was printed at its first start \
             (delete the folder to start over).",
            server.config.data_dir.display()
        );
    }
    if let Some(first) = &first {
        println!("Created org \"{}\" ({}).", first.org.name, first.org.id);
        println!("Admin API token (shown only this once; keep it safe):");
        println!("  {}", first.token);
        if server.config.demo {
            let caller = Caller {
                org: first.org.clone(),
                token_name: "demo".into(),
            };
            for line in crate::demo::load(&server, &caller)
                .await
                .context("loading the demo")?
            {
                println!("Demo {line}");
            }
        }
    }

    let listener = tokio::net::TcpListener::bind(server.config.listen)
        .await
        .with_context(|| format!("listening on {}", server.config.listen))?;
    println!("Tessera is listening on http://{}", listener.local_addr()?);
    tracing::info!(address = %listener.local_addr()?, "server.start");
    let store = server.store.clone();
    axum::serve(listener, crate::api::router(server))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    store.db.flush_async().await?;
    tracing::info!("server.stop");
    Ok(())
}

/// Runs `tessera reindex`: rebuilds the index from the store.
pub fn reindex(config: &Config, runtime: Arc<Runtime>) -> anyhow::Result<()> {
    let store = open_store(config)?;
    let apps = Arc::new(Apps::new(store.clone(), runtime));
    Analytics::rebuild(&config.data_dir.join("index"), store, apps)?;
    Ok(())
}

fn open_store(config: &Config) -> anyhow::Result<Store> {
    let path = config.data_dir.join("store");
    Store::open(&path).with_context(|| format!("opening the store in {}", path.display()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
