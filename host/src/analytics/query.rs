//! Filters as tantivy queries.
//!
//! Every comparison is a range over the fast column of the block's JSON
//! path; equality is the range from the value to itself.

use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

use super::schema::IndexFields;
use crate::filter::{Filter, Op, Operand};

/// Documents of one app, narrowed by an optional filter.
pub fn app_query(
    fields: &IndexFields,
    org: &str,
    app: &str,
    filter: Option<&Filter>,
) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
        (Occur::Must, exact(fields.org, org)),
        (Occur::Must, exact(fields.app, app)),
    ];
    if let Some(filter) = filter {
        clauses.push((Occur::Must, filter_query(fields.values, filter)));
    }
    Box::new(BooleanQuery::new(clauses))
}

fn exact(field: Field, text: &str) -> Box<dyn Query> {
    let term = Term::from_field_text(field, text);
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

fn filter_query(values: Field, filter: &Filter) -> Box<dyn Query> {
    match filter {
        // An empty AND holds for every row, as it does for lists; a boolean
        // query without clauses would match none.
        Filter::And(all) if all.is_empty() => Box::new(AllQuery),
        Filter::And(all) => combine(values, all, Occur::Must),
        Filter::Or(any) => combine(values, any, Occur::Should),
        Filter::Compare {
            field, op, value, ..
        } => compare(values, field, *op, value),
    }
}

fn combine(values: Field, filters: &[Filter], occur: Occur) -> Box<dyn Query> {
    let clauses = filters
        .iter()
        .map(|filter| (occur, filter_query(values, filter)))
        .collect();
    Box::new(BooleanQuery::new(clauses))
}

fn compare(values: Field, path: &str, op: Op, operand: &Operand) -> Box<dyn Query> {
    let term = json_term(values, path, operand);
    let (lower, upper) = match op {
        Op::Eq => (Bound::Included(term.clone()), Bound::Included(term)),
        Op::Gt => (Bound::Excluded(term), Bound::Unbounded),
        Op::Gte => (Bound::Included(term), Bound::Unbounded),
        Op::Lt => (Bound::Unbounded, Bound::Excluded(term)),
        Op::Lte => (Bound::Unbounded, Bound::Included(term)),
    };
    Box::new(RangeQuery::new(lower, upper))
}

fn json_term(values: Field, path: &str, operand: &Operand) -> Term {
    let mut term = Term::from_field_json_path(values, path, false);
    match operand {
        Operand::Text(text) => term.append_type_and_str(text),
        Operand::Number(number) => term.append_type_and_fast_value(*number),
        Operand::Boolean(flag) => term.append_type_and_fast_value(*flag),
        Operand::Date(n) | Operand::Time(n) | Operand::Instant(n) => {
            term.append_type_and_fast_value(*n)
        }
    }
    term
}
