//! Path and query-string extractors whose rejections are [`ApiError`]s, so
//! a bad parameter (`/versions/x`, `?limit=ten`) is answered in the same
//! JSON shape as every other client mistake. Handlers use them in place of
//! axum's extractors of the same names.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Like `axum::extract::Path`, rejecting with a JSON body.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| {
                ApiError::client(rejection.status(), "invalid_path", rejection.body_text())
            })
    }
}

/// Like `axum::extract::Query`, rejecting with a JSON body.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| {
                ApiError::client(rejection.status(), "invalid_query", rejection.body_text())
            })
    }
}
