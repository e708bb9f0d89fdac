//! The WebAssembly plugin runtime.
//!
//! One wasmtime [`Engine`] with the pooling allocator serves every plugin.
//! Each component is checked against the validator world and its grants,
//! compiled once (or loaded from the on-disk cache) and kept as a
//! pre-instantiated handle. Every call gets a fresh [`Store`] with a memory
//! limit, an epoch deadline and a wall-clock timeout that also covers time
//! spent in host calls, so one plugin's bad call fails alone and is counted.
//!
//! Two semaphores bound live instances, one for all plugins and one per
//! plugin: when they are full, callers wait rather than fail, and one plugin
//! cannot take every instance. A call still running after its first epoch
//! tick is a long call: it yields to the executor on every tick and needs a
//! place in the long-call lane, whose few places keep long calls from taking
//! every core from short ones.

mod bindings;
mod cache;
mod call;
mod capability;
mod host;
mod load;
mod metrics;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use wasmtime::Engine;

pub use bindings::wit;
pub use capability::Capability;
pub use host::{PluginState, RecordsReader};
pub use load::{Grants, LoadError, Refusal};
pub use metrics::Metrics;

use crate::config::PluginLimits;

/// How often the epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine's stack for a plugin's WebAssembly frames (wasmtime's default,
/// stated so that a stack overflow can name it).
const MAX_WASM_STACK: usize = 512 << 10;

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

/// A loaded validator plugin.
pub struct Plugin {
    /// The block type it provides, such as `core/number`.
    pub block_type: String,
    pub description: String,
    /// The component file it came from.
    pub file: String,
    /// First 12 hex digits of the component's SHA-256: names this build.
    pub version: String,
    /// Capabilities beyond the base it was granted.
    pub grants: Vec<Capability>,
    pre: bindings::ValidatorPre<PluginState>,
    calls: AtomicU64,
    /// This plugin's share of the instance pool.
    permits: Arc<Semaphore>,
    /// Its metric series, made once its block type is known.
    metrics: Option<metrics::PluginMetrics>,
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

/// Why a plugin call failed. The message names the plugin and version, and
/// the limit when one was hit.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error(
        "no loaded plugin provides block type {0:?}: its file is missing from the plugins \
         folder or was refused (see GET /api/plugins)"
    )]
    UnknownBlockType(String),
    #[error("plugin {plugin} failed: {message}")]
    Trapped { plugin: String, message: String },
    #[error("plugin {plugin} panicked: {message}")]
    Panicked { plugin: String, message: String },
    #[error("plugin {plugin} ran past its {limit_ms} ms time limit")]
    Timeout { plugin: String, limit_ms: u64 },
    #[error("plugin {plugin} went over its memory limit of {limit_bytes} bytes")]
    Memory { plugin: String, limit_bytes: usize },
    #[error("plugin {plugin} ran out of its {limit_bytes} byte stack (unbounded recursion?)")]
    Stack { plugin: String, limit_bytes: usize },
    #[error("plugin {plugin} answered {bytes} bytes, over its output limit of {limit_bytes}")]
    Output {
        plugin: String,
        bytes: usize,
        limit_bytes: usize,
    },
    #[error("plugin {plugin} could not validate: {message}")]
    Refused { plugin: String, message: String },
    #[error("plugin {plugin} answered with malformed output: {message}")]
    Malformed { plugin: String, message: String },
}

impl PluginError {
    /// A short name for what went wrong, as metrics and error bodies name it.
    pub fn reason(&self) -> &'static str {
        match self {
            PluginError::UnknownBlockType(_) => "unknown",
            PluginError::Trapped { .. } => "trap",
            PluginError::Panicked { .. } => "panic",
            PluginError::Timeout { .. } => "timeout",
            PluginError::Memory { .. } => "memory",
            PluginError::Stack { .. } => "stack",
            PluginError::Output { .. } => "output",
            PluginError::Refused { .. } => "refused",
            PluginError::Malformed { .. } => "malformed",
        }
    }

    /// The `block_type@version` of the plugin that failed, or the bare
    /// block type when no plugin provides it.
    pub fn plugin(&self) -> Option<&str> {
        match self {
            PluginError::UnknownBlockType(block_type) => Some(block_type),
            PluginError::Trapped { plugin, .. }
            | PluginError::Panicked { plugin, .. }
            | PluginError::Timeout { plugin, .. }
            | PluginError::Memory { plugin, .. }
            | PluginError::Stack { plugin, .. }
            | PluginError::Output { plugin, .. }
            | PluginError::Refused { plugin, .. }
            | PluginError::Malformed { plugin, .. } => Some(plugin),
        }
    }
}

/// All loaded plugins and the engine that runs them.
pub struct Runtime {
    engine: Engine,
    plugins: HashMap<String, Arc<Plugin>>,
    refused: Vec<Refusal>,
    limits: PluginLimits,
    permits: Arc<Semaphore>,
    long_lane: Arc<Semaphore>,
    metrics: Metrics,
}

impl Runtime {
    /// The plugin for a block type.
    pub fn plugin(&self, block_type: &str) -> Result<&Arc<Plugin>, PluginError> {
        self.plugins
            .get(block_type)
            .ok_or_else(|| PluginError::UnknownBlockType(block_type.to_string()))
    }

    /// Whether a loaded plugin provides `block_type`.
    pub fn provides(&self, block_type: &str) -> bool {
        self.plugins.contains_key(block_type)
    }

    /// Every loaded plugin, sorted by block type.
    pub fn plugins(&self) -> Vec<&Arc<Plugin>> {
        let mut all: Vec<_> = self.plugins.values().collect();
        all.sort_by(|a, b| a.block_type.cmp(&b.block_type));
        all
    }

    /// Component files that were not loaded, and why.
    pub fn refused(&self) -> &[Refusal] {
        &self.refused
    }

    /// Per-plugin call counters and latency histograms.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Asks a plugin whether a block config is valid and what the block holds.
    pub async fn check_config(
        &self,
        block_type: &str,
        config: &str,
        records: Arc<dyn RecordsReader>,
    ) -> Result<Result<wit::ValueKind, String>, PluginError> {
        let plugin = self.plugin(block_type)?.clone();
        self.call(&plugin, records, call::Request::CheckConfig(config.into()))
            .await
            .map(|response| match response {
                call::Response::CheckConfig(outcome) => outcome,
                call::Response::Validate(_) => unreachable!("check-config answers check-config"),
            })
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
        let outcome = match self
            .call(&plugin, records, call::Request::Validate(batch))
            .await?
        {
            call::Response::Validate(outcome) => outcome,
            call::Response::CheckConfig(_) => unreachable!("validate answers validate"),
        };
        let violations = outcome.map_err(|message| PluginError::Refused {
            plugin: plugin.label(),
            message,
        })?;
        Ok(violations)
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
