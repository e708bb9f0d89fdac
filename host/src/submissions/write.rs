//! The submission path: create (single and batch), edit, delete.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::model::*;
use super::unique::{OrgRecords, unique_key};
use crate::apps::{AppVersion, Apps};
use crate::auth::Caller;
use crate::field_error::FieldError;
use crate::runtime::{Runtime, wit};
use crate::storage::{self, ChangeSignal, EventKind, OutboxEvent, Store};
use crate::values;

/// Writes submissions.
pub struct Submissions {
    pub(super) store: Store,
    pub(super) apps: Arc<Apps>,
    runtime: Arc<Runtime>,
    max_batch_rows: usize,
    changed: Arc<ChangeSignal>,
}

/// A row that parsed and is on its way to the plugins and the store.
struct Pending {
    index: usize,
    id: String,
    /// The client chose the id, so it may be a retry of a stored row.
    client_chosen: bool,
    /// Values that did not parse; the row is refused after the plugins ran.
    errors: Vec<FieldError>,
    typed: Vec<wit::Value>,
    values: Map<String, Json>,
    hash: String,
}

/// What the write transaction decided for one row.
enum Decision {
    Written(Submission),
    AlreadyStored(Submission),
    UniqueTaken(FieldError),
}

impl Submissions {
    /// `changed` is notified after every durable write, for the indexer.
    pub fn new(
        store: Store,
        apps: Arc<Apps>,
        runtime: Arc<Runtime>,
        max_batch_rows: usize,
        changed: Arc<ChangeSignal>,
    ) -> Submissions {
        Submissions {
            store,
            apps,
            runtime,
            max_batch_rows,
            changed,
        }
    }

    /// Creates one submission.
    pub async fn create(
        &self,
        caller: &Caller,
        app: &str,
        row: NewSubmission,
    ) -> Result<RowOutcome, SubmissionError> {
        let mut outcomes = self.create_batch(caller, app, vec![row]).await?;
        Ok(outcomes.remove(0))
    }

    /// Creates many submissions: each plugin is called once for the whole
    /// batch and every accepted row is written in one transaction. Rows are
    /// answered one by one; a bad row does not stop the others.
    pub async fn create_batch(
        &self,
        caller: &Caller,
        app: &str,
        rows: Vec<NewSubmission>,
    ) -> Result<Vec<RowOutcome>, SubmissionError> {
        if rows.len() > self.max_batch_rows {
            return Err(SubmissionError::BatchTooLarge {
                limit: self.max_batch_rows,
                got: rows.len(),
            });
        }
        let org = caller.org.id.as_str();
        let live = self.apps.live(org, app)?;
        let mut outcomes: Vec<Option<RowOutcome>> = vec![None; rows.len()];

        let mut pending: Vec<Pending> = rows
            .into_iter()
            .enumerate()
            .map(|(index, row)| prepare(&live, index, row, caller))
            .collect();
        self.answer_retries(org, app, &mut pending, &mut outcomes)?;

        // Rows with malformed values still go to the plugins (their bad
        // values as blanks), so a person learns every broken rule at once.
        let violations = self.run_plugins(caller, &live, &pending).await?;
        let accepted: Vec<Pending> = pending
            .into_iter()
            .zip(violations)
            .filter_map(|(mut row, violations)| {
                row.errors.extend(violations);
                if row.errors.is_empty() {
                    return Some(row);
                }
                let errors = in_block_order(&live, std::mem::take(&mut row.errors));
                outcomes[row.index] = Some(RowOutcome::Rejected { errors });
                None
            })
            .collect();

        self.write_new(caller, &live, accepted, &mut outcomes)?;
        self.store.durability.wait().await?;
        self.changed.notify();
        Ok(outcomes
            .into_iter()
            .map(|o| o.expect("every row answered"))
            .collect())
    }

    /// Changes some values of a submission, keeping the old revision.
    pub async fn edit(
        &self,
        caller: &Caller,
        app: &str,
        id: &str,
        patch: ValuesPatch,
    ) -> Result<Submission, SubmissionError> {
        let org = caller.org.id.as_str();
        let live = self.apps.live(org, app)?;
        let old = self.get(org, app, id)?;
        // Values of blocks the live version dropped go; the patch decides
        // the rest, `null` clearing a block.
        let mut values = old.values.clone();
        values.retain(|key, _| live.block(key).is_some());
        for (key, value) in patch.values {
            if value.is_null() {
                values.remove(&key);
            } else {
                values.insert(key, value);
            }
        }
        let row = NewSubmission {
            id: Some(id.to_string()),
            values,
        };
        let mut pending = prepare(&live, 0, row, caller);
        let mut violations = self
            .run_plugins(caller, &live, std::slice::from_ref(&pending))
            .await?;
        pending.errors.append(&mut violations[0]);
        if !pending.errors.is_empty() {
            let errors = in_block_order(&live, pending.errors);
            return Err(SubmissionError::Invalid(errors));
        }
        // Nothing changed: no new revision.
        if pending.values == old.values && live.version == old.version {
            return Ok(old);
        }

        let updated = Submission {
            version: live.version,
            updated_at: Utc::now(),
            revision: old.revision + 1,
            values: pending.values,
            ..old.clone()
        };
        self.write_edit(org, &live, &old, &updated)?;
        self.store.durability.wait().await?;
        self.changed.notify();
        Ok(updated)
    }

    /// Deletes a submission and its history.
    pub async fn delete(
        &self,
        caller: &Caller,
        app: &str,
        id: &str,
    ) -> Result<(), SubmissionError> {
        let org = caller.org.id.as_str();
        let old = self.get(org, app, id)?;
        let id = old.id.as_str();
        let key = storage::key(&[org, app, id]);
        let unique_keys = self.unique_keys(org, app, &old.values)?;
        let event = outbox_event(org, app, id, EventKind::Deleted);
        // The id stays taken, so a late retry of the create cannot bring
        // the submission back.
        let tombstone = storage::encode(&Utc::now());
        let trees = (
            &self.store.subs,
            &self.store.unique,
            &self.store.outbox,
            &self.store.deleted,
        );
        trees
            .transaction(|(subs, unique, outbox, deleted)| {
                subs.remove(key.as_bytes())?;
                deleted.insert(key.as_bytes(), tombstone.as_slice())?;
                for (_, unique_key) in &unique_keys {
                    release(unique, unique_key, id)?;
                }
                outbox.insert(&storage::next_sequence(outbox)?, storage::encode(&event))?;
                Ok(())
            })
            .map_err(storage_error)?;
        for entry in self.store.history.scan_prefix(format!("{key}/")).keys() {
            self.store.history.remove(entry?)?;
        }
        self.store.durability.wait().await?;
        self.changed.notify();
        Ok(())
    }

    /// Answers rows whose client id is already stored: a retry with the
    /// same values gets the stored submission, other values a conflict.
    fn answer_retries(
        &self,
        org: &str,
        app: &str,
        pending: &mut Vec<Pending>,
        outcomes: &mut [Option<RowOutcome>],
    ) -> Result<(), SubmissionError> {
        let mut seen_in_batch = HashSet::new();
        let mut kept = Vec::with_capacity(pending.len());
        for row in pending.drain(..) {
            if !row.errors.is_empty() {
                kept.push(row);
                continue;
            }
            let key = storage::key(&[org, app, &row.id]);
            let stored = match row.client_chosen {
                true => storage::get::<Submission>(&self.store.subs, &key)?,
                false => None,
            };
            if let Some(stored) = stored {
                outcomes[row.index] = Some(retry_outcome(&row, stored));
            } else if row.client_chosen && self.store.deleted.contains_key(&key)? {
                let message = "a submission with this id was deleted; choose a new id";
                let errors = vec![FieldError::new("id", "deleted", message)];
                outcomes[row.index] = Some(RowOutcome::Rejected { errors });
            } else if !seen_in_batch.insert(row.id.clone()) {
                let message = "the same id appears earlier in this batch";
                let errors = vec![FieldError::new("id", "duplicate", message)];
                outcomes[row.index] = Some(RowOutcome::Rejected { errors });
            } else {
                kept.push(row);
            }
        }
        *pending = kept;
        Ok(())
    }

    /// Runs every plugin the version uses, once each, over all rows.
    /// Returns the errors of each row, in the order of `rows`.
    async fn run_plugins(
        &self,
        caller: &Caller,
        live: &AppVersion,
        rows: &[Pending],
    ) -> Result<Vec<Vec<FieldError>>, SubmissionError> {
        let mut errors = vec![Vec::new(); rows.len()];
        let mut by_type: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (position, block) in live.blocks.iter().enumerate() {
            by_type
                .entry(block.block_type.as_str())
                .or_default()
                .push(position);
        }
        let records: Arc<OrgRecords> = Arc::new(OrgRecords {
            store: self.store.clone(),
            apps: self.apps.clone(),
            org: caller.org.id.clone(),
        });

        for (block_type, positions) in by_type {
            let Some(batch) = plugin_batch(live, &positions, rows) else {
                continue;
            };
            let violations = self
                .runtime
                .validate(block_type, batch, records.clone())
                .await?;
            for violation in violations {
                if let Some(row_errors) = errors.get_mut(violation.row as usize) {
                    row_errors.push(FieldError::new(
                        violation.field,
                        &violation.rule,
                        violation.message,
                    ));
                }
            }
        }
        Ok(errors)
    }

    fn write_new(
        &self,
        caller: &Caller,
        live: &AppVersion,
        rows: Vec<Pending>,
        outcomes: &mut [Option<RowOutcome>],
    ) -> Result<(), SubmissionError> {
        let org = caller.org.id.as_str();
        let app = live.app.as_str();
        let now = Utc::now();
        let mut prepared = Vec::with_capacity(rows.len());
        for row in &rows {
            let submission = Submission {
                id: row.id.clone(),
                app: app.to_string(),
                version: live.version,
                submitter: caller.token_name.clone(),
                created_at: now,
                updated_at: now,
                revision: 1,
                values: row.values.clone(),
                content_hash: row.hash.clone(),
            };
            let unique_keys = self.unique_keys(org, app, &row.values)?;
            prepared.push((submission, unique_keys));
        }

        let trees = (&self.store.subs, &self.store.unique, &self.store.outbox);
        let decisions = trees
            .transaction(|(subs, unique, outbox)| {
                let mut decisions = Vec::with_capacity(prepared.len());
                let mut taken_in_batch = HashSet::new();
                for (submission, unique_keys) in &prepared {
                    let key = storage::key(&[org, app, &submission.id]);
                    if let Some(bytes) = subs.get(key.as_bytes())? {
                        let stored = storage::decode(key.as_bytes(), &bytes)
                            .map_err(ConflictableTransactionError::Abort)?;
                        decisions.push(Decision::AlreadyStored(stored));
                        continue;
                    }
                    let mut clash = None;
                    for (block, unique_key) in unique_keys {
                        let taken = unique.get(unique_key.as_bytes())?.is_some()
                            || taken_in_batch.contains(unique_key);
                        if taken {
                            clash = Some(unique_taken(block, &submission.values[block]));
                            break;
                        }
                    }
                    if let Some(error) = clash {
                        decisions.push(Decision::UniqueTaken(error));
                        continue;
                    }
                    for (_, unique_key) in unique_keys {
                        unique.insert(unique_key.as_bytes(), submission.id.as_bytes())?;
                        taken_in_batch.insert(unique_key.clone());
                    }
                    subs.insert(key.as_bytes(), storage::encode(submission))?;
                    let event = outbox_event(org, app, &submission.id, EventKind::Created);
                    outbox.insert(&storage::next_sequence(outbox)?, storage::encode(&event))?;
                    decisions.push(Decision::Written(submission.clone()));
                }
                Ok(decisions)
            })
            .map_err(storage_error)?;

        for (row, decision) in rows.iter().zip(decisions) {
            outcomes[row.index] = Some(match decision {
                Decision::Written(submission) => RowOutcome::Created { submission },
                Decision::AlreadyStored(stored) => retry_outcome(row, stored),
                Decision::UniqueTaken(error) => RowOutcome::Rejected {
                    errors: vec![error],
                },
            });
        }
        Ok(())
    }

    fn write_edit(
        &self,
        org: &str,
        live: &AppVersion,
        old: &Submission,
        updated: &Submission,
    ) -> Result<(), SubmissionError> {
        let app = live.app.as_str();
        let key = storage::key(&[org, app, &old.id]);
        let history_key = format!("{key}/{:010}", old.revision);
        let old_keys = self.unique_keys(org, app, &old.values)?;
        let new_keys = self.unique_keys(org, app, &updated.values)?;
        let event = outbox_event(org, app, &old.id, EventKind::Updated);

        let trees = (
            &self.store.subs,
            &self.store.unique,
            &self.store.outbox,
            &self.store.history,
        );
        let outcome = trees.transaction(|(subs, unique, outbox, history)| {
            let current = subs.get(key.as_bytes())?;
            if current.as_deref() != Some(storage::encode(old).as_slice()) {
                let conflict = SubmissionError::Conflict { id: old.id.clone() };
                return Err(ConflictableTransactionError::Abort(conflict));
            }
            for (_, unique_key) in &old_keys {
                release(unique, unique_key, &old.id)?;
            }
            for (block, unique_key) in &new_keys {
                if unique.get(unique_key.as_bytes())?.is_some() {
                    let error = unique_taken(block, &updated.values[block]);
                    let invalid = SubmissionError::Invalid(vec![error]);
                    return Err(ConflictableTransactionError::Abort(invalid));
                }
                unique.insert(unique_key.as_bytes(), old.id.as_bytes())?;
            }
            history.insert(history_key.as_bytes(), storage::encode(old))?;
            subs.insert(key.as_bytes(), storage::encode(updated))?;
            outbox.insert(&storage::next_sequence(outbox)?, storage::encode(&event))?;
            Ok(())
        });
        match outcome {
            Ok(()) => Ok(()),
            Err(TransactionError::Abort(refused)) => Err(refused),
            Err(TransactionError::Storage(error)) => Err(error.into()),
        }
    }

    /// The unique-index keys a submission's values occupy, by block.
    fn unique_keys(
        &self,
        org: &str,
        app: &str,
        values: &Map<String, Json>,
    ) -> Result<Vec<(String, String)>, SubmissionError> {
        let live = self.apps.live(org, app)?;
        Ok(live
            .blocks
            .iter()
            .filter(|block| block.unique)
            .filter_map(|block| {
                let value = values.get(&block.key)?;
                Some((block.key.clone(), unique_key(org, app, &block.key, value)?))
            })
            .collect())
    }
}

/// Parses one row against the live version. Errors name each bad field;
/// a bad value is passed on as blank.
fn prepare(live: &AppVersion, index: usize, row: NewSubmission, caller: &Caller) -> Pending {
    let mut errors = Vec::new();
    let client_chosen = row.id.is_some();
    let id = match row.id {
        Some(id) => canonical_ulid(&id).unwrap_or_else(|| {
            let message = "must be a ULID: 26 characters of Crockford base 32, the first 0 to 7";
            errors.push(FieldError::new("id", "ulid", message));
            String::new()
        }),
        None => new_id(),
    };
    for key in row.values.keys() {
        if live.block(key).is_none() {
            let message = format!("app {:?} has no block {key:?}", live.app);
            errors.push(FieldError::new(key.clone(), "unknown-block", message));
        }
    }

    let tz = caller.time_zone();
    let mut typed = Vec::with_capacity(live.blocks.len());
    let mut values = Map::new();
    for block in &live.blocks {
        let input = row.values.get(&block.key).unwrap_or(&Json::Null);
        match values::parse(&block.key, block.kind, input, tz) {
            Ok(parsed) => {
                if matches!(parsed.value, wit::Value::Empty) && block.required {
                    errors.push(FieldError::new(
                        block.key.clone(),
                        "required",
                        "is required",
                    ));
                }
                if !parsed.json.is_null() {
                    values.insert(block.key.clone(), parsed.json);
                }
                typed.push(parsed.value);
            }
            Err(error) => {
                errors.push(error);
                typed.push(wit::Value::Empty);
            }
        }
    }
    let hash = content_hash(&values);
    Pending {
        index,
        id,
        client_chosen,
        errors,
        typed,
        values,
        hash,
    }
}

/// The id in canonical form (upper case), if it is a ULID. Parsing alone
/// accepts 26 characters whose value overflows 128 bits, so the round trip
/// is checked too.
fn canonical_ulid(id: &str) -> Option<String> {
    let parsed = ulid::Ulid::from_string(id).ok()?.to_string();
    (parsed == id.to_ascii_uppercase()).then_some(parsed)
}

/// A new id. Ids made in the same millisecond still sort in the order they
/// were made, so lists are newest first even within one batch.
fn new_id() -> String {
    static IDS: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let mut generator = IDS.lock().expect("lock");
    let generator = generator.get_or_insert_with(ulid::Generator::new);
    match generator.generate() {
        Ok(id) => id.to_string(),
        // 2^80 ids in one millisecond: start a fresh random sequence.
        Err(_) => ulid::Ulid::new().to_string(),
    }
}

/// Sorts errors the way the form reads: the id and unknown keys first,
/// then blocks in order.
fn in_block_order(live: &AppVersion, mut errors: Vec<FieldError>) -> Vec<FieldError> {
    let position = |field: &str| live.blocks.iter().position(|b| b.key == field);
    errors.sort_by_key(|error| position(&error.field).map_or(0, |p| p + 1));
    errors
}

/// The batch for one plugin: its blocks, and their values in every row.
/// None when every value is blank, since plugins do not see blanks.
fn plugin_batch(live: &AppVersion, positions: &[usize], rows: &[Pending]) -> Option<wit::Batch> {
    let any_value = rows.iter().any(|row| {
        positions
            .iter()
            .any(|&p| !matches!(row.typed[p], wit::Value::Empty))
    });
    if !any_value {
        return None;
    }
    let fields = positions
        .iter()
        .map(|&p| wit::Field {
            key: live.blocks[p].key.clone(),
            config: live.blocks[p].config.to_string(),
        })
        .collect();
    let rows = rows
        .iter()
        .map(|row| positions.iter().map(|&p| row.typed[p].clone()).collect())
        .collect();
    Some(wit::Batch { fields, rows })
}

fn retry_outcome(row: &Pending, stored: Submission) -> RowOutcome {
    if stored.content_hash == row.hash {
        RowOutcome::Existing { submission: stored }
    } else {
        let message = "a submission with this id exists with other values";
        RowOutcome::Rejected {
            errors: vec![FieldError::new("id", "conflict", message)],
        }
    }
}

/// Frees a unique value if `id` holds it. Another submission may hold the
/// same value when the block became unique in a later version, after this
/// submission was made; its entry must stay.
fn release<E>(
    unique: &TransactionalTree,
    unique_key: &str,
    id: &str,
) -> Result<(), ConflictableTransactionError<E>> {
    if unique.get(unique_key.as_bytes())?.as_deref() == Some(id.as_bytes()) {
        unique.remove(unique_key.as_bytes())?;
    }
    Ok(())
}

fn unique_taken(block: &str, value: &Json) -> FieldError {
    let message = format!("{value} is already used by another submission");
    FieldError::new(block, "unique", message)
}

fn content_hash(values: &Map<String, Json>) -> String {
    hex::encode(Sha256::digest(storage::encode(values)))
}

fn outbox_event(org: &str, app: &str, id: &str, kind: EventKind) -> OutboxEvent {
    OutboxEvent {
        org: org.into(),
        app: app.into(),
        submission: id.into(),
        kind,
    }
}

fn storage_error(error: TransactionError<crate::storage::StorageError>) -> SubmissionError {
    match error {
        TransactionError::Abort(error) => error.into(),
        TransactionError::Storage(error) => error.into(),
    }
}
