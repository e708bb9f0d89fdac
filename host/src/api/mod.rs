//! The HTTP API: routes, authentication and JSON in and out.
//!
//! Every `/api` route needs `Authorization: Bearer <token>`; the token
//! decides the org, and every handler works inside that org only.

mod apps;
mod error;
mod json;
mod params;
mod submissions;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Router};

pub use error::ApiError;

use crate::auth;
use crate::server::Server;

/// The shared state handlers see.
pub type AppState = Arc<Server>;

/// The whole HTTP surface.
pub fn router(server: AppState) -> Router {
    let api = Router::new()
        .route("/plugins", get(apps::list_plugins))
        .route("/apps", get(apps::list).post(apps::create))
        .route("/apps/{app}", get(apps::get))
        .route("/apps/{app}/draft", put(apps::save_draft))
        .route("/apps/{app}/publish", post(apps::publish))
        .route("/apps/{app}/versions/{version}", get(apps::version))
        .route(
            "/apps/{app}/submissions",
            get(submissions::list).post(submissions::create),
        )
        .route(
            "/apps/{app}/submissions/batch",
            post(submissions::create_batch),
        )
        .route("/apps/{app}/submissions/query", post(submissions::query))
        .route(
            "/apps/{app}/submissions/{id}",
            get(submissions::get)
                .patch(submissions::edit)
                .delete(submissions::delete),
        )
        .route(
            "/apps/{app}/submissions/{id}/history",
            get(submissions::history),
        )
        .route("/apps/{app}/aggregate", post(submissions::aggregate))
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(server.clone(), authenticate));

    let body_limit = server.config.max_body_bytes;
    Router::new()
        .route("/", get(designer))
        .route("/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .nest("/api", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(Extension(json::BodyLimit(body_limit)))
        .with_state(server)
}

async fn authenticate(
    State(server): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = presented else {
        let message = "send the API token as `Authorization: Bearer <token>`";
        return ApiError::client(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    };
    match auth::authenticate(&server.store, token) {
        Ok(Some((token, org))) => {
            request.extensions_mut().insert(auth::Caller {
                org,
                token_name: token.name,
            });
            next.run(request).await
        }
        Ok(None) => {
            let message = "the API token is not valid";
            ApiError::client(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response()
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn designer() -> Html<&'static str> {
    Html(include_str!("../../../designer-ui/index.html"))
}

async fn method_not_allowed() -> ApiError {
    let message = "this route does not take that method; see docs/api.md";
    ApiError::client(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        message,
    )
}

async fn not_found() -> ApiError {
    ApiError::client(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// Plugin call counters and latency histograms for Prometheus. Public like
/// `/health`: it names plugins and versions, never an org or a value.
async fn metrics(State(server): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        server.runtime.metrics().encode(),
    )
}
