//! Rust bindings generated from `wit/plugin.wit`.
//!
//! Plugin authors never name these modules: the crate root re-exports the
//! value types, and [`register!`](crate::register) wires the exports.

wit_bindgen::generate!({
    world: "validator",
    // Relative to this crate's Cargo.toml: the contract at the repo's top.
    path: "../wit",
    additional_derives: [PartialEq],
    pub_export_macro: true,
    export_macro_name: "__export_validator",
    default_bindings_module: "tessera_sdk::bindings",
});
