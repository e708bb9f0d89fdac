//! Loading plugin components from a folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings::{Validator, ValidatorPre};
use super::{EPOCH_TICK, Plugin, PluginState, Runtime};
use crate::config::PluginLimits;

/// Why the plugins could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plugins folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("plugin {file} is not a valid validator component: {message}")]
    Component { file: String, message: String },
    #[error("plugins {first} and {second} both provide block type {block_type}")]
    Duplicate {
        block_type: String,
        first: String,
        second: String,
    },
    #[error("the WebAssembly engine cannot start: {0}")]
    Engine(String),
}

/// The first bytes of a WebAssembly component (a core module has version 1).
const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

impl Runtime {
    /// Compiles every component in `dir` and asks each which block type it
    /// provides. Core modules and other files are skipped.
    /// Compiled artifacts are cached in `cache_dir` when one is given.
    pub async fn load(
        dir: &Path,
        cache_dir: Option<&Path>,
        limits: PluginLimits,
    ) -> Result<Runtime, LoadError> {
        let engine = new_engine(&limits)?;
        let linker = new_linker(&engine)?;
        let mut runtime = Runtime {
            engine,
            plugins: HashMap::new(),
            permits: Semaphore::new(limits.max_concurrent),
            limits,
        };
        // TODO(#3): one component that fails to load stops the server; skip
        // it with a clear error instead, and refuse components by their
        // imports and exports before linking.
        for path in component_files(dir)? {
            let plugin = runtime.load_one(&linker, &path, cache_dir).await?;
            runtime.register(plugin)?;
        }
        start_epoch_ticker(runtime.engine.clone());
        Ok(runtime)
    }

    async fn load_one(
        &self,
        linker: &Linker<PluginState>,
        path: &Path,
        cache_dir: Option<&Path>,
    ) -> Result<Plugin, LoadError> {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let invalid = |message: String| LoadError::Component {
            file: file.clone(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| invalid(e.to_string()))?;
        let version = hex::encode(&Sha256::digest(&bytes)[..6]);

        let component = super::cache::compile(&self.engine, &bytes, cache_dir)
            .map_err(|e| invalid(format!("{e:#}")))?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| invalid(format!("{e:#}")))?;
        let pre = ValidatorPre::new(instance_pre).map_err(|e| invalid(format!("{e:#}")))?;

        let mut plugin = Plugin {
            block_type: String::new(),
            description: String::new(),
            file: file.clone(),
            version,
            pre,
            calls: Default::default(),
        };
        let described = self
            .describe(&plugin)
            .await
            .map_err(|e| invalid(e.to_string()))?;
        plugin.block_type = described.name;
        plugin.description = described.description;
        tracing::info!(plugin = %plugin.label(), file, "runtime.load plugin loaded");
        Ok(plugin)
    }

    async fn describe(&self, plugin: &Plugin) -> wasmtime::Result<super::wit::BlockType> {
        let mut store = self.new_store(plugin, Arc::new(NoRecords));
        let instance = plugin.pre.instantiate_async(&mut store).await?;
        instance
            .tessera_plugin_validation()
            .call_describe(&mut store)
            .await
    }

    fn register(&mut self, plugin: Plugin) -> Result<(), LoadError> {
        if let Some(first) = self.plugins.get(&plugin.block_type) {
            return Err(LoadError::Duplicate {
                block_type: plugin.block_type.clone(),
                first: first.file.clone(),
                second: plugin.file,
            });
        }
        self.plugins
            .insert(plugin.block_type.clone(), Arc::new(plugin));
        Ok(())
    }
}

fn new_engine(limits: &PluginLimits) -> Result<Engine, LoadError> {
    let instances = limits.max_concurrent as u32 + 8;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances * 8)
        .total_memories(instances * 2)
        .total_tables(instances * 8)
        .max_memory_size(limits.max_memory_bytes);

    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).map_err(|e| LoadError::Engine(format!("{e:#}")))
}

fn new_linker(engine: &Engine) -> Result<Linker<PluginState>, LoadError> {
    let mut linker = Linker::new(engine);
    let fail = |e: wasmtime::Error| LoadError::Engine(format!("{e:#}"));
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(fail)?;
    Validator::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state).map_err(fail)?;
    Ok(linker)
}

fn component_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let folder_error = |source| LoadError::Folder {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(folder_error)? {
        let path = entry.map_err(folder_error)?.path();
        if path.extension().is_some_and(|ext| ext == "wasm") && is_component(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn is_component(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut header))
        .is_ok_and(|()| header == COMPONENT_HEADER)
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
