//! Apps and their immutable versions.
//!
//! An app has a stable id (a slug chosen at creation, or a generated one)
//! and numbered versions. Saving a draft writes the draft version; publishing
//! freezes it and makes it the one live version that new submissions use.
//! Each block's config is checked by the plugin that provides its type when
//! the draft is saved, and the plugin says what kind of value the block holds.

mod model;
mod service;

pub use model::{App, AppVersion, Block, BlockInput, DraftInput, NewApp, VersionState};
pub use service::{AppError, Apps};
