//! What the host gives a plugin during a call: an empty WASI context, the
//! `log` interface, and read access to other apps' records.

use std::sync::Arc;

use wasmtime::StoreLimits;
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
    pub limits: StoreLimits,
    pub records: Arc<dyn RecordsReader>,
    /// `block_type@version`, for logs.
    pub plugin: String,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl log::Host for PluginState {
    fn log(&mut self, level: log::Level, message: String) {
        let plugin = self.plugin.as_str();
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

// TODO(#3): host calls are synchronous: the epoch deadline does not run
// while one blocks, so a slow capability can hold its worker past the call's
// budget. Acceptable while the only capability is a local key read.
impl records::Host for PluginState {
    fn exists(
        &mut self,
        app: String,
        field: String,
        values: Vec<String>,
    ) -> Result<Vec<bool>, String> {
        self.records.exists(&app, &field, &values)
    }
}

impl super::bindings::tessera::plugin::types::Host for PluginState {}
