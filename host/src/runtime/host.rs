//! What the host gives a plugin during a call: an empty WASI context, the
//! `log` interface, read access to other apps' records when granted, and
//! the memory budget.

use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::tessera::plugin::{log, records};

/// Looks up values in unique fields of the caller's org. The org is bound
/// when the reader is made, so a plugin can never name another org.
pub trait RecordsReader: Send + Sync {
    /// For each value, whether `app`'s unique field `field` holds it.
    fn exists(&self, app: &str, field: &str, values: &[String]) -> Result<Vec<bool>, String>;
}

/// Per-call state of one plugin instance.
pub struct PluginState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub memory: MemoryBudget,
    pub records: Arc<dyn RecordsReader>,
    /// `block_type@version`, for logs.
    pub plugin: String,
    /// The message of the panic the plugin reported before trapping.
    pub panic: Option<String>,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Linear memory and tables one instance may grow to. Growing past the
/// limit traps, and the budget remembers it so the error can say why.
pub struct MemoryBudget {
    limit_bytes: usize,
    exhausted: bool,
}

/// Table slots an instance may grow to: far beyond what a compiled Rust
/// plugin uses, far below what would cost the host memory.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl MemoryBudget {
    pub fn new(limit_bytes: usize) -> MemoryBudget {
        MemoryBudget {
            limit_bytes,
            exhausted: false,
        }
    }

    /// Whether the plugin tried to grow past its limit.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }
}

impl ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit_bytes {
            self.exhausted = true;
            wasmtime::bail!("memory limit of {} bytes reached", self.limit_bytes);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.exhausted = true;
            wasmtime::bail!("table limit of {MAX_TABLE_ELEMENTS} elements reached");
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        64
    }
}

/// How the SDK's panic hook begins its report (`panicked at file:line`).
const PANIC_PREFIX: &str = "panicked at ";

/// Longest panic message kept for the error, in bytes.
const MAX_PANIC_BYTES: usize = 512;

/// Plugin messages are logged under the target `tessera::plugin`, apart
/// from the server's own.
impl log::Host for PluginState {
    fn log(&mut self, level: log::Level, message: String) {
        let plugin = self.plugin.as_str();
        match level {
            log::Level::Trace => tracing::trace!(target: "tessera::plugin", plugin, "{message}"),
            log::Level::Debug => tracing::debug!(target: "tessera::plugin", plugin, "{message}"),
            log::Level::Info => tracing::info!(target: "tessera::plugin", plugin, "{message}"),
            log::Level::Warn => tracing::warn!(target: "tessera::plugin", plugin, "{message}"),
            log::Level::Error => tracing::error!(target: "tessera::plugin", plugin, "{message}"),
        }
        if matches!(level, log::Level::Error) && message.starts_with(PANIC_PREFIX) {
            let mut end = message.len().min(MAX_PANIC_BYTES);
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            self.panic = Some(message[..end].replace(":\n", ": ").replace('\n', ": "));
        }
    }
}

impl records::Host for PluginState {
    /// Runs on the blocking pool, so the call's deadline holds while the
    /// read is slow: the call is dropped at its deadline and the read's
    /// answer is thrown away.
    async fn exists(
        &mut self,
        app: String,
        field: String,
        values: Vec<String>,
    ) -> Result<Vec<bool>, String> {
        let reader = self.records.clone();
        tokio::task::spawn_blocking(move || reader.exists(&app, &field, &values))
            .await
            .unwrap_or_else(|error| Err(format!("the records read failed: {error}")))
    }
}

impl super::bindings::tessera::plugin::types::Host for PluginState {}
