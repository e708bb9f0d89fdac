//! Submission records and the shapes of write requests and answers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::apps::AppError;
use crate::field_error::FieldError;
use crate::runtime::PluginError;
use crate::storage::StorageError;

/// One submission as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Submission {
    /// A ULID: sorts by creation time; the client may choose it.
    pub id: String,
    pub app: String,
    /// The app version the values were last validated against.
    pub version: u32,
    /// The name of the token that made it.
    pub submitter: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// 1 when created; each edit adds one and keeps the old revision.
    pub revision: u32,
    /// Canonical values by block key; blank blocks are absent.
    pub values: Map<String, Json>,
    /// SHA-256 of the values first submitted, to recognise retries.
    pub content_hash: String,
}

/// One submission in a create request.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a submission: an object with \"values\" and an optional \"id\""
)]
pub struct NewSubmission {
    /// A ULID chosen by the client, so a retry is recognised.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(deserialize_with = "distinct_keys")]
    pub values: Map<String, Json>,
}

/// The body of an edit: the blocks to change; `null` clears one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValuesPatch {
    #[serde(deserialize_with = "distinct_keys")]
    pub values: Map<String, Json>,
}

/// Reads block values, refusing a block named twice: JSON parsers differ on
/// which of two equal keys wins, so the server takes neither.
fn distinct_keys<'de, D: serde::Deserializer<'de>>(
    input: D,
) -> Result<Map<String, Json>, D::Error> {
    struct Values;

    impl<'de> serde::de::Visitor<'de> for Values {
        type Value = Map<String, Json>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of block values")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut access: A,
        ) -> Result<Self::Value, A::Error> {
            let mut values = Map::new();
            while let Some((key, value)) = access.next_entry::<String, Json>()? {
                if values.contains_key(&key) {
                    let message = format!("block {key:?} is given twice");
                    return Err(serde::de::Error::custom(message));
                }
                values.insert(key, value);
            }
            Ok(values)
        }
    }

    input.deserialize_map(Values)
}

/// What became of one row of a create request.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RowOutcome {
    /// Stored now.
    Created { submission: Submission },
    /// A retry of a submission stored earlier with the same id and values.
    Existing { submission: Submission },
    /// Not stored: each error names the field and the rule.
    Rejected { errors: Vec<FieldError> },
}

/// Why a submission request failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("submission {0:?} does not exist")]
    NotFound(String),
    #[error("submission {id:?} already exists with other values")]
    Conflict { id: String },
    #[error("a batch may hold at most {limit} rows; this one has {got}")]
    BatchTooLarge { limit: usize, got: usize },
    #[error("the request is not valid")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sled::Error> for SubmissionError {
    fn from(error: sled::Error) -> SubmissionError {
        SubmissionError::Storage(error.into())
    }
}
