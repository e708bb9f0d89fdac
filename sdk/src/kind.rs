//! Which values belong to which [`ValueKind`].

use crate::{Scalar, Value, ValueKind};

/// Whether the person left the block blank: no value, or a list with no
/// items. The host, not the plugin, decides whether blank is allowed.
pub(crate) fn is_blank(value: &Value) -> bool {
    match value {
        Value::Empty => true,
        Value::List(items) => items.is_empty(),
        _ => false,
    }
}

/// Whether `value` is of `kind`, so a plugin can match on one variant.
pub(crate) fn holds(kind: ValueKind, value: &Value) -> bool {
    match (kind, value) {
        (ValueKind::Text, Value::Text(_))
        | (ValueKind::Number, Value::Number(_))
        | (ValueKind::Boolean, Value::Boolean(_))
        | (ValueKind::Date, Value::Date(_))
        | (ValueKind::Time, Value::Time(_))
        | (ValueKind::Datetime, Value::Datetime(_))
        | (ValueKind::Gps, Value::Gps(_))
        | (ValueKind::File, Value::File(_)) => true,
        (ValueKind::TextList, Value::List(items)) => {
            items.iter().all(|item| matches!(item, Scalar::Text(_)))
        }
        (ValueKind::FileList, Value::List(items)) => {
            items.iter().all(|item| matches!(item, Scalar::File(_)))
        }
        _ => false,
    }
}

/// What a value of `kind` is, to end "must be …".
pub(crate) fn noun(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Text => "text",
        ValueKind::Number => "a number",
        ValueKind::Boolean => "yes or no",
        ValueKind::Date => "a date",
        ValueKind::Time => "a time of day",
        ValueKind::Datetime => "a date and time",
        ValueKind::Gps => "a GPS position",
        ValueKind::File => "a file",
        ValueKind::TextList => "a list of texts",
        ValueKind::FileList => "a list of files",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_is_blank_but_an_empty_text_is_not() {
        assert!(is_blank(&Value::Empty));
        assert!(is_blank(&Value::List(Vec::new())));
        assert!(!is_blank(&Value::Text(String::new())));
    }

    #[test]
    fn a_text_list_holds_only_texts() {
        let texts = Value::List(vec![Scalar::Text("a".into()), Scalar::Text("b".into())]);
        let mixed = Value::List(vec![Scalar::Text("a".into()), Scalar::Number(1.0)]);
        assert!(holds(ValueKind::TextList, &texts));
        assert!(!holds(ValueKind::TextList, &mixed));
        assert!(!holds(ValueKind::FileList, &texts));
    }

    #[test]
    fn a_number_is_not_text() {
        assert!(holds(ValueKind::Number, &Value::Number(1.0)));
        assert!(!holds(ValueKind::Text, &Value::Number(1.0)));
    }
}
