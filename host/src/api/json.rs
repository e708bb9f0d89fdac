//! A JSON body extractor whose errors name the offending field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The largest body the server takes, for the message that refuses one.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Like `axum::Json`, but a bad body is answered with the path of the field
/// that broke it (`submissions[3].values`) and serde's reason.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = request.extensions().get::<BodyLimit>().map(|limit| limit.0);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    let message = match limit {
                        Some(bytes) => format!(
                            "the request body is over the server's limit of {bytes} bytes \
                             (the max_body_bytes setting)"
                        ),
                        None => "the request body is larger than the server accepts".into(),
                    };
                    ApiError::client(status, "body_too_large", message)
                } else {
                    let message = format!(
                        "the request body could not be read in full: {}",
                        rejection.body_text()
                    );
                    ApiError::client(status, "unreadable_body", message)
                }
            })?;
        // Every request body is a JSON object. serde would also take a
        // struct written as an array of its fields, and explain any other
        // mistake in terms of the fields it wanted.
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => {}
            first => {
                let what = match first {
                    None => "empty",
                    Some(b'[') => "an array",
                    Some(b'"') => "a string",
                    Some(_) => "not an object",
                };
                let message = format!("the request body must be a JSON object; this one is {what}");
                return Err(ApiError::bad_json("body".into(), message));
            }
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(&mut deserializer) {
            Ok(value) => match deserializer.end() {
                Ok(()) => Ok(Body(value)),
                Err(error) => Err(ApiError::bad_json("body".into(), error.to_string())),
            },
            Err(error) => {
                // A body cut short ends its path in `?`, the segment serde
                // could not reach: name the part that was being read.
                let path = error.path().to_string();
                let path = path.trim_end_matches('?').trim_end_matches('.');
                let field = if path.is_empty() {
                    "body".to_string()
                } else {
                    path.to_string()
                };
                Err(ApiError::bad_json(field, error.into_inner().to_string()))
            }
        }
    }
}
