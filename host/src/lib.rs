//! The Tessera server.
//!
//! One process holds the whole submission path: the HTTP API ([`api`]),
//! tokens ([`auth`]), app definitions ([`apps`]), the WebAssembly plugin
//! runtime ([`runtime`]), submissions ([`submissions`]) on embedded storage
//! ([`storage`]), and the search index behind aggregations ([`analytics`]).
//! [`server`] wires them together; the `tessera` binary is a thin CLI on top.

pub mod analytics;
pub mod api;
pub mod apps;
pub mod auth;
pub mod config;
pub mod demo;
pub mod field_error;
pub mod filter;
pub mod runtime;
pub mod server;
pub mod storage;
pub mod submissions;
pub mod values;
