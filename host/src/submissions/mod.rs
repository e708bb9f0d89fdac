//! Submissions: the data end users send into an app.
//!
//! [`write`] is the submission path: parse at the edge, run each plugin once
//! per batch, then one atomic write of the records, their unique-value
//! entries and their outbox events, acknowledged after a flush. [`read`]
//! serves gets and cursor-paged lists. [`unique`] keeps the unique-value
//! index that lookups from other apps read.

mod model;
mod read;
mod unique;
mod write;

pub use model::{NewSubmission, RowOutcome, Submission, SubmissionError, ValuesPatch};
pub use read::Page;
pub use unique::OrgRecords;
pub use write::Submissions;
