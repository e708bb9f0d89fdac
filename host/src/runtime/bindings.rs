//! Rust bindings for the `tessera:plugin` WIT package, host side.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "validator",
    imports: { "tessera:plugin/records.exists": async },
    exports: { default: async },
});

/// The WIT types plugins see, under short names.
pub mod wit {
    pub use super::exports::tessera::plugin::validation::{Batch, BlockType, Field};
    pub use super::tessera::plugin::types::{
        Date, Datetime, FileRef, Gps, Scalar, TimeOfDay, Value, ValueKind, Violation,
    };
}
