//! The plugin runtime on its own, in process: loading from the on-disk
//! cache against compiling cold, warm instantiate-and-validate latency,
//! calls per second, memory per live instance, and the latency of good
//! calls while hostile ones (loops and sleeps until their deadline) run
//! beside them.
//!
//! Run: `cargo bench -p tessera-tests --bench runtime` (after `scripts/test`
//! has built the plugins and the fixtures).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tessera::config::PluginLimits;
use tessera::runtime::{Grants, RecordsReader, Runtime, wit};
use tessera_tests::{copy_components, fixtures_dir, plugins_dir, temp_dir};

/// The allocator the server runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WARM_CALLS: usize = 20_000;
const THROUGHPUT_SECONDS: u64 = 3;
const LIVE_INSTANCES: usize = 64;

/// Records are not read by the plugins measured here.
struct NoRecords;

impl RecordsReader for NoRecords {
    fn exists(&self, _: &str, _: &str, _: &[String]) -> Result<Vec<bool>, String> {
        Err("no records in this benchmark".into())
    }
}

fn records() -> Arc<dyn RecordsReader> {
    Arc::new(NoRecords)
}

/// One row, one `core/number` field with bounds: the smallest real call.
fn number_batch(n: f64) -> wit::Batch {
    wit::Batch {
        fields: vec![wit::Field {
            key: "n".into(),
            config: r#"{"min": 0, "max": 100, "integer": true}"#.into(),
        }],
        rows: vec![vec![wit::Value::Number(n)]],
    }
}

fn hostile_batch(mode: &str) -> wit::Batch {
    wit::Batch {
        fields: vec![wit::Field {
            key: "mode".into(),
            config: "{}".into(),
        }],
        rows: vec![vec![wit::Value::Text(mode.into())]],
    }
}

fn grants() -> Grants {
    Grants::from([(
        "tessera_plugin_lookup".to_owned(),
        vec![tessera::runtime::Capability::Records],
    )])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let plugins = temp_dir("bench-runtime-plugins");
    copy_components(&plugins_dir(), &plugins);
    copy_components(&fixtures_dir(), &plugins);
    let components = std::fs::read_dir(&plugins)?.count();
    // `cargo bench --bench runtime -- warm` runs the warm latency alone,
    // for a profiler.
    let warm_only = std::env::args().any(|arg| arg == "warm");
    if std::env::args().any(|arg| arg == "load") {
        let cache = tessera_tests::root().join("target/plugin-cache");
        for _ in 0..20 {
            let started = Instant::now();
            Runtime::load(&plugins, Some(&cache), PluginLimits::default(), &grants()).await?;
            println!(
                "load from cache: {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        return Ok(());
    }

    if !warm_only {
        cache_against_cold(&plugins, components).await?;
    }

    let limits = PluginLimits {
        timeout_ms: 100,
        max_concurrent_per_plugin: LIVE_INSTANCES,
        max_concurrent: LIVE_INSTANCES + 16,
        ..PluginLimits::default()
    };
    let cache = tessera_tests::root().join("target/plugin-cache");
    let runtime = Arc::new(Runtime::load(&plugins, Some(&cache), limits, &grants()).await?);

    warm_latency(&runtime).await?;
    if !warm_only {
        throughput(&runtime).await?;
        memory_per_instance(&runtime).await?;
        hostile_neighbours(&runtime).await?;
    }

    let _ = std::fs::remove_dir_all(plugins);
    Ok(())
}

/// Loads the folder with an empty cache, then again from the filled one.
/// An empty folder gives the engine's own start-up, taken off both.
async fn cache_against_cold(plugins: &Path, components: usize) -> anyhow::Result<()> {
    let empty = temp_dir("bench-runtime-empty");
    let cache = temp_dir("bench-runtime-cold-cache");
    let load = |dir: PathBuf, cache: PathBuf| async move {
        let started = Instant::now();
        let runtime = Runtime::load(&dir, Some(&cache), PluginLimits::default(), &grants()).await;
        let elapsed = started.elapsed();
        (runtime.map(|r| r.plugins().len()), elapsed)
    };
    let (_, engine) = load(empty.clone(), cache.clone()).await;
    let (loaded, cold) = load(plugins.to_owned(), cache.clone()).await;
    let (_, warm) = load(plugins.to_owned(), cache.clone()).await;
    let loaded = loaded?;
    let per = |total: Duration| (total.saturating_sub(engine)).as_secs_f64() * 1e3 / loaded as f64;
    println!(
        "load {components} components ({loaded} validators): engine start {:.1} ms; \
         cold compile {:.0} ms ({:.1} ms per plugin); from cache {:.1} ms ({:.2} ms per plugin)",
        engine.as_secs_f64() * 1e3,
        cold.as_secs_f64() * 1e3,
        per(cold),
        warm.as_secs_f64() * 1e3,
        per(warm),
    );
    let _ = std::fs::remove_dir_all(empty);
    let _ = std::fs::remove_dir_all(cache);
    Ok(())
}

/// One call at a time: fresh store, instantiate, validate one value, check
/// the answer.
async fn warm_latency(runtime: &Runtime) -> anyhow::Result<()> {
    for _ in 0..1_000 {
        runtime
            .validate("core/number", number_batch(7.0), records())
            .await?;
    }
    let mut latencies = Vec::with_capacity(WARM_CALLS);
    for i in 0..WARM_CALLS {
        let batch = number_batch((i % 150) as f64);
        let started = Instant::now();
        let violations = runtime.validate("core/number", batch, records()).await?;
        latencies.push(started.elapsed());
        anyhow::ensure!(violations.len() == usize::from(i % 150 > 100));
    }
    print_latencies(
        "warm instantiate + validate (core/number, 1 value)",
        latencies,
    );
    Ok(())
}

/// As many calls as the cores allow, from 8 callers at once.
async fn throughput(runtime: &Arc<Runtime>) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(THROUGHPUT_SECONDS);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let runtime = runtime.clone();
        tasks.spawn(async move {
            let mut calls = 0u64;
            while Instant::now() < deadline {
                runtime
                    .validate("core/number", number_batch(42.0), records())
                    .await
                    .expect("a good call");
                calls += 1;
            }
            calls
        });
    }
    let mut calls = 0;
    while let Some(count) = tasks.join_next().await {
        calls += count?;
    }
    println!(
        "throughput: {:.0} validator calls/s on {} cores (8 callers)",
        calls as f64 / THROUGHPUT_SECONDS as f64,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}

/// Holds many instances alive at once (each sleeping in a host call until
/// its deadline) and reads the process's resident memory meanwhile.
async fn memory_per_instance(runtime: &Arc<Runtime>) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = resident_bytes();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..LIVE_INSTANCES {
        let runtime = runtime.clone();
        tasks.spawn(async move {
            let _ = runtime
                .validate("test/hostile", hostile_batch("sleep"), records())
                .await;
        });
    }
    tokio::time::sleep(Duration::from_millis(60)).await;
    let during = resident_bytes();
    while tasks.join_next().await.is_some() {}
    let per = during.saturating_sub(before) as f64 / LIVE_INSTANCES as f64;
    println!(
        "memory: {LIVE_INSTANCES} live instances add {:.1} MiB resident, {:.0} KiB each",
        during.saturating_sub(before) as f64 / (1 << 20) as f64,
        per / 1024.0
    );
    Ok(())
}

/// Good-call latency alone, then with hostile calls running beside them:
/// two callers keep loops going (each burns CPU until its 100 ms deadline)
/// and two keep sleeps going (each holds an instance until its deadline).
async fn hostile_neighbours(runtime: &Arc<Runtime>) -> anyhow::Result<()> {
    let alone = good_calls(runtime, 5_000).await?;
    print_latencies("good calls alone (2 callers)", alone);

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut hostile = tokio::task::JoinSet::new();
    for mode in ["loop", "loop", "sleep", "sleep"] {
        let runtime = runtime.clone();
        let stop = stop.clone();
        hostile.spawn(async move {
            let mut failed = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let outcome = runtime
                    .validate("test/hostile", hostile_batch(mode), records())
                    .await;
                failed += u64::from(outcome.is_err());
            }
            failed
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let beside = good_calls(runtime, 5_000).await?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut failed = 0;
    while let Some(count) = hostile.join_next().await {
        failed += count?;
    }
    print_latencies(
        &format!("good calls beside hostile ones ({failed} hostile calls failed meanwhile)"),
        beside,
    );
    Ok(())
}

async fn good_calls(runtime: &Arc<Runtime>, count: usize) -> anyhow::Result<Vec<Duration>> {
    let mut tasks = tokio::task::JoinSet::new();
    for caller in 0..2 {
        let runtime = runtime.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(count / 2);
            for i in 0..count / 2 {
                let n = ((i * 2 + caller) % 150) as f64;
                let started = Instant::now();
                let violations = runtime
                    .validate("core/number", number_batch(n), records())
                    .await
                    .expect("a good call answers");
                latencies.push(started.elapsed());
                assert_eq!(violations.len(), usize::from(n > 100.0));
                // A caller that paces itself, as requests arriving do.
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            latencies
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(latencies) = tasks.join_next().await {
        all.extend(latencies?);
    }
    Ok(all)
}

fn print_latencies(label: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{label}: {} calls, p50 {:.1} us, p99 {:.1} us, max {:.0} us",
        latencies.len(),
        us(at(0.50)),
        us(at(0.99)),
        us(at(1.0)),
    );
}

/// Resident memory of this process, in bytes (Linux).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .and_then(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}
