//! Read access to the records of other apps in the caller's org.

/// For each of `values`, whether some submission of `app` holds it in
/// `field`; one answer per value, in order.
///
/// Call it once per column, with the distinct values, rather than once per
/// value: each call crosses into the host.
///
/// # Errors
///
/// The host's message when `app` does not exist or `field` is not marked
/// unique in its live version, and an error when the host answers with the
/// wrong number of results. Outside the host (in native unit tests) every
/// call fails.
pub fn exists(app: &str, field: &str, values: &[String]) -> Result<Vec<bool>, String> {
    let found = ask_host(app, field, values)?;
    if found.len() != values.len() {
        return Err(format!(
            "the host answered {} of {} record look-ups",
            found.len(),
            values.len()
        ));
    }
    Ok(found)
}

#[cfg(target_arch = "wasm32")]
fn ask_host(app: &str, field: &str, values: &[String]) -> Result<Vec<bool>, String> {
    crate::bindings::tessera::plugin::records::exists(app, field, values)
}

#[cfg(not(target_arch = "wasm32"))]
fn ask_host(_app: &str, _field: &str, _values: &[String]) -> Result<Vec<bool>, String> {
    Err("records can only be read inside the Tessera host".to_owned())
}
