//! What a plugin may reach, and the check that a component asks for nothing
//! more before it is accepted.
//!
//! Every validator gets the base: WASI's io, clocks, random, cli and
//! filesystem interfaces over an empty context (no arguments, no
//! environment, no folders, output discarded), which the Rust standard
//! library imports, plus Tessera's `log` and `types`. Anything beyond the
//! base is a [`Capability`] granted per plugin file in the configuration.
//! Sockets and every other interface are never linked for a validator.

use serde::Deserialize;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

/// A capability beyond the base that a plugin may be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// `tessera:plugin/records`: read whether values exist in other apps of
    /// the caller's org.
    Records,
}

impl Capability {
    /// The name used in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Capability::Records => "records",
        }
    }

    fn of_import(import: &str) -> Option<Capability> {
        import
            .starts_with("tessera:plugin/records@")
            .then_some(Capability::Records)
    }
}

/// Interfaces every validator may import.
const BASE: &[&str] = &[
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:cli/",
    "wasi:filesystem/",
    "tessera:plugin/log@",
    "tessera:plugin/types@",
];

/// The interface a validator exports, and its functions.
pub const VALIDATION: &str = "tessera:plugin/validation@0.1.0";
const VALIDATION_FUNCTIONS: [&str; 3] = ["describe", "check-config", "validate"];

/// Checks a component's exports and imports against the validator world
/// and the plugin's grants. The error names the interface at fault.
pub fn inspect(
    engine: &Engine,
    component: &Component,
    grants: &[Capability],
    grant_key: &str,
) -> Result<(), String> {
    let ty = component.component_type();

    let Some(validation) = ty.get_export(engine, VALIDATION) else {
        let exports: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
        return Err(format!(
            "it does not export {VALIDATION}, so it is not built for the \
             tessera:plugin/validator world (it exports {})",
            list(&exports)
        ));
    };
    let ComponentItem::ComponentInstance(instance) = validation.ty else {
        return Err(format!("its export {VALIDATION} is not an interface"));
    };
    let missing: Vec<&str> = VALIDATION_FUNCTIONS
        .into_iter()
        .filter(|function| {
            !matches!(
                instance.get_export(engine, function).map(|item| item.ty),
                Some(ComponentItem::ComponentFunc(_))
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "its export {VALIDATION} lacks the function{} {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(" and ")
        ));
    }

    for (import, _) in ty.imports(engine) {
        if BASE.iter().any(|prefix| import.starts_with(prefix)) {
            continue;
        }
        match Capability::of_import(import) {
            Some(capability) if grants.contains(&capability) => {}
            Some(capability) => {
                return Err(format!(
                    "it imports {import}, which is not granted to it; to grant it, \
                     add plugin_grants.{grant_key} = [\"{}\"] to the configuration",
                    capability.name()
                ));
            }
            None => {
                return Err(format!(
                    "it imports {import}, which is never granted to a validator"
                ));
            }
        }
    }
    Ok(())
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(", ")
    }
}
