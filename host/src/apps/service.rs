//! Creating, drafting, publishing and reading apps.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::Utc;
use serde_json::Value as Json;
use sled::Transactional;

use super::model::*;
use crate::field_error::FieldError;
use crate::runtime::{PluginError, RecordsReader, Runtime};
use crate::storage::{self, StorageError, Store};
use crate::values::ValueKind;

/// Why an app operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("app {0:?} does not exist")]
    NotFound(String),
    #[error("app {app:?} has no version {version}")]
    VersionNotFound { app: String, version: u32 },
    #[error("app {0:?} already exists; choose another id")]
    AlreadyExists(String),
    #[error("app {0:?} has no live version yet; publish a draft first")]
    NotPublished(String),
    #[error("app {0:?} has no draft to publish; save a draft first")]
    NoDraft(String),
    #[error("the app definition is not valid")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sled::Error> for AppError {
    fn from(error: sled::Error) -> AppError {
        AppError::Storage(error.into())
    }
}

/// App definitions, with the live versions cached for the submission path.
pub struct Apps {
    store: Store,
    runtime: Arc<Runtime>,
    live: RwLock<HashMap<String, Arc<AppVersion>>>,
}

impl Apps {
    /// Apps kept in `store`, checked with `runtime`'s plugins.
    pub fn new(store: Store, runtime: Arc<Runtime>) -> Apps {
        Apps {
            store,
            runtime,
            live: RwLock::new(HashMap::new()),
        }
    }

    /// Creates an app and its first draft; publishes it when asked.
    pub async fn create(
        &self,
        org: &str,
        input: NewApp,
        records: Arc<dyn RecordsReader>,
    ) -> Result<App, AppError> {
        let id = match input.id {
            Some(id) => check_slug(&id)?,
            // A slug starts with a letter; a ULID may start with a digit.
            None => format!("app-{}", ulid::Ulid::new().to_string().to_lowercase()),
        };
        let draft = DraftInput {
            name: input.name,
            blocks: input.blocks,
        };
        let blocks = self.check_draft(&draft, records).await?;

        let now = Utc::now();
        let app = App {
            id: id.clone(),
            name: draft.name.clone(),
            live_version: None,
            draft_version: Some(1),
            latest_version: 1,
            created_at: now,
            updated_at: now,
        };
        let key = storage::key(&[org, &id]);
        let created = self.store.apps.compare_and_swap(
            &key,
            None as Option<&[u8]>,
            Some(storage::encode(&app)),
        )?;
        if created.is_err() {
            return Err(AppError::AlreadyExists(id));
        }
        self.put_version(org, &app, 1, draft.name, blocks)?;
        if input.publish {
            return self.publish(org, &id).await;
        }
        self.store.durability.wait().await?;
        Ok(app)
    }

    /// Replaces the draft (starting one if the latest version is published).
    pub async fn save_draft(
        &self,
        org: &str,
        id: &str,
        draft: DraftInput,
        records: Arc<dyn RecordsReader>,
    ) -> Result<AppVersion, AppError> {
        let blocks = self.check_draft(&draft, records).await?;
        let mut app = self.get(org, id)?;
        if app.live_version.is_some() {
            keep_kinds(&*self.live(org, id)?, &blocks)?;
        }
        let version = app.draft_version.unwrap_or(app.latest_version + 1);
        app.draft_version = Some(version);
        app.latest_version = app.latest_version.max(version);
        app.updated_at = Utc::now();
        self.store
            .apps
            .insert(storage::key(&[org, id]), storage::encode(&app))?;
        let saved = self.put_version(org, &app, version, draft.name, blocks)?;
        self.store.durability.wait().await?;
        Ok(saved)
    }

    /// Makes the draft the live version.
    pub async fn publish(&self, org: &str, id: &str) -> Result<App, AppError> {
        let mut app = self.get(org, id)?;
        let version = app
            .draft_version
            .ok_or_else(|| AppError::NoDraft(id.into()))?;
        let mut frozen = self.version(org, id, version)?;
        // The draft was checked when saved; its plugins may have gone since.
        let unserved: Vec<FieldError> = frozen
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, block)| !self.runtime.provides(&block.block_type))
            .map(|(index, block)| unknown_type(index, &block.block_type))
            .collect();
        if !unserved.is_empty() {
            return Err(AppError::Invalid(unserved));
        }
        frozen.state = VersionState::Published;
        frozen.published_at = Some(Utc::now());
        app.live_version = Some(version);
        app.draft_version = None;
        app.name = frozen.name.clone();
        app.updated_at = Utc::now();

        let version_key = version_key(org, id, version);
        let app_key = storage::key(&[org, id]);
        (&self.store.apps, &self.store.versions)
            .transaction(|(apps, versions)| {
                versions.insert(version_key.as_bytes(), storage::encode(&frozen))?;
                apps.insert(app_key.as_bytes(), storage::encode(&app))?;
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| match e {
                sled::transaction::TransactionError::Abort(()) => unreachable!("never aborted"),
                sled::transaction::TransactionError::Storage(e) => AppError::from(e),
            })?;
        self.store.durability.wait().await?;

        let cache_key = storage::key(&[org, id]);
        self.live
            .write()
            .expect("lock")
            .insert(cache_key, Arc::new(frozen));
        tracing::info!(org, app = id, version, "apps.publish");
        Ok(app)
    }

    /// One app.
    pub fn get(&self, org: &str, id: &str) -> Result<App, AppError> {
        storage::get(&self.store.apps, &storage::key(&[org, id]))?
            .ok_or_else(|| AppError::NotFound(id.into()))
    }

    /// Every app of an org, by id.
    pub fn list(&self, org: &str) -> Result<Vec<App>, AppError> {
        let prefix = format!("{org}/");
        let mut apps = Vec::new();
        for entry in self.store.apps.scan_prefix(&prefix) {
            let (key, bytes) = entry?;
            apps.push(storage::decode(&key, &bytes)?);
        }
        Ok(apps)
    }

    /// Every block of a live app, in any org, whose block type no loaded
    /// plugin provides, as `(org, app, block key, block type)`: submissions
    /// to such an app fail until the plugin is back.
    pub fn unserved_blocks(&self) -> Result<Vec<(String, String, String, String)>, AppError> {
        let mut unserved = Vec::new();
        for entry in self.store.apps.iter() {
            let (key, bytes) = entry?;
            let app: App = storage::decode(&key, &bytes)?;
            let Some(live) = app.live_version else {
                continue;
            };
            let key = String::from_utf8_lossy(&key);
            let org = key.split('/').next().unwrap_or_default();
            for block in self.version(org, &app.id, live)?.blocks {
                if !self.runtime.provides(&block.block_type) {
                    let app = app.id.clone();
                    unserved.push((org.to_owned(), app, block.key, block.block_type));
                }
            }
        }
        Ok(unserved)
    }

    /// One version of an app.
    pub fn version(&self, org: &str, id: &str, version: u32) -> Result<AppVersion, AppError> {
        storage::get(&self.store.versions, &version_key(org, id, version))?.ok_or_else(|| {
            AppError::VersionNotFound {
                app: id.into(),
                version,
            }
        })
    }

    /// The live version, from the cache when possible.
    pub fn live(&self, org: &str, id: &str) -> Result<Arc<AppVersion>, AppError> {
        let cache_key = storage::key(&[org, id]);
        if let Some(found) = self.live.read().expect("lock").get(&cache_key) {
            return Ok(found.clone());
        }
        let app = self.get(org, id)?;
        let version = app
            .live_version
            .ok_or_else(|| AppError::NotPublished(id.into()))?;
        let live = Arc::new(self.version(org, id, version)?);
        self.live
            .write()
            .expect("lock")
            .insert(cache_key, live.clone());
        Ok(live)
    }

    fn put_version(
        &self,
        org: &str,
        app: &App,
        version: u32,
        name: String,
        blocks: Vec<Block>,
    ) -> Result<AppVersion, AppError> {
        let record = AppVersion {
            app: app.id.clone(),
            version,
            name,
            state: VersionState::Draft,
            blocks,
            created_at: Utc::now(),
            published_at: None,
        };
        let key = version_key(org, &app.id, version);
        self.store.versions.insert(key, storage::encode(&record))?;
        Ok(record)
    }

    async fn check_draft(
        &self,
        draft: &DraftInput,
        records: Arc<dyn RecordsReader>,
    ) -> Result<Vec<Block>, AppError> {
        let mut errors = Vec::new();
        if draft.name.trim().is_empty() {
            errors.push(FieldError::new("name", "required", "must not be blank"));
        }
        let mut blocks = Vec::new();
        for (index, input) in draft.blocks.iter().enumerate() {
            match self
                .check_block(index, input, &draft.blocks, records.clone())
                .await
            {
                Ok(block) => blocks.push(block),
                Err(Rejected::Field(error)) => errors.push(error),
                Err(Rejected::Plugin(error)) => return Err(AppError::Plugin(error)),
            }
        }
        if errors.is_empty() {
            Ok(blocks)
        } else {
            Err(AppError::Invalid(errors))
        }
    }

    async fn check_block(
        &self,
        index: usize,
        input: &BlockInput,
        all: &[BlockInput],
        records: Arc<dyn RecordsReader>,
    ) -> Result<Block, Rejected> {
        let at = |part: &str| format!("blocks[{index}].{part}");
        check_block_key(&input.key)
            .map_err(|message| FieldError::new(at("key"), "key", message))?;
        if all.iter().take(index).any(|other| other.key == input.key) {
            let message = format!("{:?} is used by an earlier block", input.key);
            return Err(FieldError::new(at("key"), "duplicate", message).into());
        }

        let config = input
            .config
            .clone()
            .unwrap_or_else(|| Json::Object(Default::default()));
        if !config.is_object() {
            return Err(FieldError::new(at("config"), "type", "must be a JSON object").into());
        }
        let checked = self
            .runtime
            .check_config(&input.block_type, &config.to_string(), records)
            .await;
        let kind: ValueKind = match checked {
            Ok(Ok(kind)) => kind.into(),
            Ok(Err(message)) => {
                return Err(FieldError::new(at("config"), "config", message).into());
            }
            Err(PluginError::UnknownBlockType(name)) => {
                return Err(unknown_type(index, &name).into());
            }
            // The plugin failed, not the admin: the whole save fails as a
            // validator failure rather than a mistake in the draft.
            Err(other) => return Err(Rejected::Plugin(other)),
        };
        if input.unique && !matches!(kind, ValueKind::Text | ValueKind::Number) {
            let message = "only text and number blocks can be unique";
            return Err(FieldError::new(at("unique"), "unique", message).into());
        }
        Ok(Block {
            key: input.key.clone(),
            block_type: input.block_type.clone(),
            label: input.label.clone().unwrap_or_else(|| input.key.clone()),
            required: input.required,
            unique: input.unique,
            config,
            kind,
        })
    }
}

/// Block `index` names a block type that no loaded plugin provides.
fn unknown_type(index: usize, block_type: &str) -> FieldError {
    let message = format!("no loaded plugin provides block type {block_type:?}");
    FieldError::new(format!("blocks[{index}].type"), "unknown-type", message)
}

/// Why a block of a draft was not accepted.
enum Rejected {
    /// The admin's mistake, reported with the other broken rules.
    Field(FieldError),
    /// The block's plugin failed while checking its config.
    Plugin(PluginError),
}

impl From<FieldError> for Rejected {
    fn from(error: FieldError) -> Rejected {
        Rejected::Field(error)
    }
}

/// A block keeps the kind of value it holds across versions: stored
/// submissions, filters and analytics read its values by that kind.
fn keep_kinds(live: &AppVersion, blocks: &[Block]) -> Result<(), AppError> {
    let errors: Vec<FieldError> = blocks
        .iter()
        .enumerate()
        .filter_map(|(index, block)| {
            let before = live.block(&block.key)?;
            (before.kind != block.kind).then(|| {
                let message = format!(
                    "{:?} holds {:?} values in the live version and cannot change to {:?}; \
                     add a block with a new key instead",
                    block.key, before.kind, block.kind
                );
                FieldError::new(format!("blocks[{index}].type"), "kind-change", message)
            })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

fn version_key(org: &str, app: &str, version: u32) -> String {
    format!("{org}/{app}/{version:010}")
}

fn check_slug(id: &str) -> Result<String, AppError> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(id.to_string())
    } else {
        let message = "must be 1-64 characters of a-z, 0-9 and '-', starting with a letter";
        Err(AppError::Invalid(vec![FieldError::new(
            "id", "slug", message,
        )]))
    }
}

fn check_block_key(key: &str) -> Result<(), &'static str> {
    let valid = !key.is_empty()
        && key.len() <= 64
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(())
    } else {
        Err("must be 1-64 characters of a-z, 0-9 and '_', starting with a letter")
    }
}
