//! Regions as a config names them: ISO 3166-1 alpha-2 codes.

use phonenumber::country::Id;
use serde::Deserialize;

/// A region that libphonenumber has numbering metadata for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Region(Id);

impl Region {
    /// The libphonenumber id of the region.
    pub fn id(&self) -> Id {
        self.0
    }

    /// The region's two-letter code, such as `US`.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl TryFrom<String> for Region {
    type Error = String;

    fn try_from(code: String) -> Result<Self, String> {
        let upper = code.to_ascii_uppercase();
        upper
            .parse()
            .map(Region)
            .map_err(|_| format!("“{code}” is not a region code such as US or GB"))
    }
}
