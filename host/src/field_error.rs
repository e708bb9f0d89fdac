//! The one shape every rejected input takes: which field, which rule, and a
//! sentence saying what is wrong.

use serde::Serialize;

/// One broken rule in a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// Where the problem is: a block key, or a path such as `blocks[2].key`.
    pub field: String,
    /// A stable code a program can match on, such as `required` or `type`.
    pub rule: String,
    /// A sentence for a person.
    pub message: String,
}

impl FieldError {
    /// A new field error.
    pub fn new(field: impl Into<String>, rule: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            rule: rule.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.field, self.message, self.rule)
    }
}
