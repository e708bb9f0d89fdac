//! Aggregations: metrics over an app's submissions, grouped by block values
//! and calendar periods, under a filter.
//!
//! A request becomes one tantivy aggregation: a `terms` bucket level per
//! group (calendar groups read the precomputed `calendar` columns) with the
//! metrics inside. Buckets come back flattened into rows.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::AggregationResults;
use tantivy::aggregation::{AggContextParams, AggregationCollector, AggregationLimitsGuard};
use tantivy::collector::Count;

use super::calendar::Interval;
use super::indexer::{Analytics, AnalyticsError};
use super::query::app_query;
use crate::apps::AppVersion;
use crate::auth::Caller;
use crate::field_error::FieldError;
use crate::filter::Filter;
use crate::values::ValueKind;

/// Most groups one request may return.
const MAX_GROUPS: usize = 10_000;

/// An aggregation request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateRequest {
    /// What to compute; `[{"op": "count"}]` when absent.
    #[serde(default)]
    pub metrics: Vec<MetricInput>,
    /// Up to two groupings, outer first.
    #[serde(default)]
    pub group_by: Vec<GroupInput>,
    #[serde(default)]
    pub filter: Option<Json>,
    /// Most groups per level; default 1,000, at most 10,000.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// One metric: `count`, or `sum`/`avg`/`min`/`max` of a number block.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricInput {
    pub op: MetricOp,
    #[serde(default)]
    pub field: Option<String>,
}

/// A metric operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricOp {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

/// Group by a block's values, or by calendar period of a date block.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    pub field: String,
    #[serde(default)]
    pub interval: Option<Interval>,
}

/// Rows of groups, each with its key and metrics.
#[derive(Debug, Serialize)]
pub struct AggregateResponse {
    pub groups: Vec<Json>,
    /// Some grouping had more distinct values than `limit`: the groups
    /// with the smallest keys were kept and the rest left out.
    pub truncated: bool,
}

/// A checked request, ready to run.
struct Plan {
    metrics: Vec<(String, MetricOp, Option<String>)>,
    groups: Vec<(String, Option<Interval>)>,
    filter: Option<Filter>,
    limit: usize,
}

impl Analytics {
    /// Runs an aggregation over the live index.
    pub fn aggregate(
        &self,
        caller: &Caller,
        app: &str,
        request: AggregateRequest,
    ) -> Result<AggregateResponse, AnalyticsError> {
        let live = self.apps.live(&caller.org.id, app)?;
        let plan = plan(request, &live, caller.time_zone()).map_err(AnalyticsError::Invalid)?;
        let query = app_query(&self.fields, &caller.org.id, app, plan.filter.as_ref());
        let searcher = self.reader.searcher();

        let aggregations = tantivy_request(&plan);
        let results = if aggregations.is_empty() {
            AggregationResults::default()
        } else {
            let aggs: Aggregations = serde_json::from_value(Json::Object(aggregations))
                .expect("the request is built from checked parts");
            let context = AggContextParams::new(
                AggregationLimitsGuard::default(),
                self.index.tokenizers().clone(),
            );
            let collector = AggregationCollector::from_aggs(aggs, context);
            searcher.search(&query, &collector)?
        };
        let results = serde_json::to_value(results).expect("results serialise");

        let mut truncated = false;
        let groups = if plan.groups.is_empty() {
            let count = searcher.search(&query, &Count)?;
            vec![row(&plan, Map::new(), count as u64, &results)]
        } else {
            let mut rows = Vec::new();
            flatten(&plan, 0, &results, Map::new(), &mut rows, &mut truncated);
            rows
        };
        Ok(AggregateResponse { groups, truncated })
    }
}

fn plan(
    request: AggregateRequest,
    live: &AppVersion,
    tz: chrono_tz::Tz,
) -> Result<Plan, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut metrics = Vec::new();
    let inputs = if request.metrics.is_empty() {
        vec![MetricInput {
            op: MetricOp::Count,
            field: None,
        }]
    } else {
        request.metrics
    };
    for (i, metric) in inputs.into_iter().enumerate() {
        match check_metric(i, &metric, live) {
            Ok(name) => metrics.push((name, metric.op, metric.field)),
            Err(error) => errors.push(error),
        }
    }

    if request.group_by.len() > 2 {
        errors.push(FieldError::new(
            "group_by",
            "max-groups",
            "may hold at most two groupings",
        ));
    }
    let mut groups = Vec::new();
    for (i, group) in request.group_by.into_iter().enumerate() {
        match check_group(i, &group, live) {
            Ok(()) => groups.push((group.field, group.interval)),
            Err(error) => errors.push(error),
        }
    }

    let filter = match request.filter.as_ref().map(|f| Filter::parse(f, live, tz)) {
        Some(Err(error)) => {
            errors.push(error);
            None
        }
        Some(Ok(filter)) => Some(filter),
        None => None,
    };
    let limit = request.limit.unwrap_or(1_000);
    if limit == 0 || limit > MAX_GROUPS {
        errors.push(FieldError::new(
            "limit",
            "range",
            format!("must be 1 to {MAX_GROUPS}"),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Plan {
        metrics,
        groups,
        filter,
        limit,
    })
}

fn check_metric(i: usize, metric: &MetricInput, live: &AppVersion) -> Result<String, FieldError> {
    let at = format!("metrics[{i}].field");
    match (metric.op, &metric.field) {
        (MetricOp::Count, None) => Ok("count".into()),
        (MetricOp::Count, Some(_)) => Err(FieldError::new(at, "shape", "count takes no field")),
        (_, None) => Err(FieldError::new(
            at,
            "required",
            "names the number block to compute on",
        )),
        (op, Some(field)) => match live.block(field) {
            Some(block) if block.kind == ValueKind::Number => {
                Ok(format!("{}_{field}", op_name(op)))
            }
            Some(_) => Err(FieldError::new(
                at,
                "type",
                format!("{field:?} is not a number block"),
            )),
            None => Err(FieldError::new(
                at,
                "unknown-block",
                format!("no block {field:?}"),
            )),
        },
    }
}

fn check_group(i: usize, group: &GroupInput, live: &AppVersion) -> Result<(), FieldError> {
    let at = format!("group_by[{i}]");
    let Some(block) = live.block(&group.field) else {
        let message = format!("no block {:?}", group.field);
        return Err(FieldError::new(
            format!("{at}.field"),
            "unknown-block",
            message,
        ));
    };
    let dated = matches!(block.kind, ValueKind::Date | ValueKind::Datetime);
    let groupable = matches!(
        block.kind,
        ValueKind::Text | ValueKind::TextList | ValueKind::Number | ValueKind::Boolean
    );
    match (group.interval, dated, groupable) {
        (Some(_), true, _) | (None, false, true) => Ok(()),
        (Some(_), false, _) => {
            let message = "an interval needs a date or date-time block";
            Err(FieldError::new(format!("{at}.interval"), "type", message))
        }
        (None, true, _) => {
            let message = "a date block is grouped by interval: day, week or month";
            Err(FieldError::new(
                format!("{at}.interval"),
                "required",
                message,
            ))
        }
        (None, false, false) => {
            let message = format!("{:?} cannot be grouped", group.field);
            Err(FieldError::new(format!("{at}.field"), "type", message))
        }
    }
}

fn op_name(op: MetricOp) -> &'static str {
    match op {
        MetricOp::Count => "count",
        MetricOp::Sum => "sum",
        MetricOp::Avg => "avg",
        MetricOp::Min => "min",
        MetricOp::Max => "max",
    }
}

/// The tantivy (Elasticsearch-style) aggregation request.
fn tantivy_request(plan: &Plan) -> Map<String, Json> {
    let mut level = metric_aggs(plan);
    for (depth, (field, interval)) in plan.groups.iter().enumerate().rev() {
        let path = match interval {
            Some(interval) => format!("calendar.{field}.{}", interval.name()),
            None => format!("values.{field}"),
        };
        let mut terms = json!({"terms": {
            "field": path,
            "size": plan.limit,
            "order": {"_key": "asc"},
        }});
        if !level.is_empty() {
            terms["aggs"] = Json::Object(level);
        }
        level = Map::from_iter([(format!("g{depth}"), terms)]);
    }
    level
}

fn metric_aggs(plan: &Plan) -> Map<String, Json> {
    plan.metrics
        .iter()
        .enumerate()
        .filter_map(|(i, (_, op, field))| {
            let field = format!("values.{}", field.as_ref()?);
            Some((format!("m{i}"), json!({op_name(*op): {"field": field}})))
        })
        .collect()
}

fn flatten(
    plan: &Plan,
    depth: usize,
    level: &Json,
    key: Map<String, Json>,
    rows: &mut Vec<Json>,
    truncated: &mut bool,
) {
    let (field, interval) = &plan.groups[depth];
    let grouping = &level[format!("g{depth}")];
    *truncated |= grouping["sum_other_doc_count"].as_u64().unwrap_or(0) > 0;
    let buckets = grouping["buckets"].as_array().cloned().unwrap_or_default();
    for bucket in buckets {
        let mut key = key.clone();
        key.insert(field.clone(), bucket_key(&bucket["key"], *interval));
        if depth + 1 < plan.groups.len() {
            flatten(plan, depth + 1, &bucket, key, rows, truncated);
        } else {
            let count = bucket["doc_count"].as_u64().unwrap_or(0);
            rows.push(row(plan, key, count, &bucket));
        }
    }
}

fn bucket_key(key: &Json, interval: Option<Interval>) -> Json {
    match (interval, key.as_f64()) {
        (Some(interval), Some(number)) => json!(interval.label(number as i64)),
        _ => key.clone(),
    }
}

fn row(plan: &Plan, key: Map<String, Json>, count: u64, level: &Json) -> Json {
    let mut row = Map::new();
    row.insert("key".into(), Json::Object(key));
    for (i, (name, op, _)) in plan.metrics.iter().enumerate() {
        let value = match op {
            MetricOp::Count => json!(count),
            _ => level[format!("m{i}")]["value"].clone(),
        };
        row.insert(name.clone(), value);
    }
    Json::Object(row)
}
