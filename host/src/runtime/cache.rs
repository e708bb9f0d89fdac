//! The on-disk cache of compiled components.
//!
//! Compiling a component takes from a fraction of a second to seconds; loading
//! the compiled artifact takes about a millisecond. Artifacts are keyed by
//! the SHA-256 of the component and of the engine's compatibility hash, so a
//! new build of a plugin or of the server never reads an old artifact.
//!
//! Beside each artifact (`<key>.cwasm`, mapped straight from disk) lies its
//! header (`<key>.header`): a magic string, the SHA-256 of the component it
//! was compiled from and the artifact's length. An artifact whose header is
//! missing or does not match the component being loaded (a copy of another
//! plugin's artifact, a truncated or extended file) is never handed to
//! wasmtime: it is compiled again and replaced, as is an artifact wasmtime
//! refuses. The artifact's own bytes are not hashed (that would cost more
//! than the rest of the load): the cache folder, like the plugins folder and
//! the binary, must be writable by the server's user only.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Compiles `bytes`, or loads the artifact cached in `dir` from an earlier
/// compile by a compatible engine.
/// `source` is the SHA-256 of `bytes`.
pub fn compile(
    engine: &Engine,
    bytes: &[u8],
    source: &[u8; 32],
    dir: Option<&Path>,
) -> wasmtime::Result<Component> {
    let Some(dir) = dir else {
        return Component::new(engine, bytes);
    };
    let path = artifact_path(engine, source, dir);
    let header_path = path.with_extension("header");
    if let (Ok(header), Ok(metadata)) = (std::fs::read(&header_path), std::fs::metadata(&path)) {
        match check_header(&header, source, metadata.len()) {
            // SAFETY: the artifact was written by `Component::serialize`
            // below, for this very component (its hash is in the header),
            // whole (its length is too), under a key that includes the
            // engine's compatibility hash, in a folder only the server
            // writes; wasmtime still checks its own header.
            Ok(()) => match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok(component),
                Err(error) => {
                    let path = path.display();
                    tracing::warn!(%path, %error, "runtime.cache artifact refused");
                }
            },
            Err(reason) => {
                tracing::warn!(path = %path.display(), reason, "runtime.cache artifact refused");
            }
        }
    }

    let component = Component::new(engine, bytes)?;
    let artifact = component.serialize()?;
    // The header goes last: an artifact without one is never loaded.
    let written = std::fs::remove_file(&header_path)
        .or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        })
        .and_then(|()| store(&path, &artifact))
        .and_then(|()| store(&header_path, &header(source, artifact.len())));
    if let Err(error) = written {
        tracing::warn!(path = %path.display(), %error, "runtime.cache cannot write artifact");
    }
    Ok(component)
}

const MAGIC: &[u8; 8] = b"tsrcwa01";
const HEADER_BYTES: usize = 8 + 32 + 8;

fn header(source: &[u8; 32], artifact_len: usize) -> Vec<u8> {
    let mut header = Vec::with_capacity(HEADER_BYTES);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(source);
    header.extend_from_slice(&(artifact_len as u64).to_le_bytes());
    header
}

/// Whether `header` says its artifact was compiled from `source` and is
/// `artifact_len` bytes long.
fn check_header(header: &[u8], source: &[u8; 32], artifact_len: u64) -> Result<(), &'static str> {
    if header.len() != HEADER_BYTES || &header[..8] != MAGIC {
        return Err("not a Tessera artifact header");
    }
    if &header[8..40] != source {
        return Err("compiled from another component");
    }
    if header[40..48] != artifact_len.to_le_bytes() {
        return Err("truncated or extended");
    }
    Ok(())
}

fn artifact_path(engine: &Engine, source: &[u8; 32], dir: &Path) -> PathBuf {
    let mut hasher = Sha256Hasher(Sha256::new());
    hasher.0.update(source);
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
        // (A changed byte inside the artifact is left to wasmtime's checks.)
        let source: [u8; 32] = Sha256::digest(b"component").into();
        let other: [u8; 32] = Sha256::digest(b"another component").into();
        let written = header(&source, 1000);
        assert_eq!(check_header(&written, &source, 1000), Ok(()));
        assert!(check_header(&written, &other, 1000).is_err());
        assert!(check_header(&written, &source, 999).is_err());
        assert!(check_header(&written, &source, 1001).is_err());
        assert!(check_header(&written[..HEADER_BYTES - 1], &source, 1000).is_err());
        assert!(check_header(b"compiled code", &source, 1000).is_err());
    }
}
