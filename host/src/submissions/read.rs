//! Reading submissions: one by id, its history, and cursor-paged lists.
//!
//! Lists walk the store newest first and never count the whole app, so a
//! page costs the same on an app of ten rows or ten million. A filter is
//! checked row by row as the walk goes.

use serde::Serialize;

use super::model::{Submission, SubmissionError};
use super::write::Submissions;
use crate::filter::Filter;
use crate::storage;

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page {
    pub items: Vec<Submission>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// How many rows a filtered list may walk past before it returns a short
/// page with a cursor, so one request stays bounded.
const MAX_SCANNED_PER_PAGE: usize = 100_000;

impl Submissions {
    /// One submission.
    pub fn get(&self, org: &str, app: &str, id: &str) -> Result<Submission, SubmissionError> {
        // Ids are stored upper case; the error names the id as it was asked.
        let canonical = id.to_ascii_uppercase();
        storage::get(&self.store.subs, &storage::key(&[org, app, &canonical]))?
            .ok_or_else(|| SubmissionError::NotFound(id.into()))
    }

    /// Earlier revisions of a submission, oldest first.
    pub fn history(
        &self,
        org: &str,
        app: &str,
        id: &str,
    ) -> Result<Vec<Submission>, SubmissionError> {
        let current = self.get(org, app, id)?;
        let prefix = format!("{}/", storage::key(&[org, app, &current.id]));
        let mut revisions = Vec::new();
        for entry in self.store.history.scan_prefix(prefix) {
            let (key, bytes) = entry?;
            revisions.push(storage::decode(&key, &bytes)?);
        }
        Ok(revisions)
    }

    /// Up to `limit` submissions, newest first, starting after the cursor.
    pub fn list(
        &self,
        org: &str,
        app: &str,
        after: Option<&str>,
        limit: usize,
        filter: Option<&Filter>,
    ) -> Result<Page, SubmissionError> {
        self.apps.get(org, app)?;
        let prefix = format!("{}/", storage::key(&[org, app]));
        let end = match after {
            Some(cursor) => format!("{prefix}{cursor}"),
            None => format!("{}0", storage::key(&[org, app])),
        };

        let mut items = Vec::with_capacity(limit.min(1_000));
        let mut next_cursor = None;
        let mut walk = self
            .store
            .subs
            .range(prefix.as_bytes()..end.as_bytes())
            .rev()
            .enumerate();
        while let Some((scanned, entry)) = walk.next() {
            let (key, bytes) = entry?;
            let submission: Submission = storage::decode(&key, &bytes)?;
            let id = submission.id.clone();
            if filter.is_none_or(|f| f.matches(&submission.values)) {
                items.push(submission);
            }
            if items.len() == limit || scanned + 1 >= MAX_SCANNED_PER_PAGE {
                // A cursor only while rows remain, so the last page has none.
                // Under a filter the rows left may all fail it, and the next
                // page come back empty.
                if walk.next().is_some() {
                    next_cursor = Some(id);
                }
                break;
            }
        }
        Ok(Page { items, next_cursor })
    }
}
