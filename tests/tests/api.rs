//! The HTTP API end to end: the real `tessera` binary, driven over HTTP.
//!
//! Each test starts one server and checks one area of the API against what
//! the API promises: status codes, error bodies that name the field and the
//! rule, nothing stored after a refused request, and figures worked out by
//! hand next to the data in [`fixtures`]. The areas live in `api/`.

#[path = "api/apps.rs"]
mod apps;
#[path = "api/fixtures.rs"]
mod fixtures;
#[path = "api/input.rs"]
mod input;
#[path = "api/reads.rs"]
mod reads;
#[path = "api/support.rs"]
mod support;
#[path = "api/writes.rs"]
mod writes;
