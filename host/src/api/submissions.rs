//! Handlers for submissions and aggregations.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value as Json_, json};

use super::json::Body;
use super::params::{Path, Query};
use super::{ApiError, AppState};
use crate::analytics::{AggregateRequest, AggregateResponse};
use crate::auth::Caller;
use crate::filter::Filter;
use crate::submissions::{NewSubmission, Page, RowOutcome, Submission, ValuesPatch};

/// Rows per page unless asked otherwise, and the most a page may hold.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1_000;

pub async fn create(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
    Body(row): Body<NewSubmission>,
) -> Result<(StatusCode, Json<Submission>), ApiError> {
    match server.submissions.create(&caller, &app, row).await? {
        RowOutcome::Created { submission } => Ok((StatusCode::CREATED, Json(submission))),
        RowOutcome::Existing { submission } => Ok((StatusCode::OK, Json(submission))),
        RowOutcome::Rejected { errors }
            if errors
                .iter()
                .any(|e| e.rule == "conflict" || e.rule == "deleted") =>
        {
            let message = errors[0].message.clone();
            Err(ApiError::client(StatusCode::CONFLICT, "conflict", message))
        }
        RowOutcome::Rejected { errors } => Err(ApiError::invalid(
            "the submission breaks the app's rules",
            errors,
        )),
    }
}

/// The body of a batch create.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    submissions: Vec<NewSubmission>,
}

pub async fn create_batch(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
    Body(batch): Body<Batch>,
) -> Result<Json<Json_>, ApiError> {
    let outcomes = server
        .submissions
        .create_batch(&caller, &app, batch.submissions)
        .await?;
    let mut counts = [0usize; 3];
    let results: Vec<Json_> = outcomes
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            RowOutcome::Created { submission } => {
                counts[0] += 1;
                json!({"index": index, "status": "created", "id": submission.id})
            }
            RowOutcome::Existing { submission } => {
                counts[1] += 1;
                json!({"index": index, "status": "existing", "id": submission.id})
            }
            RowOutcome::Rejected { errors } => {
                counts[2] += 1;
                json!({"index": index, "status": "rejected", "errors": errors})
            }
        })
        .collect();
    Ok(Json(json!({
        "created": counts[0],
        "existing": counts[1],
        "rejected": counts[2],
        "results": results,
    })))
}

/// Paging parameters of a list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    after: Option<String>,
    limit: Option<usize>,
}

pub async fn list(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
    Query(paging): Query<Paging>,
) -> Result<Json<Page>, ApiError> {
    let query = ListQuery {
        after: paging.after,
        limit: paging.limit,
        filter: None,
    };
    run_list(server, caller, app, query).await
}

/// The body of a filtered list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    filter: Option<Json_>,
}

pub async fn query(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
    Body(query): Body<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    run_list(server, caller, app, query).await
}

async fn run_list(
    server: AppState,
    caller: Caller,
    app: String,
    query: ListQuery,
) -> Result<Json<Page>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        let message = format!("limit must be 1 to {MAX_PAGE}");
        let errors = vec![crate::field_error::FieldError::new(
            "limit",
            "range",
            message.clone(),
        )];
        return Err(ApiError::invalid(message, errors));
    }
    // Ids are stored in the canonical upper-case ULID form; anything else
    // would start the walk at an arbitrary place.
    let after = match query.after.as_deref().map(ulid::Ulid::from_string) {
        Some(Ok(id)) => Some(id.to_string()),
        Some(Err(_)) => {
            let message = "after must be the next_cursor of an earlier page";
            let errors = vec![crate::field_error::FieldError::new(
                "after", "ulid", message,
            )];
            return Err(ApiError::invalid(message, errors));
        }
        None => None,
    };
    let filter = match &query.filter {
        Some(raw) => {
            let live = server.apps.live(&caller.org.id, &app)?;
            let parsed = Filter::parse(raw, &live, caller.time_zone())
                .map_err(|e| ApiError::invalid("the filter is not valid", vec![e]))?;
            Some(parsed)
        }
        None => None,
    };
    let page = tokio::task::spawn_blocking(move || {
        server.submissions.list(
            &caller.org.id,
            &app,
            after.as_deref(),
            limit,
            filter.as_ref(),
        )
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(page))
}

pub async fn get(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((app, id)): Path<(String, String)>,
) -> Result<Json<Submission>, ApiError> {
    Ok(Json(server.submissions.get(&caller.org.id, &app, &id)?))
}

pub async fn history(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((app, id)): Path<(String, String)>,
) -> Result<Json<Json_>, ApiError> {
    let revisions = server.submissions.history(&caller.org.id, &app, &id)?;
    Ok(Json(json!({ "revisions": revisions })))
}

pub async fn edit(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((app, id)): Path<(String, String)>,
    Body(patch): Body<ValuesPatch>,
) -> Result<Json<Submission>, ApiError> {
    Ok(Json(
        server.submissions.edit(&caller, &app, &id, patch).await?,
    ))
}

pub async fn delete(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((app, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    server.submissions.delete(&caller, &app, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn aggregate(
    State(server): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(app): Path<String>,
    Body(request): Body<AggregateRequest>,
) -> Result<Json<AggregateResponse>, ApiError> {
    let response =
        tokio::task::spawn_blocking(move || server.analytics.aggregate(&caller, &app, request))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))??;
    Ok(Json(response))
}
