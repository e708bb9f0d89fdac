//! The tantivy schema: one document per submission, every org in one index.

use tantivy::schema::{Field, JsonObjectOptions, STRING, Schema};

/// Fields of the index.
#[derive(Clone)]
pub struct IndexFields {
    pub schema: Schema,
    /// `org/app/submission`: finds a document to replace or delete.
    pub key: Field,
    pub org: Field,
    pub app: Field,
    /// Block values by key, as fast columns: text as raw strings, numbers
    /// as f64, dates as days, times as seconds, date-times as microseconds
    /// since the epoch.
    pub values: Field,
    /// Calendar buckets of date and date-time blocks in the org's time zone:
    /// `{"<block>": {"day": 20130101, "week": 20121231, "month": 20130101}}`.
    pub calendar: Field,
}

impl IndexFields {
    /// The schema every index of this version uses.
    pub fn new() -> IndexFields {
        let mut builder = Schema::builder();
        let key = builder.add_text_field("key", STRING);
        let org = builder.add_text_field("org", STRING);
        let app = builder.add_text_field("app", STRING);
        // Values are columns only: aggregations read them, and filters are
        // range scans over them, so no postings are built for them.
        let values = builder.add_json_field("values", JsonObjectOptions::default().set_fast("raw"));
        let calendar =
            builder.add_json_field("calendar", JsonObjectOptions::default().set_fast("raw"));
        IndexFields {
            schema: builder.build(),
            key,
            org,
            app,
            values,
            calendar,
        }
    }
}
