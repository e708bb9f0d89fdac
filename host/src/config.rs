//! Server configuration: one struct, read from a TOML file, then the
//! environment, then command-line flags (flags win).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

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
    /// Per-call limits for validator plugins.
    pub plugin_limits: PluginLimits,
}

/// Limits applied to each validator call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginLimits {
    /// Linear memory a plugin instance may grow to, in bytes. Default 64 MiB.
    pub max_memory_bytes: usize,
    /// Wall-clock budget of one call, in milliseconds. Default 2,000.
    pub timeout_ms: u64,
    /// Plugin instances alive at once; callers wait when all are busy.
    /// Default 64.
    pub max_concurrent: usize,
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
            plugin_limits: PluginLimits::default(),
        }
    }
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            max_memory_bytes: 64 << 20,
            timeout_ms: 2_000,
            max_concurrent: 64,
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

    /// Checks values that serde cannot check alone.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.time_zone
            .parse::<chrono_tz::Tz>()
            .map(|_| ())
            .map_err(|_| ConfigError::TimeZone(self.time_zone.clone()))
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
        assert_eq!(config.plugin_limits.timeout_ms, 2_000);
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
