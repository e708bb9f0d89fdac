//! The on-disk cache of compiled components.
//!
//! Compiling a component takes from a fraction of a second to seconds; loading
//! the compiled artifact takes about a millisecond. Artifacts are keyed by
//! the SHA-256 of the component and of the engine's compatibility hash, so a
//! new build of a plugin or of the server never reads an old artifact.
//!
//! A cached file starts with a header: a magic string, the SHA-256 of the
//! component it was compiled from and the SHA-256 of the artifact itself.
//! A file whose header does not match the component being loaded (a copy
//! of another plugin's artifact, a truncated or altered file) is never
//! handed to wasmtime: it is compiled again and replaced, as is an
//! artifact wasmtime refuses.

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
    let source: [u8; 32] = Sha256::digest(bytes).into();
    if let Ok(file) = std::fs::read(&path) {
        match checked_artifact(&file, &source) {
            // SAFETY: the artifact was written by `Component::serialize`
            // below, for this very component (its hash is in the header) and
            // unaltered since (its own hash is too), under a key that
            // includes the engine's compatibility hash; wasmtime still checks
            // its own header.
            Ok(artifact) => match unsafe { Component::deserialize(engine, artifact) } {
                Ok(component) => return Ok(component),
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "runtime.cache artifact refused");
                }
            },
            Err(reason) => {
                tracing::warn!(path = %path.display(), reason, "runtime.cache artifact refused");
            }
        }
    }

    let component = Component::new(engine, bytes)?;
    let artifact = component.serialize()?;
    if let Err(error) = store(&path, &with_header(&source, &artifact)) {
        tracing::warn!(path = %path.display(), %error, "runtime.cache cannot write artifact");
    }
    Ok(component)
}

const MAGIC: &[u8; 8] = b"tsrcwa01";
const HEADER_BYTES: usize = 8 + 32 + 32;

fn with_header(source: &[u8; 32], artifact: &[u8]) -> Vec<u8> {
    let mut file = Vec::with_capacity(HEADER_BYTES + artifact.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(source);
    file.extend_from_slice(&Sha256::digest(artifact));
    file.extend_from_slice(artifact);
    file
}

/// The artifact in `file`, if its header says it was compiled from `source`
/// and it is whole.
fn checked_artifact<'a>(file: &'a [u8], source: &[u8; 32]) -> Result<&'a [u8], &'static str> {
    if file.len() < HEADER_BYTES || &file[..8] != MAGIC {
        return Err("not a Tessera artifact");
    }
    if &file[8..40] != source {
        return Err("compiled from another component");
    }
    let artifact = &file[HEADER_BYTES..];
    if file[40..72] != Sha256::digest(artifact)[..] {
        return Err("altered or truncated");
    }
    Ok(artifact)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_artifact_of_the_same_component_passes_the_header() {
        let source: [u8; 32] = Sha256::digest(b"component").into();
        let other: [u8; 32] = Sha256::digest(b"another component").into();
        let file = with_header(&source, b"compiled code");
        assert_eq!(checked_artifact(&file, &source), Ok(&b"compiled code"[..]));
        assert!(checked_artifact(&file, &other).is_err());
        assert!(checked_artifact(&file[..file.len() - 1], &source).is_err());
        let mut altered = file.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(checked_artifact(&altered, &source).is_err());
        assert!(checked_artifact(b"compiled code", &source).is_err());
    }
}
