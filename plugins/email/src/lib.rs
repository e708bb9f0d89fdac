//! `core/email`: email addresses, optionally from allowed domains.
//!
//! Config, every key optional (`{}` accepts any address):
//!
//! ```json
//! {"allowed_domains": ["example.com", "example.org"]}
//! ```
//!
//! The syntax is RFC 5322's `addr-spec`, as the `email_address` crate reads
//! it, with three limits that suit a form: the address stands alone (no
//! display name such as `Ann <ann@example.com>`), the domain is a name and
//! not an IP literal, and the name has at least two labels (`ann@localhost`
//! is refused). Domains compare without regard to case and must match
//! exactly: `mail.example.com` is not `example.com`. Rules: `format`,
//! `domain`.

use email_address::{EmailAddress, Options};
use serde::Deserialize;
use tessera_sdk::{Rule, Validator, Value, ValueKind};

/// The `core/email` block type.
pub struct Email;

/// A `core/email` block's config.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The only domains addresses may have, when set.
    pub allowed_domains: Option<Vec<String>>,
}

impl Validator for Email {
    type Config = EmailConfig;
    const BLOCK_TYPE: &'static str = "core/email";
    const DESCRIPTION: &'static str = "An email address, optionally from allowed domains";

    fn value_kind(_config: &EmailConfig) -> ValueKind {
        ValueKind::Text
    }

    fn check_config(config: &EmailConfig) -> Result<(), String> {
        let Some(domains) = &config.allowed_domains else {
            return Ok(());
        };
        if domains.is_empty() {
            return Err("allowed_domains must name at least one domain".to_owned());
        }
        match domains
            .iter()
            .find(|domain| !EmailAddress::is_valid_domain(domain))
        {
            Some(domain) => Err(format!("allowed_domains: “{domain}” is not a domain name")),
            None => Ok(()),
        }
    }

    fn validate(config: &EmailConfig, value: &Value) -> Option<Rule> {
        let Value::Text(text) = value else {
            return None;
        };
        check(config, text)
    }
}

tessera_sdk::register!(Email);

/// The first rule `text` breaks, if any.
pub fn check(config: &EmailConfig, text: &str) -> Option<Rule> {
    let form = Options::default()
        .with_required_tld()
        .without_domain_literal()
        .without_display_text();
    let Ok(address) = EmailAddress::parse_with_options(text, form) else {
        return Some(Rule::new("format", "is not a valid email address"));
    };

    let allowed = config.allowed_domains.as_deref()?;
    let domain = address.domain().to_lowercase();
    if allowed
        .iter()
        .any(|allowed| allowed.to_lowercase() == domain)
    {
        return None;
    }
    let message = match allowed {
        [only] => format!("must be an email address at {only}"),
        _ => format!("must be an email address at one of: {}", allowed.join(", ")),
    };
    Some(Rule::new("domain", message))
}

#[cfg(test)]
mod tests {
    use tessera_sdk::testing;

    use super::*;

    fn code(config: &str, text: &str) -> Option<&'static str> {
        check(&testing::config::<Email>(config).unwrap(), text).map(|rule| rule.code)
    }

    #[test]
    fn accepts_the_addresses_of_rfc_5322_appendix_a() {
        for address in ["jdoe@one.test", "mary@x.test", "john.q.public@example.com"] {
            assert_eq!(code("{}", address), None, "{address}");
        }
    }

    #[test]
    fn accepts_the_unusual_but_valid_addresses_of_rfc_3696_section_3() {
        let valid = [
            r#""Abc@def"@example.com"#,
            "customer/department=shipping@example.com",
            "$A12345@example.com",
            "!def!xyz%abc@example.com",
            "_somename@example.com",
        ];
        for address in valid {
            assert_eq!(code("{}", address), None, "{address}");
        }
    }

    #[test]
    fn rejects_addresses_without_one_unquoted_at_sign() {
        let invalid = [
            "Abc.example.com",
            "A@b@c@example.com",
            "a\"b(c)d,e:f;g<h>i@example.com",
        ];
        for address in invalid {
            assert_eq!(code("{}", address), Some("format"), "{address}");
        }
    }

    #[test]
    fn rejects_a_display_name_an_ip_literal_and_a_one_label_domain() {
        // RFC 5322 appendix A.1.2 writes this mailbox with a display name.
        assert_eq!(
            code("{}", "Joe Q. Public <john.q.public@example.com>"),
            Some("format")
        );
        assert_eq!(code("{}", "jdoe@[192.0.2.1]"), Some("format"));
        assert_eq!(code("{}", "jdoe@localhost"), Some("format"));
    }

    #[test]
    fn allowed_domains_compare_without_case_and_exactly() {
        let config = r#"{"allowed_domains": ["Example.com", "example.org"]}"#;
        assert_eq!(code(config, "ann@EXAMPLE.COM"), None);
        assert_eq!(code(config, "ann@example.org"), None);
        assert_eq!(code(config, "ann@mail.example.com"), Some("domain"));
    }

    #[test]
    fn the_domain_message_lists_the_allowed_domains() {
        let one = testing::config::<Email>(r#"{"allowed_domains": ["example.com"]}"#).unwrap();
        let message = check(&one, "ann@example.net").unwrap().message;
        assert_eq!(message, "must be an email address at example.com");
    }

    #[test]
    fn an_empty_or_malformed_domain_list_is_a_config_error() {
        assert!(testing::check_config::<Email>(r#"{"allowed_domains": []}"#).is_err());
        assert!(
            testing::check_config::<Email>(r#"{"allowed_domains": ["@example.com"]}"#).is_err()
        );
    }
}
