//! The unique-value index: `org/app/block/value` → submission id.
//!
//! It enforces `unique` blocks and answers the `records` capability, so a
//! lookup is one key read however large the target app is.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::apps::Apps;
use crate::runtime::RecordsReader;
use crate::storage::Store;

/// The key of a unique value.
pub fn unique_key(org: &str, app: &str, block: &str, value: &Json) -> Option<String> {
    let text = match value {
        Json::String(text) => text.clone(),
        Json::Number(number) => number.as_f64()?.to_string(),
        _ => return None,
    };
    Some(format!("{org}/{app}/{block}/{text}"))
}

/// The `records` capability for one org.
pub struct OrgRecords {
    pub store: Store,
    pub apps: Arc<Apps>,
    pub org: String,
}

impl RecordsReader for OrgRecords {
    fn exists(&self, app: &str, field: &str, values: &[String]) -> Result<Vec<bool>, String> {
        let live = self.apps.live(&self.org, app).map_err(|e| e.to_string())?;
        let block = live
            .block(field)
            .ok_or_else(|| format!("app {app:?} has no block {field:?}"))?;
        if !block.unique {
            return Err(format!("block {field:?} of app {app:?} is not unique"));
        }
        values
            .iter()
            .map(|value| {
                let key = format!("{}/{app}/{field}/{value}", self.org);
                self.store
                    .unique
                    .contains_key(key)
                    .map_err(|e| e.to_string())
            })
            .collect()
    }
}
