//! The WebAssembly plugin runtime.
//!
//! One wasmtime [`Engine`] with the pooling allocator serves every plugin.
//! Each component is compiled once at load and kept as a pre-instantiated
//! handle; every call gets a fresh [`wasmtime::Store`] with memory limits, an
//! epoch deadline and a wall-clock timeout, so one plugin's bad call fails
//! alone. A semaphore bounds live instances: when all are busy, callers
//! wait rather than fail.

mod bindings;
mod cache;
mod host;
mod load;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tracing::Instrument;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimitsBuilder};
use wasmtime_wasi::WasiCtx;

pub use bindings::wit;
pub use host::{PluginState, RecordsReader};
pub use load::LoadError;

use crate::config::PluginLimits;

/// How often the epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What a batch allows a plugin to answer: violations of its own rows and
/// fields, at most one per value, with short texts.
struct BatchShape {
    rows: usize,
    fields: Vec<String>,
}

/// Longest rule code and message a plugin may return, in bytes.
const MAX_RULE_BYTES: usize = 64;
const MAX_MESSAGE_BYTES: usize = 1024;

impl BatchShape {
    fn of(batch: &wit::Batch) -> BatchShape {
        BatchShape {
            rows: batch.rows.len(),
            fields: batch.fields.iter().map(|f| f.key.clone()).collect(),
        }
    }

    fn check(&self, violations: &[wit::Violation]) -> Result<(), String> {
        if violations.len() > self.rows * self.fields.len() {
            return Err(format!(
                "{} violations for {} values",
                violations.len(),
                self.rows
            ));
        }
        for violation in violations {
            if violation.row as usize >= self.rows {
                return Err(format!(
                    "a violation for row {}, of {}",
                    violation.row, self.rows
                ));
            }
            if !self.fields.contains(&violation.field) {
                return Err(format!(
                    "a violation for field {:?}, not in the batch",
                    violation.field
                ));
            }
            if violation.rule.len() > MAX_RULE_BYTES || violation.message.len() > MAX_MESSAGE_BYTES
            {
                return Err("a rule code or message too long".into());
            }
        }
        Ok(())
    }
}

enum Request {
    CheckConfig(String),
    Validate(wit::Batch),
}

enum Response {
    CheckConfig(Result<wit::ValueKind, String>),
    Validate(Result<Vec<wit::Violation>, String>),
}

/// A loaded validator plugin.
pub struct Plugin {
    /// The block type it provides, such as `core/number`.
    pub block_type: String,
    pub description: String,
    /// The component file it came from.
    pub file: String,
    /// First 12 hex digits of the component's SHA-256: names this build.
    pub version: String,
    pre: bindings::ValidatorPre<PluginState>,
    calls: AtomicU64,
}

impl Plugin {
    /// How many calls (config checks and validations) this plugin has had.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// `block_type@version`, as errors and logs name a plugin.
    pub fn label(&self) -> String {
        format!("{}@{}", self.block_type, self.version)
    }
}

/// Why a plugin call failed. The message names the plugin and version.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("no plugin provides block type {0:?}")]
    UnknownBlockType(String),
    #[error("plugin {plugin} failed: {message}")]
    Trapped { plugin: String, message: String },
    #[error("plugin {plugin} ran past its {limit_ms} ms time limit")]
    Timeout { plugin: String, limit_ms: u64 },
    #[error("plugin {plugin} could not validate: {message}")]
    Refused { plugin: String, message: String },
    #[error("plugin {plugin} answered with malformed output: {message}")]
    Malformed { plugin: String, message: String },
}

/// All loaded plugins and the engine that runs them.
pub struct Runtime {
    engine: Engine,
    plugins: HashMap<String, Arc<Plugin>>,
    limits: PluginLimits,
    permits: Semaphore,
}

impl Runtime {
    /// The plugin for a block type.
    pub fn plugin(&self, block_type: &str) -> Result<&Arc<Plugin>, PluginError> {
        self.plugins
            .get(block_type)
            .ok_or_else(|| PluginError::UnknownBlockType(block_type.to_string()))
    }

    /// Every loaded plugin, sorted by block type.
    pub fn plugins(&self) -> Vec<&Arc<Plugin>> {
        let mut all: Vec<_> = self.plugins.values().collect();
        all.sort_by(|a, b| a.block_type.cmp(&b.block_type));
        all
    }

    /// Asks a plugin whether a block config is valid and what the block holds.
    pub async fn check_config(
        &self,
        block_type: &str,
        config: &str,
        records: Arc<dyn RecordsReader>,
    ) -> Result<Result<wit::ValueKind, String>, PluginError> {
        let plugin = self.plugin(block_type)?.clone();
        match self
            .call(&plugin, records, Request::CheckConfig(config.into()))
            .await?
        {
            Response::CheckConfig(outcome) => Ok(outcome),
            Response::Validate(_) => unreachable!("check-config answers check-config"),
        }
    }

    /// Validates one batch with the plugin for `block_type`: one call, however
    /// many rows.
    pub async fn validate(
        &self,
        block_type: &str,
        batch: wit::Batch,
        records: Arc<dyn RecordsReader>,
    ) -> Result<Vec<wit::Violation>, PluginError> {
        let plugin = self.plugin(block_type)?.clone();
        let shape = BatchShape::of(&batch);
        let outcome = match self
            .call(&plugin, records, Request::Validate(batch))
            .await?
        {
            Response::Validate(outcome) => outcome,
            Response::CheckConfig(_) => unreachable!("validate answers validate"),
        };
        let violations = outcome.map_err(|message| PluginError::Refused {
            plugin: plugin.label(),
            message,
        })?;
        shape
            .check(&violations)
            .map_err(|message| PluginError::Malformed {
                plugin: plugin.label(),
                message,
            })?;
        Ok(violations)
    }

    async fn call(
        &self,
        plugin: &Plugin,
        records: Arc<dyn RecordsReader>,
        request: Request,
    ) -> Result<Response, PluginError> {
        plugin.calls.fetch_add(1, Ordering::Relaxed);
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let limit_ms = self.limits.timeout_ms;
        let mut store = self.new_store(plugin, records);

        let run = async {
            let instance = plugin.pre.instantiate_async(&mut store).await?;
            let guest = instance.tessera_plugin_validation();
            match request {
                Request::CheckConfig(config) => guest
                    .call_check_config(&mut store, &config)
                    .await
                    .map(Response::CheckConfig),
                Request::Validate(batch) => guest
                    .call_validate(&mut store, &batch)
                    .await
                    .map(Response::Validate),
            }
        };
        // The span names the plugin and the outcome, never the values.
        let span = tracing::debug_span!(
            "runtime.call",
            plugin = %plugin.label(),
            outcome = tracing::field::Empty,
        );
        let deadline = Duration::from_millis(limit_ms);
        let outcome = tokio::time::timeout(deadline, run)
            .instrument(span.clone())
            .await;
        let outcome = match outcome {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(trap)) => Err(classify_trap(plugin, limit_ms, trap)),
            Err(_) => Err(PluginError::Timeout {
                plugin: plugin.label(),
                limit_ms,
            }),
        };
        span.record("outcome", outcome_name(&outcome));
        outcome
    }

    fn new_store(&self, plugin: &Plugin, records: Arc<dyn RecordsReader>) -> Store<PluginState> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.max_memory_bytes)
            .instances(64)
            .trap_on_grow_failure(true)
            .build();
        let state = PluginState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limits,
            records,
            plugin: plugin.label(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        let ticks = self.limits.timeout_ms / EPOCH_TICK.as_millis() as u64;
        store.set_epoch_deadline(ticks.max(1));
        store.epoch_deadline_trap();
        store
    }
}

fn outcome_name(outcome: &Result<Response, PluginError>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(PluginError::Timeout { .. }) => "timeout",
        Err(_) => "trap",
    }
}

fn classify_trap(plugin: &Plugin, limit_ms: u64, error: wasmtime::Error) -> PluginError {
    if let Some(wasmtime::Trap::Interrupt) = error.downcast_ref::<wasmtime::Trap>() {
        return PluginError::Timeout {
            plugin: plugin.label(),
            limit_ms,
        };
    }
    tracing::warn!(plugin = %plugin.label(), error = ?error, "runtime.call trapped");
    PluginError::Trapped {
        plugin: plugin.label(),
        message: error.root_cause().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> BatchShape {
        BatchShape {
            rows: 2,
            fields: vec!["qty".into()],
        }
    }

    fn violation(row: u32, field: &str, message: &str) -> wit::Violation {
        wit::Violation {
            row,
            field: field.into(),
            rule: "min".into(),
            message: message.into(),
        }
    }

    #[test]
    fn violations_of_the_batch_rows_and_fields_are_well_formed() {
        let answer = [
            violation(0, "qty", "too few"),
            violation(1, "qty", "too few"),
        ];
        assert_eq!(shape().check(&answer), Ok(()));
    }

    #[test]
    fn violations_outside_the_batch_or_too_many_are_malformed() {
        assert!(shape().check(&[violation(2, "qty", "row 2 of 2")]).is_err());
        assert!(shape().check(&[violation(0, "price", "not sent")]).is_err());
        let three = [0, 1, 1].map(|row| violation(row, "qty", "again"));
        assert!(shape().check(&three).is_err());
        let long = "x".repeat(MAX_MESSAGE_BYTES + 1);
        assert!(shape().check(&[violation(0, "qty", &long)]).is_err());
    }
}
