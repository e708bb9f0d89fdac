//! A `core/choice` block's config and what makes it sound.

use serde::Deserialize;

/// A `core/choice` block's config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceConfig {
    /// The options, in the order the form shows them.
    pub options: Vec<String>,
    /// Whether several options may be chosen.
    #[serde(default)]
    pub multiple: bool,
    /// Fewest options chosen, with `multiple`.
    pub min_selected: Option<usize>,
    /// Most options chosen, with `multiple`.
    pub max_selected: Option<usize>,
}

impl ChoiceConfig {
    /// Why an admin must fix this config, if they must.
    pub fn check(&self) -> Result<(), String> {
        self.check_options()?;
        if !self.multiple && (self.min_selected.is_some() || self.max_selected.is_some()) {
            return Err("min_selected and max_selected need \"multiple\": true".to_owned());
        }
        if let (Some(min), Some(max)) = (self.min_selected, self.max_selected)
            && min > max
        {
            return Err(format!(
                "min_selected ({min}) must not be greater than max_selected ({max})"
            ));
        }
        match self.min_selected {
            Some(min) if min > self.options.len() => Err(format!(
                "min_selected ({min}) must not be greater than the number of options ({})",
                self.options.len()
            )),
            _ => Ok(()),
        }
    }

    fn check_options(&self) -> Result<(), String> {
        if self.options.is_empty() {
            return Err("options must list at least one option".to_owned());
        }
        if self.options.iter().any(|option| option.trim().is_empty()) {
            return Err("options must not contain a blank option".to_owned());
        }
        for (index, option) in self.options.iter().enumerate() {
            if self.options[..index].contains(option) {
                return Err(format!("options lists “{option}” more than once"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tessera_sdk::testing;

    use crate::Choice;

    fn check(json: &str) -> Result<(), String> {
        testing::check_config::<Choice>(json).map(|_| ())
    }

    #[test]
    fn options_are_required_non_empty_and_distinct() {
        assert!(check("{}").unwrap_err().contains("missing field `options`"));
        assert_eq!(
            check(r#"{"options": []}"#),
            Err("options must list at least one option".into())
        );
        assert_eq!(
            check(r#"{"options": ["A", " "]}"#),
            Err("options must not contain a blank option".into())
        );
        assert_eq!(
            check(r#"{"options": ["A", "B", "A"]}"#),
            Err("options lists “A” more than once".into())
        );
    }

    #[test]
    fn counts_need_multiple_and_must_be_possible() {
        assert!(check(r#"{"options": ["A"], "max_selected": 1}"#).is_err());
        let backwards =
            r#"{"options": ["A", "B"], "multiple": true, "min_selected": 2, "max_selected": 1}"#;
        assert!(check(backwards).is_err());
        let too_many = r#"{"options": ["A", "B"], "multiple": true, "min_selected": 3}"#;
        assert!(check(too_many).is_err());
        assert!(check(r#"{"options": ["A", "B"], "multiple": true, "min_selected": 2}"#).is_ok());
    }
}
