//! Server configuration: one struct, read from a TOML file, then the
//! environment, then command-line flags (flags win).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::runtime::{Capability, Grants};

/// Everything `tessera serve` can be told. Every field has a default, so an
/// empty file (or none) is a valid configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP API listens on. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Folder for the store and the search index. Default `./data`.
    pub data_dir: PathBuf,
    /// Folder the plugin components (`*.wasm`) are loaded from at start.
    /// Default `target/wasm32-wasip2/release`, where the build puts them.
    pub plugins_dir: PathBuf,
    /// Folder for compiled plugin artifacts, so a restart does not compile
    /// again. Default `<data_dir>/plugin-cache`.
    pub plugin_cache_dir: Option<PathBuf>,
    /// Largest request body accepted, in bytes. Default 32 MiB.
    pub max_body_bytes: usize,
    /// Largest number of rows in one batch request. Default 10,000.
    pub max_batch_rows: usize,
    /// How often the indexer commits, in milliseconds. Default 500.
    pub index_commit_ms: u64,
    /// Time zone of the org created at first start. Default `UTC`.
    pub time_zone: String,
    /// Load the demo workspace (Airlines, Airports, Flights) into the org
    /// created at first start. Default false.
    pub demo: bool,
    /// Per-call limits, by plugin kind.
    pub plugin_limits: PluginLimitsByKind,
    /// Capabilities beyond the base granted to each plugin, by component
    /// file name without `.wasm`, such as
    /// `tessera_plugin_lookup = ["records"]`. Entries here replace the
    /// default entry for the same file.
    pub plugin_grants: Grants,
}

/// Limits for each kind of plugin. Validators are the only kind so far.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginLimitsByKind {
    pub validator: PluginLimits,
}

/// Limits applied to each call of one kind of plugin.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginLimits {
    /// Linear memory a plugin instance may grow to, in bytes. Default 64 MiB.
    pub max_memory_bytes: usize,
    /// Wall-clock budget of one call, host calls included, in
    /// milliseconds. Default 2,000.
    pub timeout_ms: u64,
    /// Bytes of text (rule codes, messages, field keys) one answer may
    /// hold. Default 4 MiB.
    pub max_output_bytes: usize,
    /// Plugin instances alive at once; callers wait when all are busy.
    /// Default 64.
    pub max_concurrent: usize,
    /// Instances of one plugin alive at once, so one plugin cannot hold the
    /// whole pool. Default 16.
    pub max_concurrent_per_plugin: usize,
    /// Long calls (still running after their first 10 to 20 ms) that may
    /// run at once; the others wait for a place. Default: one less than the
    /// number of cores, at least one.
    pub long_calls: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            plugins_dir: PathBuf::from("target/wasm32-wasip2/release"),
            plugin_cache_dir: None,
            max_body_bytes: 32 << 20,
            max_batch_rows: 10_000,
            index_commit_ms: 500,
            time_zone: "UTC".to_string(),
            demo: false,
            plugin_limits: PluginLimitsByKind::default(),
            plugin_grants: Grants::new(),
        }
    }
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            max_memory_bytes: 64 << 20,
            timeout_ms: 2_000,
            max_output_bytes: 4 << 20,
            max_concurrent: 64,
            max_concurrent_per_plugin: 16,
            long_calls: std::thread::available_parallelism()
                .map_or(1, |cores| cores.get().saturating_sub(1))
                .max(1),
        }
    }
}

/// Why a configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("time_zone {0:?} is not an IANA time zone name such as Europe/Paris")]
    TimeZone(String),
    #[error("{0}")]
    Limit(String),
}

impl Config {
    /// Reads a TOML file. A missing file is an error only when the path was
    /// given explicitly.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Where compiled plugin artifacts are kept.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.plugin_cache_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("plugin-cache"))
    }

    /// The grants in force: the defaults, with configured entries replacing
    /// those for the same file. The lookup plugin reads records by default.
    pub fn plugin_grants(&self) -> Grants {
        let mut grants = Grants::from([(
            "tessera_plugin_lookup".to_owned(),
            vec![Capability::Records],
        )]);
        grants.extend(self.plugin_grants.clone());
        grants
    }

    /// Checks values that serde cannot check alone.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| ConfigError::TimeZone(self.time_zone.clone()))?;
        let limits = &self.plugin_limits.validator;
        for (key, value) in [
            ("timeout_ms", limits.timeout_ms as usize),
            ("max_memory_bytes", limits.max_memory_bytes),
            ("max_concurrent", limits.max_concurrent),
            (
                "max_concurrent_per_plugin",
                limits.max_concurrent_per_plugin,
            ),
            ("long_calls", limits.long_calls),
        ] {
            if value == 0 {
                return Err(ConfigError::Limit(format!(
                    "plugin_limits.validator.{key} must be greater than 0"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_documented_defaults() {
        let config: Config = toml::from_str("").unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("data"));
        assert_eq!(config.plugin_limits.validator.timeout_ms, 2_000);
        assert_eq!(
            config.plugin_grants()["tessera_plugin_lookup"],
            [Capability::Records]
        );
    }

    #[test]
    fn plugin_limits_and_grants_are_read_per_kind_and_file() {
        let text = "[plugin_limits.validator]\ntimeout_ms = 50\n\n\
                    [plugin_grants]\ntessera_plugin_lookup = []\nmine = [\"records\"]\n";
        let config: Config = toml::from_str(text).unwrap();
        assert_eq!(config.plugin_limits.validator.timeout_ms, 50);
        assert_eq!(config.plugin_limits.validator.max_memory_bytes, 64 << 20);
        let grants = config.plugin_grants();
        assert!(grants["tessera_plugin_lookup"].is_empty());
        assert_eq!(grants["mine"], [Capability::Records]);
    }

    #[test]
    fn unknown_plugin_kinds_and_capabilities_are_refused() {
        let err = toml::from_str::<Config>("[plugin_limits.workflow]\ntimeout_ms = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `workflow`"), "{err}");
        let err = toml::from_str::<Config>("[plugin_grants]\nx = [\"sockets\"]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown variant `sockets`"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<Config>("listn = \"0.0.0.0:1\"").unwrap_err();
        assert!(err.to_string().contains("unknown field `listn`"), "{err}");
    }

    #[test]
    fn bad_time_zone_is_named() {
        let config = Config {
            time_zone: "Mars/Olympus".into(),
            ..Config::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("Mars/Olympus"), "{err}");
    }
}
