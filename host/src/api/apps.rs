//! Handlers for apps and plugins.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde_json::{Value as Json_, json};

use super::json::Body;
use super::params::Path;
use super::{ApiError, AppState};
use crate::apps::{App, AppVersion, DraftInput, NewApp};
use crate::auth::Caller;

pub async fn list_plugins(State(server): State<AppState>) -> Json<Json_> {
    let plugins: Vec<_> = server
        .runtime
        .plugins()
        .into_iter()
        .map(|p| {
            json!({
                "block_type": p.block_type,
                "description": p.description,
                "version": p.version,
                "file": p.file,
                "grants": p.grants.iter().map(|g| g.name()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({ "plugins": plugins, "refused": server.runtime.refused() }))
}

pub async fn list(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Json_>, ApiError> {
    let apps = server.apps.list(&caller.org.id)?;
    Ok(Json(json!({ "apps": apps })))
}

pub async fn create(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(input): Body<NewApp>,
) -> Result<(StatusCode, Json<App>), ApiError> {
    let records = server.records(&caller);
    let app = server.apps.create(&caller.org.id, input, records).await?;
    Ok((StatusCode::CREATED, Json(app)))
}

pub async fn get(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
) -> Result<Json<App>, ApiError> {
    Ok(Json(server.apps.get(&caller.org.id, &app)?))
}

pub async fn save_draft(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
    Body(draft): Body<DraftInput>,
) -> Result<Json<AppVersion>, ApiError> {
    let records = server.records(&caller);
    Ok(Json(
        server
            .apps
            .save_draft(&caller.org.id, &app, draft, records)
            .await?,
    ))
}

pub async fn publish(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
) -> Result<Json<App>, ApiError> {
    Ok(Json(server.apps.publish(&caller.org.id, &app).await?))
}

pub async fn version(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((app, version)): Path<(String, String)>,
) -> Result<Json<AppVersion>, ApiError> {
    let version: u32 = version.parse().map_err(|_| {
        let message = format!("a version is a whole number such as 1 or 2, not {version:?}");
        ApiError::client(StatusCode::BAD_REQUEST, "invalid_path", message)
    })?;
    // A missing app is named as such, not as a missing version of it.
    server.apps.get(&caller.org.id, &app)?;
    Ok(Json(server.apps.version(&caller.org.id, &app, version)?))
}
