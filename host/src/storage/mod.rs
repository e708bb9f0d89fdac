//! Embedded storage on sled.
//!
//! Every key of org data starts with the org id, so one org can never read
//! another's records by a key mistake. Trees, one per kind of record:
//!
//! | tree      | key                         | value                  |
//! |-----------|-----------------------------|------------------------|
//! | orgs      | org                         | [`crate::auth::Org`]   |
//! | tokens    | sha256(token) hex           | [`crate::auth::Token`] |
//! | apps      | org/app                     | [`crate::apps::App`]   |
//! | versions  | org/app/version (10 digits) | [`crate::apps::AppVersion`] |
//! | subs      | org/app/submission          | [`crate::submissions::Submission`] |
//! | history   | org/app/submission/revision | an earlier revision    |
//! | deleted   | org/app/submission          | when it was deleted    |
//! | unique    | org/app/block/value         | submission id          |
//! | outbox    | sequence (u64, big-endian)  | [`OutboxEvent`]        |
//! | meta      | name                        | server bookkeeping     |
//!
//! Writes that must be atomic (a submission and its outbox event) go through
//! one sled transaction; the caller then waits on [`Durability`] so nothing
//! is acknowledged before it is on disk.

mod durability;
mod signal;

use std::path::Path;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sled::transaction::TransactionalTree;

pub use durability::Durability;
pub use signal::ChangeSignal;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("storage failed: {0}")]
    Sled(#[from] sled::Error),
    #[error("stored record under {key} cannot be decoded: {source}")]
    Decode {
        key: String,
        source: serde_json::Error,
    },
    #[error("storage flush task stopped")]
    FlushStopped,
}

/// Handles to the sled database and its trees.
#[derive(Clone)]
pub struct Store {
    pub db: sled::Db,
    pub orgs: sled::Tree,
    pub tokens: sled::Tree,
    pub apps: sled::Tree,
    pub versions: sled::Tree,
    pub subs: sled::Tree,
    pub history: sled::Tree,
    pub deleted: sled::Tree,
    pub unique: sled::Tree,
    pub outbox: sled::Tree,
    pub meta: sled::Tree,
    pub durability: Durability,
}

/// A change the indexer (and later the workflow dispatcher) must see.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutboxEvent {
    pub org: String,
    pub app: String,
    pub submission: String,
    pub kind: EventKind,
}

/// What happened to a submission.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Updated,
    Deleted,
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StorageError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(256 << 20)
            .open()?;
        let tree = |name: &str| db.open_tree(name);
        Ok(Store {
            orgs: tree("orgs")?,
            tokens: tree("tokens")?,
            apps: tree("apps")?,
            versions: tree("versions")?,
            subs: tree("subs")?,
            history: tree("history")?,
            deleted: tree("deleted")?,
            unique: tree("unique")?,
            outbox: tree("outbox")?,
            meta: tree("meta")?,
            durability: Durability::start(db.clone()),
            db,
        })
    }
}

/// The key of a new outbox entry: a sequence number, unique and increasing,
/// from 1 so that a consumer's cursor of 0 means none read yet. Take it
/// inside the write's transaction: sled runs transactions one at a time, so
/// entries commit in the order of their numbers and a consumer past number
/// n has missed none below it.
pub fn next_sequence(outbox: &TransactionalTree) -> sled::Result<[u8; 8]> {
    Ok((outbox.generate_id()? + 1).to_be_bytes())
}

/// Encodes a record for storage.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records are plain data and always serialise")
}

/// Decodes a stored record, naming the key if it is corrupt.
pub fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StorageError> {
    serde_json::from_slice(bytes).map_err(|source| StorageError::Decode {
        key: String::from_utf8_lossy(key).into_owned(),
        source,
    })
}

/// Reads and decodes one record.
pub fn get<T: DeserializeOwned>(tree: &sled::Tree, key: &str) -> Result<Option<T>, StorageError> {
    match tree.get(key)? {
        Some(bytes) => decode(key.as_bytes(), &bytes).map(Some),
        None => Ok(None),
    }
}

/// Joins key parts with `/`. Parts are ids and slugs that never hold `/`.
pub fn key(parts: &[&str]) -> String {
    parts.join("/")
}
