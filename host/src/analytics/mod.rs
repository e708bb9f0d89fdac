//! Analytics: the search index and the aggregations served from it.
//!
//! The store is the source of truth; the index is derived. [`indexer`]
//! tails the outbox into tantivy and commits on a timer or batch size,
//! recording in each commit the last outbox entry it holds, so a restart
//! resumes exactly where the index stopped and a deleted index is rebuilt
//! from the store. [`aggregate`] answers count, sum, avg, min and max,
//! grouped by field values and by calendar day, week or month in the org's
//! time zone, under the same filters as lists.

pub mod aggregate;
mod calendar;
mod document;
pub mod indexer;
mod query;
mod schema;

pub use aggregate::{AggregateRequest, AggregateResponse};
pub use indexer::{Analytics, AnalyticsError};
