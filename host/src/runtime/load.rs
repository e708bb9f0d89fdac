//! Loading plugin components from a folder.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{HasData, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi::WasiView as _;

use super::bindings::ValidatorPre;
use super::{Capability, EPOCH_TICK, Metrics, Plugin, PluginError, PluginState, Runtime};
use crate::config::PluginLimits;

/// Why the plugins could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plugins folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the WebAssembly engine cannot start: {0}")]
    Engine(String),
}

/// The first bytes of a WebAssembly component (a core module has version 1).
const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// A component file that was not loaded, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Refusal {
    pub file: String,
    pub reason: String,
}

/// Which capabilities each plugin file is granted, by file name without
/// `.wasm`.
pub type Grants = BTreeMap<String, Vec<Capability>>;

impl Runtime {
    /// Loads every component in `dir`: checks its exports and imports
    /// against the validator world and its grants, compiles it (or loads the
    /// artifact cached in `cache_dir`) and asks which block type it
    /// provides. A `.wasm` file that fails any step is refused with the
    /// reason and the others load; only an unreadable folder or an engine
    /// that cannot start is an error. A block type that two files provide is
    /// refused for both, whichever name sorts first: an extra file in the
    /// folder must not silently replace the validator an app relies on.
    pub async fn load(
        dir: &Path,
        cache_dir: Option<&Path>,
        limits: PluginLimits,
        grants: &Grants,
    ) -> Result<Runtime, LoadError> {
        let engine = new_engine(&limits)?;
        let mut runtime = Runtime {
            engine,
            plugins: HashMap::new(),
            refused: Vec::new(),
            permits: Arc::new(Semaphore::new(limits.max_concurrent)),
            long_lane: Arc::new(Semaphore::new(limits.long_calls)),
            limits,
            metrics: Metrics::new(),
        };
        let mut linkers = HashMap::new();
        let mut loaded = Vec::new();
        for path in wasm_files(dir)? {
            let file = file_name(&path);
            let stem = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let mut granted = grants.get(&stem).cloned().unwrap_or_default();
            granted.sort();
            granted.dedup();
            if !linkers.contains_key(&granted) {
                let linker = new_linker(&runtime.engine, &granted)?;
                linkers.insert(granted.clone(), linker);
            }
            match runtime
                .load_one(&linkers[&granted], &path, cache_dir, &stem, granted)
                .await
            {
                Ok(plugin) => loaded.push(plugin),
                Err(reason) => runtime.refuse(file, reason),
            }
        }
        runtime.register(loaded);
        runtime
            .metrics
            .set_counts(runtime.plugins.len(), runtime.refused.len());
        start_epoch_ticker(runtime.engine.clone());
        Ok(runtime)
    }

    async fn load_one(
        &self,
        linker: &Linker<PluginState>,
        path: &Path,
        cache_dir: Option<&Path>,
        grant_key: &str,
        grants: Vec<Capability>,
    ) -> Result<Plugin, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
        check_header(&bytes)?;
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        let version = hex::encode(&digest[..6]);

        let component = super::cache::compile(&self.engine, &bytes, &digest, cache_dir)
            .map_err(|e| format!("it does not compile: {e:#}"))?;
        super::capability::inspect(&self.engine, &component, &grants, grant_key)?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| format!("it cannot be linked: {e:#}"))?;
        let pre = ValidatorPre::new(instance_pre)
            .map_err(|e| format!("it does not match the validator world: {e:#}"))?;

        let mut plugin = Plugin {
            block_type: String::new(),
            description: String::new(),
            file: file_name(path),
            version,
            grants,
            pre,
            calls: Default::default(),
            permits: Arc::new(Semaphore::new(self.limits.max_concurrent_per_plugin)),
            metrics: None,
        };
        let described = self
            .describe(&plugin)
            .await
            .map_err(|e| format!("describe failed: {e}"))?;
        plugin.block_type = described.name;
        plugin.description = described.description;
        Ok(plugin)
    }

    async fn describe(&self, plugin: &Plugin) -> Result<super::wit::BlockType, PluginError> {
        let mut store = self.new_store(plugin, Arc::new(NoRecords));
        let run = async {
            let instance = plugin.pre.instantiate_async(&mut store).await?;
            instance
                .tessera_plugin_validation()
                .call_describe(&mut store)
                .await
        };
        let limit_ms = self.limits.timeout_ms;
        match tokio::time::timeout(Duration::from_millis(limit_ms), run).await {
            Ok(Ok(described)) => Ok(described),
            Ok(Err(error)) => Err(self.classify(plugin, store.data(), error)),
            Err(_) => Err(PluginError::Timeout {
                plugin: plugin.file.clone(),
                limit_ms,
            }),
        }
    }

    fn refuse(&mut self, file: String, reason: String) {
        tracing::error!(file, %reason, "runtime.load plugin refused");
        self.refused.push(Refusal { file, reason });
    }

    /// Registers each plugin under its block type, refusing a bad name and
    /// every file of a block type that more than one file provides.
    fn register(&mut self, loaded: Vec<Plugin>) {
        let mut by_type: BTreeMap<String, Vec<Plugin>> = BTreeMap::new();
        for plugin in loaded {
            if plugin.block_type.is_empty() || plugin.block_type.len() > 64 {
                let reason = format!(
                    "it names its block type {:?}; a block type is 1 to 64 bytes",
                    plugin.block_type
                );
                self.refuse(plugin.file, reason);
            } else {
                by_type
                    .entry(plugin.block_type.clone())
                    .or_default()
                    .push(plugin);
            }
        }
        for (block_type, mut plugins) in by_type {
            if plugins.len() == 1 {
                let mut plugin = plugins.remove(0);
                plugin.metrics = Some(self.metrics.for_plugin(&block_type, &plugin.version));
                let (label, file) = (plugin.label(), &plugin.file);
                tracing::info!(plugin = %label, file, "runtime.load plugin loaded");
                self.plugins.insert(block_type, Arc::new(plugin));
                continue;
            }
            let files: Vec<&str> = plugins.iter().map(|p| p.file.as_str()).collect();
            let reason = format!(
                "block type {block_type} is provided by {}; keep one of them in the plugins folder",
                files.join(" and ")
            );
            for plugin in plugins {
                self.refuse(plugin.file, reason.clone());
            }
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

const KEEP_RESIDENT_BYTES: usize = 256 << 10;
const DECOMMIT_BATCH: usize = 8;

fn new_engine(limits: &PluginLimits) -> Result<Engine, LoadError> {
    let instances = limits.max_concurrent as u32 + 8;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances * 8)
        .total_memories(instances * 2)
        .total_tables(instances * 8)
        .max_memory_size(limits.max_memory_bytes)
        // Reset the first 256 KiB of a used slot with memset instead of
        // madvise, and batch the rest: for a plugin linked with a 128 KiB
        // stack (see .cargo/config.toml) that covers every page a small call
        // touches, so the next instantiation takes no page faults and no TLB
        // shootdowns, which were most of a small call's cost.
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        .decommit_batch_size(DECOMMIT_BATCH);

    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .max_wasm_stack(super::MAX_WASM_STACK)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).map_err(|e| LoadError::Engine(format!("{e:#}")))
}

/// A linker with the base interfaces and the granted capabilities, and
/// nothing else: no sockets, no HTTP.
fn new_linker(engine: &Engine, grants: &[Capability]) -> Result<Linker<PluginState>, LoadError> {
    use super::bindings::tessera::plugin::{log, records, types};
    use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random};
    use wasmtime_wasi::random::WasiRandom;
    use wasmtime_wasi_io::bindings::wasi::io;

    let fail = |e: wasmtime::Error| LoadError::Engine(format!("{e:#}"));
    let mut linker = Linker::new(engine);
    let l = &mut linker;
    (|| -> wasmtime::Result<()> {
        io::error::add_to_linker::<_, Io>(l, |t: &mut PluginState| t.ctx().table)?;
        io::poll::add_to_linker::<_, Io>(l, |t: &mut PluginState| t.ctx().table)?;
        io::streams::add_to_linker::<_, Io>(l, |t: &mut PluginState| t.ctx().table)?;
        clocks::wall_clock::add_to_linker::<_, WasiClocks>(l, PluginState::clocks)?;
        clocks::monotonic_clock::add_to_linker::<_, WasiClocks>(l, PluginState::clocks)?;
        filesystem::types::add_to_linker::<_, WasiFilesystem>(l, PluginState::filesystem)?;
        filesystem::preopens::add_to_linker::<_, WasiFilesystem>(l, PluginState::filesystem)?;
        random::random::add_to_linker::<_, WasiRandom>(l, |t: &mut PluginState| {
            t.ctx().ctx.random()
        })?;
        random::insecure::add_to_linker::<_, WasiRandom>(l, |t: &mut PluginState| {
            t.ctx().ctx.random()
        })?;
        random::insecure_seed::add_to_linker::<_, WasiRandom>(l, |t: &mut PluginState| {
            t.ctx().ctx.random()
        })?;
        cli::exit::add_to_linker::<_, WasiCli>(l, PluginState::cli)?;
        cli::environment::add_to_linker::<_, WasiCli>(l, PluginState::cli)?;
        cli::stdin::add_to_linker::<_, WasiCli>(l, PluginState::cli)?;
        cli::stdout::add_to_linker::<_, WasiCli>(l, PluginState::cli)?;
        cli::stderr::add_to_linker::<_, WasiCli>(l, PluginState::cli)?;
        cli::terminal_input::add_to_linker::<_, WasiCli>(l, PluginState::cli)?;
        cli::terminal_output::add_to_linker::<_, WasiCli>(l, PluginState::cli)?;
        cli::terminal_stdin::add_to_linker::<_, WasiCli>(l, PluginState::cli)?;
        cli::terminal_stdout::add_to_linker::<_, WasiCli>(l, PluginState::cli)?;
        cli::terminal_stderr::add_to_linker::<_, WasiCli>(l, PluginState::cli)?;
        types::add_to_linker::<_, HasSelf<_>>(l, |state| state)?;
        log::add_to_linker::<_, HasSelf<_>>(l, |state| state)?;
        for grant in grants {
            match grant {
                Capability::Records => records::add_to_linker::<_, HasSelf<_>>(l, |state| state)?,
            }
        }
        Ok(())
    })()
    .map_err(fail)?;
    Ok(linker)
}

/// Links `wasi:io` to the instance's resource table.
struct Io;

impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}

fn wasm_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let folder_error = |source| LoadError::Folder {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(folder_error)? {
        let path = entry.map_err(folder_error)?.path();
        // Any case of `.wasm`, and anything but a folder: a dangling link
        // is refused as unreadable rather than skipped without a word.
        let wasm = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("wasm"));
        if wasm && !path.is_dir() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Tells a component from a core module or a file that is not WebAssembly,
/// with the fix a plugin author needs.
fn check_header(bytes: &[u8]) -> Result<(), String> {
    const MAGIC: [u8; 4] = [0x00, 0x61, 0x73, 0x6d];
    const CORE_MODULE: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    if bytes.starts_with(&COMPONENT_HEADER) {
        Ok(())
    } else if bytes.starts_with(&CORE_MODULE) {
        Err(
            "it is a core WebAssembly module, not a component; build it with \
             `cargo build --release --target wasm32-wasip2` (see docs/plugins.md)"
                .into(),
        )
    } else if bytes.starts_with(&MAGIC) {
        Err("it is WebAssembly of a version this server does not know, not a component".into())
    } else {
        Err(
            "it is not WebAssembly: a component starts with the bytes 00 61 73 6d 0d 00 01 00"
                .into(),
        )
    }
}

fn start_epoch_ticker(engine: Engine) {
    std::thread::Builder::new()
        .name("tessera-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("the epoch thread starts");
}

/// Records access for calls made outside any org, such as `describe`.
struct NoRecords;

impl super::RecordsReader for NoRecords {
    fn exists(&self, _: &str, _: &str, _: &[String]) -> Result<Vec<bool>, String> {
        Err("records are not available while a plugin is being loaded".into())
    }
}
