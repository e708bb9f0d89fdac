//! A regular expression that must match a whole value.

use std::fmt;

use regex::Regex;
use serde::Deserialize;

/// A pattern from a config, compiled once, matched against whole values.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Pattern {
    source: String,
    whole: Regex,
}

impl Pattern {
    /// Whether `text`, from its first to its last character, matches.
    pub fn matches(&self, text: &str) -> bool {
        self.whole.is_match(text)
    }
}

impl TryFrom<String> for Pattern {
    type Error = String;

    fn try_from(source: String) -> Result<Self, String> {
        // Compiling the source alone first proves its groups are balanced,
        // so wrapping it cannot change what it means ("a)|(b" would).
        Regex::new(&source).map_err(|error| format!("pattern is not valid: {error}"))?;
        let whole = Regex::new(&format!(r"\A(?:{source})\z"))
            .map_err(|error| format!("pattern is not valid: {error}"))?;
        Ok(Self { source, whole })
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(source: &str) -> Pattern {
        Pattern::try_from(source.to_owned()).unwrap()
    }

    #[test]
    fn matches_only_the_whole_value() {
        let three_digits = pattern(r"\d{3}");
        assert!(three_digits.matches("123"));
        assert!(!three_digits.matches("1234"));
        assert!(!three_digits.matches("a123"));
    }

    #[test]
    fn an_alternation_must_match_the_whole_value_in_every_branch() {
        let either = pattern("a|ab");
        assert!(either.matches("ab"));
        assert!(!either.matches("abc"));
    }

    #[test]
    fn inline_flags_apply() {
        assert!(pattern("(?i)abc").matches("ABC"));
    }

    #[test]
    fn a_source_that_would_escape_its_group_is_rejected() {
        assert!(Pattern::try_from("a)|(b".to_owned()).is_err());
    }
}
