//! The generated `Guest` trait, implemented once for every [`Validator`].

use std::marker::PhantomData;

use crate::bindings::exports::tessera::plugin::validation::{Batch, BlockType, Guest};
use crate::{Validator, ValueKind, Violation, batch};

/// Adapts a [`Validator`] to the generated bindings; named only by
/// [`register!`](crate::register).
pub struct Plugin<V>(PhantomData<V>);

impl<V: Validator> Plugin<V> {
    /// Does nothing; naming it makes the compiler check that `V` is a
    /// [`Validator`] in builds that export nothing.
    pub fn registered() {}
}

/// Sends a panic's message and location to the host's log before the
/// instance traps, so the host can say why the call failed. Every export
/// calls it first; the host starts a fresh instance for every call.
fn report_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| crate::log::error(&info.to_string())));
    });
}

impl<V: Validator> Guest for Plugin<V> {
    fn describe() -> BlockType {
        report_panics();
        BlockType {
            name: V::BLOCK_TYPE.to_owned(),
            description: V::DESCRIPTION.to_owned(),
        }
    }

    fn check_config(config: String) -> Result<ValueKind, String> {
        report_panics();
        batch::check_config::<V>(&config)
    }

    fn validate(batch: Batch) -> Result<Vec<Violation>, String> {
        report_panics();
        batch::validate::<V>(&batch)
    }
}
