//! The index and the task that keeps it in step with the store.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono_tz::Tz;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

use super::document::document;
use super::schema::IndexFields;
use crate::apps::{AppError, AppVersion, Apps};
use crate::auth::Org;
use crate::field_error::FieldError;
use crate::storage::{self, ChangeSignal, EventKind, OutboxEvent, StorageError, Store};
use crate::submissions::Submission;

/// Documents indexed between two commits at most.
const MAX_UNCOMMITTED: usize = 100_000;
/// Outbox entries read per pass.
const EVENTS_PER_PASS: usize = 10_000;
/// Memory budget of the index writer.
const WRITER_MEMORY: usize = 128 << 20;

/// Why an analytics operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("search index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("cannot prepare index folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the aggregation request is not valid")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sled::Error> for AnalyticsError {
    fn from(error: sled::Error) -> AnalyticsError {
        AnalyticsError::Storage(error.into())
    }
}

/// The index of every org's submissions.
pub struct Analytics {
    pub(super) fields: IndexFields,
    pub(super) index: Index,
    pub(super) reader: IndexReader,
    pub(super) store: Store,
    pub(super) apps: Arc<Apps>,
}

impl Analytics {
    /// Opens the index in `dir`, rebuilding it from the store when it is
    /// missing or cannot be read.
    pub fn open(dir: &Path, store: Store, apps: Arc<Apps>) -> Result<Analytics, AnalyticsError> {
        let fields = IndexFields::new();
        let index = match Index::open_in_dir(dir) {
            Ok(index) if index.schema() == fields.schema => index,
            Ok(_) | Err(_) => {
                tracing::info!(dir = %dir.display(), "analytics.open rebuilding the index");
                return Analytics::rebuild(dir, store, apps);
            }
        };
        Analytics::with_index(index, fields, store, apps)
    }

    /// Deletes the index in `dir` and builds it again from every stored
    /// submission. Call it with no server writing to the store.
    pub fn rebuild(dir: &Path, store: Store, apps: Arc<Apps>) -> Result<Analytics, AnalyticsError> {
        let folder_error = |source| AnalyticsError::Folder {
            path: dir.to_owned(),
            source,
        };
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(folder_error)?;
        }
        std::fs::create_dir_all(dir).map_err(folder_error)?;
        let fields = IndexFields::new();
        let index = Index::create_in_dir(dir, fields.schema.clone())?;
        let analytics = Analytics::with_index(index, fields, store, apps)?;

        let cursor = analytics
            .store
            .outbox
            .last()?
            .map_or(0, |(key, _)| sequence(&key));
        let mut writer = analytics.writer()?;
        let mut lookups = Lookups::default();
        let mut count = 0u64;
        for entry in analytics.store.subs.iter() {
            let (key, bytes) = entry?;
            let submission: Submission = storage::decode(&key, &bytes)?;
            let org = String::from_utf8_lossy(&key)
                .split('/')
                .next()
                .unwrap_or("")
                .to_string();
            analytics.add(&mut writer, &mut lookups, &org, &submission)?;
            count += 1;
        }
        analytics.commit(&mut writer, cursor)?;
        tracing::info!(documents = count, "analytics.rebuild done");
        Ok(analytics)
    }

    fn with_index(
        index: Index,
        fields: IndexFields,
        store: Store,
        apps: Arc<Apps>,
    ) -> Result<Analytics, AnalyticsError> {
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Analytics {
            fields,
            index,
            reader,
            store,
            apps,
        })
    }

    /// Starts the thread that tails the outbox into the index. It wakes when
    /// `changed` is notified, and commits at least every `commit_every`.
    pub fn start_indexer(self: &Arc<Self>, changed: Arc<ChangeSignal>, commit_every: Duration) {
        let analytics = self.clone();
        std::thread::Builder::new()
            .name("tessera-indexer".into())
            .spawn(move || {
                if let Err(error) = analytics.tail(&changed, commit_every) {
                    tracing::error!(%error, "analytics.indexer stopped");
                }
            })
            .expect("the indexer thread starts");
    }

    fn tail(&self, changed: &ChangeSignal, commit_every: Duration) -> Result<(), AnalyticsError> {
        let mut writer = self.writer()?;
        let mut lookups = Lookups::default();
        let mut cursor = self.committed_cursor()?;
        let mut applied = cursor;
        let mut uncommitted = 0usize;
        let mut first_pending: Option<Instant> = None;
        loop {
            let (last, count) = self.apply_events(&mut writer, &mut lookups, applied)?;
            if count > 0 {
                applied = last;
                uncommitted += count;
                first_pending.get_or_insert_with(Instant::now);
            }
            let due = first_pending.is_some_and(|t| t.elapsed() >= commit_every);
            if applied != cursor && (due || uncommitted >= MAX_UNCOMMITTED) {
                self.commit(&mut writer, applied)?;
                self.prune_outbox(applied)?;
                cursor = applied;
                uncommitted = 0;
                first_pending = None;
            }
            if count < EVENTS_PER_PASS {
                let wait = if first_pending.is_some() {
                    commit_every / 4
                } else {
                    commit_every
                };
                changed.wait(wait);
            }
        }
    }

    /// Applies outbox events after `after`; returns the last one applied
    /// and how many there were.
    fn apply_events(
        &self,
        writer: &mut IndexWriter,
        lookups: &mut Lookups,
        after: u64,
    ) -> Result<(u64, usize), AnalyticsError> {
        let start = (after + 1).to_be_bytes();
        let mut last = after;
        let mut count = 0;
        for entry in self.store.outbox.range(start..).take(EVENTS_PER_PASS) {
            let (key, bytes) = entry?;
            let event: OutboxEvent = storage::decode(&key, &bytes)?;
            self.apply(writer, lookups, &event)?;
            last = sequence(&key);
            count += 1;
        }
        Ok((last, count))
    }

    fn apply(
        &self,
        writer: &mut IndexWriter,
        lookups: &mut Lookups,
        event: &OutboxEvent,
    ) -> Result<(), AnalyticsError> {
        let key = storage::key(&[&event.org, &event.app, &event.submission]);
        if event.kind != EventKind::Created {
            writer.delete_term(Term::from_field_text(self.fields.key, &key));
        }
        if event.kind == EventKind::Deleted {
            return Ok(());
        }
        // The store holds the newest state; a later event may replace it.
        // Each commit records the last event it holds, so a created event is
        // never applied twice and needs no delete.
        if let Some(submission) = storage::get::<Submission>(&self.store.subs, &key)? {
            self.add(writer, lookups, &event.org, &submission)?;
        }
        Ok(())
    }

    fn add(
        &self,
        writer: &mut IndexWriter,
        lookups: &mut Lookups,
        org: &str,
        submission: &Submission,
    ) -> Result<(), AnalyticsError> {
        let version = lookups.version(&self.apps, org, &submission.app, submission.version)?;
        let tz = lookups.time_zone(&self.store, org)?;
        writer.add_document(document(&self.fields, org, submission, &version, tz))?;
        Ok(())
    }

    fn writer(&self) -> Result<IndexWriter, AnalyticsError> {
        Ok(self.index.writer_with_num_threads(1, WRITER_MEMORY)?)
    }

    /// Commits with the outbox position as payload, then shows the commit
    /// to searchers.
    fn commit(&self, writer: &mut IndexWriter, cursor: u64) -> Result<(), AnalyticsError> {
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&cursor.to_string());
        prepared.commit()?;
        self.reader.reload()?;
        tracing::debug!(cursor, "analytics.commit");
        Ok(())
    }

    fn committed_cursor(&self) -> Result<u64, AnalyticsError> {
        let metas = self.index.load_metas()?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }

    /// Drops outbox entries the index has committed. The indexer is the
    /// outbox's only reader today; a second one (the workflow dispatcher)
    /// will need pruning below the slowest reader's cursor instead.
    fn prune_outbox(&self, cursor: u64) -> Result<(), AnalyticsError> {
        let mut batch = sled::Batch::default();
        for key in self.store.outbox.range(..=cursor.to_be_bytes()).keys() {
            batch.remove(key?);
        }
        self.store.outbox.apply_batch(batch)?;
        Ok(())
    }
}

fn sequence(key: &[u8]) -> u64 {
    u64::from_be_bytes(key.try_into().unwrap_or([0; 8]))
}

/// App versions and org time zones the indexer has read, kept for reuse.
#[derive(Default)]
struct Lookups {
    versions: HashMap<(String, String, u32), Arc<AppVersion>>,
    zones: HashMap<String, Tz>,
}

impl Lookups {
    fn version(
        &mut self,
        apps: &Apps,
        org: &str,
        app: &str,
        version: u32,
    ) -> Result<Arc<AppVersion>, AnalyticsError> {
        let key = (org.to_string(), app.to_string(), version);
        if let Some(found) = self.versions.get(&key) {
            return Ok(found.clone());
        }
        let found = Arc::new(apps.version(org, app, version)?);
        self.versions.insert(key, found.clone());
        Ok(found)
    }

    fn time_zone(&mut self, store: &Store, org: &str) -> Result<Tz, AnalyticsError> {
        if let Some(tz) = self.zones.get(org) {
            return Ok(*tz);
        }
        let record: Option<Org> = storage::get(&store.orgs, org)?;
        let tz = record
            .and_then(|o| o.time_zone.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        self.zones.insert(org.to_string(), tz);
        Ok(tz)
    }
}
