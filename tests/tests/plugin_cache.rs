//! The on-disk artifact cache with real plugins: a restart loads from the
//! cache, and an artifact that is not the one compiled from the component
//! being loaded (another plugin's, a truncated one) is compiled again and
//! replaced, never run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tessera::config::PluginLimits;
use tessera::runtime::{Grants, RecordsReader, Runtime, wit};
use tessera_tests::{plugins_dir, temp_dir};

struct NoRecords;

impl RecordsReader for NoRecords {
    fn exists(&self, _: &str, _: &str, _: &[String]) -> Result<Vec<bool>, String> {
        Err("no records here".into())
    }
}

/// A plugins folder holding one real plugin, and an empty cache folder.
fn folders(plugin: &str) -> (PathBuf, PathBuf) {
    let plugins = temp_dir(&format!("cache-{plugin}"));
    let file = format!("tessera_plugin_{plugin}.wasm");
    std::fs::copy(plugins_dir().join(&file), plugins.join(&file)).unwrap();
    (plugins, temp_dir(&format!("cache-{plugin}-artifacts")))
}

async fn load(plugins: &Path, cache: &Path) -> Runtime {
    let runtime = Runtime::load(
        plugins,
        Some(cache),
        PluginLimits::default(),
        &Grants::new(),
    )
    .await
    .expect("the folder loads");
    assert!(runtime.refused().is_empty(), "{:?}", runtime.refused());
    runtime
}

/// The single artifact in a cache folder (beside its header).
fn artifact(cache: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(cache)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "cwasm"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// `core/number` with `max: 100` must refuse 101 with its rule `max`.
async fn assert_number_plugin_works(runtime: &Runtime) {
    let plugins = runtime.plugins();
    assert_eq!(plugins.len(), 1);
    assert_eq!(plugins[0].block_type, "core/number");
    let batch = wit::Batch {
        fields: vec![wit::Field {
            key: "n".into(),
            config: r#"{"max": 100}"#.into(),
        }],
        rows: vec![
            vec![wit::Value::Number(101.0)],
            vec![wit::Value::Number(7.0)],
        ],
    };
    let violations = runtime
        .validate("core/number", batch, Arc::new(NoRecords))
        .await
        .unwrap();
    let found: Vec<(u32, &str)> = violations
        .iter()
        .map(|v| (v.row, v.rule.as_str()))
        .collect();
    assert_eq!(found, [(0, "max")]);
}

#[tokio::test]
async fn a_foreign_or_truncated_artifact_is_compiled_again_never_run() {
    let (number, number_cache) = folders("number");
    let (text, text_cache) = folders("text");
    load(&number, &number_cache).await;
    load(&text, &text_cache).await;
    let number_artifact = artifact(&number_cache);
    let text_artifact = artifact(&text_cache);
    let original = std::fs::read(&number_artifact).unwrap();

    // A restart with a whole artifact loads it as it is.
    assert_number_plugin_works(&load(&number, &number_cache).await).await;
    assert_eq!(std::fs::read(&number_artifact).unwrap(), original);

    // The text plugin's artifact under the number plugin's key.
    std::fs::copy(&text_artifact, &number_artifact).unwrap();
    assert_number_plugin_works(&load(&number, &number_cache).await).await;
    assert_eq!(std::fs::read(&number_artifact).unwrap(), original);

    // A truncated artifact.
    std::fs::write(&number_artifact, &original[..original.len() / 2]).unwrap();
    assert_number_plugin_works(&load(&number, &number_cache).await).await;
    assert_eq!(std::fs::read(&number_artifact).unwrap(), original);

    // An artifact without its header.
    std::fs::remove_file(number_artifact.with_extension("header")).unwrap();
    std::fs::copy(&text_artifact, &number_artifact).unwrap();
    assert_number_plugin_works(&load(&number, &number_cache).await).await;
    assert_eq!(std::fs::read(&number_artifact).unwrap(), original);

    for dir in [number, number_cache, text, text_cache] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
