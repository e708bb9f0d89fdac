//! The one error type every handler returns, and how it becomes a response.
//!
//! Client mistakes are 4xx with a body naming the field and the rule; they
//! are not logged as errors. Internal failures are a 500 with a request id
//! and a generic message; the cause is logged once under that id.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::analytics::AnalyticsError;
use crate::apps::AppError;
use crate::field_error::FieldError;
use crate::runtime::PluginError;
use crate::storage::StorageError;
use crate::submissions::SubmissionError;

/// An error answer.
#[derive(Debug)]
pub enum ApiError {
    /// 4xx: the request cannot be served as sent.
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
        errors: Vec<FieldError>,
    },
    /// 500 from a plugin that failed: names the plugin and the reason (the
    /// limit it hit, or trap, panic, malformed), never the values.
    Validator {
        message: String,
        plugin: Option<String>,
        reason: &'static str,
    },
    /// 500: logged with the request id.
    Internal(String),
}

impl ApiError {
    /// A 4xx with a code and a message.
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Client {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// A 422 listing broken rules.
    pub fn invalid(message: impl Into<String>, errors: Vec<FieldError>) -> ApiError {
        ApiError::Client {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_failed",
            message: message.into(),
            errors,
        }
    }

    /// A 400 for a body that is not the expected JSON.
    pub fn bad_json(field: String, message: String) -> ApiError {
        let errors = vec![FieldError::new(field, "json", message.clone())];
        ApiError::Client {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_json",
            message,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Client {
                status,
                code,
                message,
                errors,
            } => {
                let body = json!({"error": {"code": code, "message": message, "errors": errors}});
                (status, Json(body)).into_response()
            }
            ApiError::Validator {
                message,
                plugin,
                reason,
            } => {
                let body = json!({"error": {
                    "code": "validator_failed",
                    "message": message,
                    "plugin": plugin,
                    "reason": reason,
                }});
                (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
            }
            ApiError::Internal(cause) => {
                let request_id = ulid::Ulid::new().to_string();
                tracing::error!(request_id, cause, "api.request failed");
                let message = format!("internal error; quote request id {request_id}");
                let body = json!({"error": {"code": "internal", "message": message}});
                (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
            }
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> ApiError {
        ApiError::Internal(error.to_string())
    }
}

impl From<PluginError> for ApiError {
    fn from(error: PluginError) -> ApiError {
        // A published app whose block type no loaded plugin provides is the
        // server's problem (a plugin file removed or refused), not the
        // submitter's: it fails like any other validator, reason `unknown`.
        ApiError::Validator {
            message: format!("a validator failed: {error}"),
            plugin: error.plugin().map(str::to_owned),
            reason: error.reason(),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        let message = error.to_string();
        match error {
            AppError::NotFound(_) | AppError::VersionNotFound { .. } => {
                ApiError::client(StatusCode::NOT_FOUND, "not_found", message)
            }
            AppError::AlreadyExists(_) | AppError::NotPublished(_) | AppError::NoDraft(_) => {
                ApiError::client(StatusCode::CONFLICT, "conflict", message)
            }
            AppError::Invalid(errors) => ApiError::invalid(message, errors),
            AppError::Plugin(error) => error.into(),
            AppError::Storage(error) => error.into(),
        }
    }
}

impl From<SubmissionError> for ApiError {
    fn from(error: SubmissionError) -> ApiError {
        let message = error.to_string();
        match error {
            SubmissionError::App(error) => error.into(),
            SubmissionError::NotFound(_) => {
                ApiError::client(StatusCode::NOT_FOUND, "not_found", message)
            }
            SubmissionError::Conflict { .. } => {
                ApiError::client(StatusCode::CONFLICT, "conflict", message)
            }
            SubmissionError::BatchTooLarge { .. } => {
                let errors = vec![FieldError::new("submissions", "max-rows", message.clone())];
                ApiError::Client {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    code: "batch_too_large",
                    message,
                    errors,
                }
            }
            SubmissionError::Invalid(errors) => ApiError::invalid(message, errors),
            SubmissionError::Plugin(error) => error.into(),
            SubmissionError::Storage(error) => error.into(),
        }
    }
}

impl From<AnalyticsError> for ApiError {
    fn from(error: AnalyticsError) -> ApiError {
        let message = error.to_string();
        match error {
            AnalyticsError::Invalid(errors) => ApiError::invalid(message, errors),
            AnalyticsError::App(error) => error.into(),
            AnalyticsError::Storage(error) => error.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
