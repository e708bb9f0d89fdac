//! One plugin call: permits, a fresh store, limits, the answer's checks,
//! the span and the metrics.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::WasiCtx;

use super::host::{MemoryBudget, PluginState};
use super::{BatchShape, Plugin, PluginError, RecordsReader, Runtime, wit};

pub(super) enum Request {
    CheckConfig(String),
    Validate(wit::Batch),
}

pub(super) enum Response {
    CheckConfig(Result<wit::ValueKind, String>),
    Validate(Result<Vec<wit::Violation>, String>),
}

/// Epoch ticks a call may run before it counts as long. Two, because the
/// first tick may come at any moment after the call starts.
const SHORT_CALL_TICKS: u64 = 2;

impl Runtime {
    pub(super) async fn call(
        &self,
        plugin: &Plugin,
        records: Arc<dyn RecordsReader>,
        request: Request,
    ) -> Result<Response, PluginError> {
        plugin
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // This plugin's share first, so a plugin at its share waits without
        // holding a place in the shared pool.
        let _own = plugin
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let _shared = self
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");

        let span = tracing::debug_span!(
            "runtime.call",
            plugin = %plugin.label(),
            outcome = tracing::field::Empty,
        );
        let started = Instant::now();
        let outcome = self
            .run(plugin, records, request)
            .instrument(span.clone())
            .await;
        let elapsed = started.elapsed();
        let outcome_name = match &outcome {
            Ok(_) => "ok",
            Err(error) => error.reason(),
        };
        span.record("outcome", outcome_name);
        self.metrics.observe(plugin, outcome_name, elapsed);
        if let Err(error) = &outcome {
            let plugin = plugin.label();
            tracing::warn!(plugin, reason = outcome_name, %error, "runtime.call failed");
        }
        outcome
    }

    async fn run(
        &self,
        plugin: &Plugin,
        records: Arc<dyn RecordsReader>,
        request: Request,
    ) -> Result<Response, PluginError> {
        let limit_ms = self.limits.timeout_ms;
        let mut store = self.new_store(plugin, records);
        let shape = match &request {
            Request::Validate(batch) => Some(BatchShape::of(batch)),
            Request::CheckConfig(_) => None,
        };

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
        // The deadline covers instantiation, guest code and host calls alike:
        // dropping the future drops the instance wherever it is waiting.
        let response = match tokio::time::timeout(Duration::from_millis(limit_ms), run).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => return Err(self.classify(plugin, store.data(), error)),
            Err(_) => {
                return Err(PluginError::Timeout {
                    plugin: plugin.label(),
                    limit_ms,
                });
            }
        };

        let bytes = output_bytes(&response);
        if bytes > self.limits.max_output_bytes {
            return Err(PluginError::Output {
                plugin: plugin.label(),
                bytes,
                limit_bytes: self.limits.max_output_bytes,
            });
        }
        if let (Some(shape), Response::Validate(Ok(violations))) = (shape, &response) {
            shape
                .check(violations)
                .map_err(|message| PluginError::Malformed {
                    plugin: plugin.label(),
                    message,
                })?;
        }
        Ok(response)
    }

    /// A store for one call: memory budget, the granted capabilities' state
    /// and the epoch deadline that makes a long call yield, queue for the
    /// long-call lane and finally trap.
    pub(super) fn new_store(
        &self,
        plugin: &Plugin,
        records: Arc<dyn RecordsReader>,
    ) -> Store<PluginState> {
        let lane_place = Arc::new(Mutex::new(None));
        let state = PluginState {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            memory: MemoryBudget::new(self.limits.max_memory_bytes),
            records,
            plugin: plugin.label(),
            panic: None,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);

        let budget = Duration::from_millis(self.limits.timeout_ms);
        let started = Instant::now();
        let lane = self.long_lane.clone();
        store.set_epoch_deadline(SHORT_CALL_TICKS);
        store.epoch_deadline_callback(move |_| {
            if started.elapsed() >= budget {
                return Ok(UpdateDeadline::Interrupt);
            }
            // Round robin: give up the place held for the last tick and queue
            // again at the back, so a call that only just became long (it was
            // descheduled, say) waits a few ticks, not for a loop's deadline.
            *lane_place.lock().expect("the lane place is never poisoned") = None;
            let queue = join_lane(lane.clone(), lane_place.clone());
            Ok(UpdateDeadline::YieldCustom(1, Box::pin(queue)))
        });
        store
    }

    pub(super) fn classify(
        &self,
        plugin: &Plugin,
        state: &PluginState,
        error: wasmtime::Error,
    ) -> PluginError {
        let plugin_label = plugin.label();
        if state.memory.exhausted() {
            return PluginError::Memory {
                plugin: plugin_label,
                limit_bytes: self.limits.max_memory_bytes,
            };
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => {
                return PluginError::Timeout {
                    plugin: plugin_label,
                    limit_ms: self.limits.timeout_ms,
                };
            }
            Some(Trap::StackOverflow) => {
                return PluginError::Stack {
                    plugin: plugin_label,
                    limit_bytes: super::MAX_WASM_STACK,
                };
            }
            Some(Trap::UnreachableCodeReached) if state.panic.is_some() => {
                return PluginError::Panicked {
                    plugin: plugin_label,
                    message: state.panic.clone().unwrap_or_default(),
                };
            }
            // Rust puts its stack at the bottom of linear memory, so deep
            // recursion there runs off address 0 rather than off the engine's
            // call stack: say so, since a bad pointer reads the same.
            Some(Trap::MemoryOutOfBounds) => {
                return PluginError::Trapped {
                    plugin: plugin_label,
                    message: format!(
                        "{} (a bad pointer, or its stack in linear memory overflowed: \
                         unbounded recursion?)",
                        error.root_cause()
                    ),
                };
            }
            _ => {}
        }
        PluginError::Trapped {
            plugin: plugin_label,
            message: error.root_cause().to_string(),
        }
    }
}

/// Waits for a place in the long-call lane (the semaphore is fair: first
/// come, first served) and keeps it in `place` until the next tick, or until
/// the store, which owns the epoch callback and so the place, is dropped.
async fn join_lane(lane: Arc<Semaphore>, place: Arc<Mutex<Option<OwnedSemaphorePermit>>>) {
    let permit = lane
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    *place.lock().expect("the lane place is never poisoned") = Some(permit);
}

/// Bytes of text in an answer, the measure of the output limit.
fn output_bytes(response: &Response) -> usize {
    match response {
        Response::CheckConfig(Ok(_)) => 0,
        Response::CheckConfig(Err(message)) | Response::Validate(Err(message)) => message.len(),
        Response::Validate(Ok(violations)) => violations
            .iter()
            .map(|v| 4 + v.field.len() + v.rule.len() + v.message.len())
            .sum(),
    }
}
