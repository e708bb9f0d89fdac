//! The app records as stored and as accepted from the API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::values::ValueKind;

/// An app: a form and, later, its logic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub name: String,
    /// The version new submissions use; none until the first publish.
    pub live_version: Option<u32>,
    /// The version being edited, if any.
    pub draft_version: Option<u32>,
    pub latest_version: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whether a version can still change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    Draft,
    Published,
}

/// One version of an app's form. Published versions never change.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppVersion {
    pub app: String,
    pub version: u32,
    pub name: String,
    pub state: VersionState,
    pub blocks: Vec<Block>,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl AppVersion {
    /// The block with `key`.
    pub fn block(&self, key: &str) -> Option<&Block> {
        self.blocks.iter().find(|block| block.key == key)
    }
}

/// One field of a version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    pub key: String,
    #[serde(rename = "type")]
    pub block_type: String,
    pub label: String,
    pub required: bool,
    /// No two submissions may hold the same value. Lookups from other apps
    /// can only target unique blocks.
    pub unique: bool,
    pub config: Json,
    /// Decided by the plugin from the config when the draft was saved.
    pub kind: ValueKind,
}

/// A block as an admin sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a block: an object with \"key\" and \"type\""
)]
pub struct BlockInput {
    pub key: String,
    #[serde(rename = "type")]
    pub block_type: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub config: Option<Json>,
}

/// The body of a draft save.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    pub name: String,
    pub blocks: Vec<BlockInput>,
}

/// The body of an app creation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApp {
    /// A slug such as `flights`; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub blocks: Vec<BlockInput>,
    /// Publish the first version at once.
    #[serde(default)]
    pub publish: bool,
}
