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

impl<V: Validator> Guest for Plugin<V> {
    fn describe() -> BlockType {
        BlockType {
            name: V::BLOCK_TYPE.to_owned(),
            description: V::DESCRIPTION.to_owned(),
        }
    }

    fn check_config(config: String) -> Result<ValueKind, String> {
        batch::check_config::<V>(&config)
    }

    fn validate(batch: Batch) -> Result<Vec<Violation>, String> {
        batch::validate::<V>(&batch)
    }
}
