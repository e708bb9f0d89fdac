//! Per-plugin call counters and latency histograms, in the Prometheus text
//! format served at `/metrics`. Labels name the plugin and its version,
//! never the values it saw.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::Plugin;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    plugin: String,
    version: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PluginLabels {
    plugin: String,
    version: String,
}

type Histograms = Family<PluginLabels, Histogram, fn() -> Histogram>;

/// One plugin's series: the ones every call touches are held directly.
pub struct PluginMetrics {
    ok: Counter,
    seconds: Histogram,
    labels: CallLabels,
}

/// The runtime's metrics.
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    seconds: Histograms,
    loaded: Gauge,
    refused: Gauge,
}

/// Buckets from 10 µs to about 40 s, each four times the last.
fn call_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1e-5, 4.0, 12))
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let calls = Family::<CallLabels, Counter>::default();
        let seconds: Histograms = Family::new_with_constructor(call_histogram);
        let loaded = Gauge::default();
        let refused = Gauge::default();
        registry.register(
            "tessera_plugin_calls",
            "Plugin calls by plugin, version and outcome (ok, timeout, memory, \
             stack, panic, trap, output, malformed, refused)",
            calls.clone(),
        );
        registry.register(
            "tessera_plugin_call_seconds",
            "Time of one plugin call, from its instance ready to its answer checked",
            seconds.clone(),
        );
        registry.register(
            "tessera_plugins_loaded",
            "Plugin components loaded at start",
            loaded.clone(),
        );
        registry.register(
            "tessera_plugins_refused",
            "Plugin components refused at start",
            refused.clone(),
        );
        Metrics {
            registry,
            calls,
            seconds,
            loaded,
            refused,
        }
    }

    /// The series of one plugin, made once at load so a call only bumps
    /// atomics.
    pub(super) fn for_plugin(&self, block_type: &str, version: &str) -> PluginMetrics {
        let labels = |outcome| CallLabels {
            plugin: block_type.to_owned(),
            version: version.to_owned(),
            outcome,
        };
        PluginMetrics {
            ok: self.calls.get_or_create_owned(&labels("ok")),
            seconds: self.seconds.get_or_create_owned(&PluginLabels {
                plugin: block_type.to_owned(),
                version: version.to_owned(),
            }),
            labels: labels("ok"),
        }
    }

    pub(super) fn observe(&self, plugin: &Plugin, outcome: &'static str, elapsed: Duration) {
        let Some(series) = &plugin.metrics else {
            return;
        };
        if outcome == "ok" {
            series.ok.inc();
        } else {
            let labels = CallLabels {
                outcome,
                ..series.labels.clone()
            };
            self.calls.get_or_create(&labels).inc();
        }
        series.seconds.observe(elapsed.as_secs_f64());
    }

    pub(super) fn set_counts(&self, loaded: usize, refused: usize) {
        self.loaded.set(loaded as i64);
        self.refused.set(refused as i64);
    }

    /// Everything, in the Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
