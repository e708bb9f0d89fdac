//! `core/url`: absolute URLs whose scheme is allowed.
//!
//! Config, every key optional (`{}` accepts `http` and `https` URLs):
//!
//! ```json
//! {"schemes": ["https", "mailto"]}
//! ```
//!
//! A value must be an absolute URL as the WHATWG URL Standard parses it (the
//! `url` crate): a relative reference such as `www.example.com` is refused.
//! Schemes compare without regard to case. Rules: `format`, `scheme`.

use serde::Deserialize;
use tessera_sdk::{Rule, Validator, Value, ValueKind};

/// The `core/url` block type.
pub struct Url;

/// A `core/url` block's config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlConfig {
    /// The schemes allowed; `["http", "https"]` when not set.
    #[serde(default = "web_schemes")]
    pub schemes: Vec<String>,
}

fn web_schemes() -> Vec<String> {
    vec!["http".to_owned(), "https".to_owned()]
}

impl Validator for Url {
    type Config = UrlConfig;
    const BLOCK_TYPE: &'static str = "core/url";
    const DESCRIPTION: &'static str = "A web address or other URL, with allowed schemes";

    fn value_kind(_config: &UrlConfig) -> ValueKind {
        ValueKind::Text
    }

    fn check_config(config: &UrlConfig) -> Result<(), String> {
        if config.schemes.is_empty() {
            return Err("schemes must name at least one scheme".to_owned());
        }
        match config.schemes.iter().find(|scheme| !is_scheme(scheme)) {
            Some(scheme) => Err(format!("schemes: “{scheme}” is not a URL scheme")),
            None => Ok(()),
        }
    }

    fn validate(config: &UrlConfig, value: &Value) -> Option<Rule> {
        let Value::Text(text) = value else {
            return None;
        };
        check(config, text)
    }
}

tessera_sdk::register!(Url);

/// The first rule `text` breaks, if any.
pub fn check(config: &UrlConfig, text: &str) -> Option<Rule> {
    let Ok(url) = url::Url::parse(text) else {
        return Some(Rule::new("format", "is not a valid URL"));
    };
    let allowed = &config.schemes;
    if allowed
        .iter()
        .any(|scheme| scheme.eq_ignore_ascii_case(url.scheme()))
    {
        return None;
    }
    let prefixes: Vec<String> = allowed.iter().map(|scheme| format!("{scheme}:")).collect();
    Some(Rule::new(
        "scheme",
        format!("must start with {}", either_of(&prefixes)),
    ))
}

/// RFC 3986: `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// "a", "a or b", "a, b or c".
fn either_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use tessera_sdk::testing;

    use super::*;

    /// The example URIs of RFC 3986, section 1.1.2.
    const RFC_3986_EXAMPLES: [&str; 8] = [
        "ftp://ftp.is.co.za/rfc/rfc1808.txt",
        "http://www.ietf.org/rfc/rfc2396.txt",
        "ldap://[2001:db8::7]/c=GB?objectClass?one",
        "mailto:John.Doe@example.com",
        "news:comp.infosystems.www.servers.unix",
        "tel:+1-816-555-1212",
        "telnet://192.0.2.16:80/",
        "urn:oasis:names:specification:docbook:dtd:xml:4.1.2",
    ];

    fn code(config: &str, text: &str) -> Option<&'static str> {
        check(&testing::config::<Url>(config).unwrap(), text).map(|rule| rule.code)
    }

    #[test]
    fn by_default_only_web_addresses_pass() {
        let found: Vec<_> = RFC_3986_EXAMPLES
            .iter()
            .map(|url| code("{}", url))
            .collect();
        let mut expected = [Some("scheme"); 8];
        expected[1] = None;
        assert_eq!(found, expected);
        assert_eq!(code("{}", "HTTPS://www.rfc-editor.org/rfc/rfc3986"), None);
    }

    #[test]
    fn every_rfc_3986_example_passes_when_its_scheme_is_allowed() {
        let all =
            r#"{"schemes": ["ftp", "http", "ldap", "mailto", "news", "tel", "telnet", "urn"]}"#;
        for url in RFC_3986_EXAMPLES {
            assert_eq!(code(all, url), None, "{url}");
        }
    }

    #[test]
    fn a_relative_reference_or_a_broken_host_is_not_a_url() {
        assert_eq!(code("{}", "www.example.com"), Some("format"));
        assert_eq!(code("{}", "http://"), Some("format"));
        assert_eq!(code("{}", "http://exa mple.com/"), Some("format"));
        assert_eq!(code("{}", "http://[2001:db8::7/"), Some("format"));
    }

    #[test]
    fn the_scheme_message_lists_the_allowed_prefixes() {
        let config = testing::config::<Url>("{}").unwrap();
        let rule = check(&config, "ftp://ftp.is.co.za/rfc/rfc1808.txt").unwrap();
        assert_eq!(rule.message, "must start with http: or https:");
    }

    #[test]
    fn an_empty_or_malformed_scheme_list_is_a_config_error() {
        assert!(testing::check_config::<Url>(r#"{"schemes": []}"#).is_err());
        assert!(testing::check_config::<Url>(r#"{"schemes": ["https://"]}"#).is_err());
        assert!(testing::check_config::<Url>(r#"{"schemes": ["coap+tcp"]}"#).is_ok());
    }
}
