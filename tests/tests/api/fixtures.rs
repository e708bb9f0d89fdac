//! The apps and the data the tests send, with what a correct server must
//! make of them worked out by hand in the comments.

use serde_json::{Value as Json, json};

/// An app with a block of each core plugin the tests use.
pub fn inspections() -> Json {
    json!({"id": "inspections", "name": "Inspections", "publish": true, "blocks": [
        {"key": "site", "type": "core/text", "required": true, "config": {"max_length": 10}},
        {"key": "code", "type": "core/text", "config": {"pattern": "[A-Z]{3}-[0-9]{2}"}},
        {"key": "count", "type": "core/number", "config": {"min": 0, "integer": true}},
        {"key": "contact", "type": "core/email"},
        {"key": "hazards", "type": "core/choice",
            "config": {"options": ["fire", "flood", "gas"], "multiple": true}},
        {"key": "seen_at", "type": "core/datetime",
            "config": {"kind": "datetime", "min": "2020-01-01T00:00:00Z"}},
        {"key": "position", "type": "core/gps"},
        {"key": "product", "type": "core/barcode", "config": {"formats": ["ean-13"]}}]})
}

/// Values every `inspections` rule accepts, written in their canonical form.
pub fn valid_inspection() -> Json {
    json!({"site": "Depot", "code": "ABC-12", "count": 3, "contact": "ann@example.com",
        "hazards": ["fire", "gas"], "seen_at": "2024-05-01T09:30:00Z",
        "position": {"latitude": 48.8584, "longitude": 2.2945}, "product": "4006381333931"})
}

/// The GS1 check digit of the first twelve digits of an EAN-13 (GS1
/// General Specifications 7.9): weights 1 and 3 from the left, then the
/// digit that brings the sum to a multiple of ten.
pub fn ean_13_check_digit(first_twelve: &str) -> u32 {
    let weighted = |(i, c): (usize, char)| c.to_digit(10).unwrap() * if i % 2 == 0 { 1 } else { 3 };
    let sum: u32 = first_twelve.chars().enumerate().map(weighted).sum();
    (10 - sum % 10) % 10
}

pub fn orders_app() -> Json {
    json!({"id": "orders", "name": "Orders", "publish": true, "blocks": [
        {"key": "customer", "type": "core/text", "required": true},
        {"key": "total", "type": "core/number"},
        {"key": "placed", "type": "core/datetime", "config": {"kind": "datetime"}},
        {"key": "tags", "type": "core/choice",
            "config": {"options": ["gift", "rush", "bulk"], "multiple": true}}]})
}

/// Orders in creation order, for an org in Tokyo (UTC+9 all year).
pub fn orders() -> Vec<Json> {
    vec![
        // 0: 2024-06-01 23:59:59 in Tokyo.
        json!({"customer": "ann", "total": 12.5, "placed": "2024-06-01T14:59:59Z",
            "tags": ["gift"]}),
        // 1: 2024-06-02 00:00 in Tokyo.
        json!({"customer": "bob", "total": 40, "placed": "2024-06-01T15:00:00Z",
            "tags": ["rush"]}),
        // 2: 2024-06-02 12:00 in Tokyo.
        json!({"customer": "ann", "total": 7, "placed": "2024-06-02T03:00:00Z", "tags": []}),
        // 3: 2024-06-03 00:00 in Tokyo, sent with its offset.
        json!({"customer": "cy", "total": 99.99, "placed": "2024-06-03T00:00:00+09:00",
            "tags": ["gift", "bulk"]}),
        // 4: no date.
        json!({"customer": "bob", "total": 0, "tags": ["bulk"]}),
        // 5: 2024-06-01 05:00 in Tokyo.
        json!({"customer": "dee", "total": 55, "placed": "2024-05-31T20:00:00Z",
            "tags": ["rush", "gift"]}),
        // 6: 2024-06-02 23:30 in Tokyo, sent as local time without offset.
        json!({"customer": "ann", "total": 40, "placed": "2024-06-02T23:30:00",
            "tags": ["rush"]}),
    ]
}

/// Filters over `orders`, with the positions of the orders each selects.
pub fn order_filters() -> Vec<(Json, Vec<usize>)> {
    let customer = |name: &str| json!({"field": "customer", "eq": name});
    vec![
        (customer("ann"), vec![0, 2, 6]),
        (json!({"field": "customer", "gt": "bob"}), vec![3, 5]),
        (json!({"field": "total", "eq": 40}), vec![1, 6]),
        (
            json!({"field": "total", "gte": 12.5, "lt": 55}),
            vec![0, 1, 6],
        ),
        (json!({"field": "total", "lte": 7}), vec![2, 4]),
        // The Tokyo day 2024-06-02 runs from 2024-06-01T15:00Z up to
        // 2024-06-02T15:00Z.
        (
            json!({"field": "placed", "gte": "2024-06-02", "lt": "2024-06-03"}),
            vec![1, 2, 6],
        ),
        // Local 05:00 is 2024-05-31T20:00Z.
        (
            json!({"field": "placed", "lte": "2024-06-01T05:00:00"}),
            vec![5],
        ),
        (
            json!({"field": "placed", "gt": "2024-06-02T23:30:00+09:00"}),
            vec![3],
        ),
        (json!({"field": "tags", "eq": "gift"}), vec![0, 3, 5]),
        (
            json!({"or": [{"and": [customer("bob"), {"field": "total", "gt": 0}]},
                {"field": "tags", "eq": "bulk"}]}),
            vec![1, 3, 4],
        ),
        (
            json!({"and": [{"or": [customer("ann"), customer("dee")]},
                {"field": "placed", "gte": "2024-06-02"}]}),
            vec![2, 6],
        ),
        (json!({"and": []}), vec![0, 1, 2, 3, 4, 5, 6]),
        (json!({"or": []}), vec![]),
    ]
}

pub fn sales_app() -> Json {
    json!({"id": "sales", "name": "Sales", "publish": true, "blocks": [
        {"key": "row", "type": "core/number", "required": true},
        {"key": "region", "type": "core/text", "required": true},
        {"key": "amount", "type": "core/number"},
        {"key": "at", "type": "core/datetime", "config": {"kind": "datetime"}}]})
}

/// Sales near midnight for an org in New York, which is UTC-5 until
/// daylight time begins on 2024-03-10 at 02:00, then UTC-4. 2024-03-01 was
/// a Friday. Local times and the Monday of each week in the comments.
pub fn sales() -> Vec<Json> {
    vec![
        // 2024-02-29 21:30 EST, a Thursday (week of 26 Feb): 1 March in UTC.
        json!({"row": 0, "region": "north", "amount": 10, "at": "2024-03-01T02:30:00Z"}),
        // 2024-03-01 07:00 EST (week of 26 Feb).
        json!({"row": 1, "region": "north", "amount": 20, "at": "2024-03-01T12:00:00Z"}),
        // 2024-03-03 23:59:59 EST, a Sunday: still the week of 26 Feb.
        json!({"row": 2, "region": "south", "amount": 5.5, "at": "2024-03-04T04:59:59Z"}),
        // 2024-03-04 00:00 EST, a Monday: a new week. No amount.
        json!({"row": 3, "region": "south", "at": "2024-03-04T05:00:00Z"}),
        // 2024-03-10 03:30 EDT, a Sunday (week of 4 March), after the clocks
        // went forward.
        json!({"row": 4, "region": "east", "amount": 100, "at": "2024-03-10T07:30:00Z"}),
        // No date.
        json!({"row": 5, "region": "east", "amount": -4}),
        // 2024-03-31 23:30 EDT, a Sunday (week of 25 March): 1 April in UTC.
        json!({"row": 6, "region": "west", "amount": 2.25, "at": "2024-03-31T23:30:00-04:00"}),
    ]
}
