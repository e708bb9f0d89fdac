//! The on-disk cache of compiled components.
//!
//! Compiling a component takes from a fraction of a second to seconds; loading
//! the compiled artifact takes about a millisecond. Artifacts are keyed by
//! the SHA-256 of the component and of the engine's compatibility hash, so a
//! new build of a plugin or of the server never reads an old artifact. An
//! artifact wasmtime refuses to load is compiled again and replaced.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Compiles `bytes`, or loads the artifact cached in `dir` from an earlier
/// compile by a compatible engine.
pub fn compile(engine: &Engine, bytes: &[u8], dir: Option<&Path>) -> wasmtime::Result<Component> {
    let Some(dir) = dir else {
        return Component::new(engine, bytes);
    };
    let path = artifact_path(engine, bytes, dir);
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` below into
        // a folder only this server writes, under a key that includes the
        // engine's compatibility hash; wasmtime still checks its header.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "runtime.cache artifact refused");
            }
        }
    }

    let component = Component::new(engine, bytes)?;
    if let Err(error) = store(&path, &component.serialize()?) {
        tracing::warn!(path = %path.display(), %error, "runtime.cache cannot write artifact");
    }
    Ok(component)
}

fn artifact_path(engine: &Engine, bytes: &[u8], dir: &Path) -> PathBuf {
    let mut hasher = Sha256Hasher(Sha256::new());
    hasher.0.update(bytes);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{}.cwasm", hex::encode(hasher.0.finalize())))
}

/// Writes to a temporary name first, so a crash never leaves half a file
/// under the real name.
fn store(path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&temporary, artifact)?;
    std::fs::rename(&temporary, path)
}

/// Feeds `Hash` output into SHA-256.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        unreachable!("only the digest is read")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
