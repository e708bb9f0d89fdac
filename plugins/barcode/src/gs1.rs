//! GS1 barcode formats and their modulo-10 check digit.

use serde::Deserialize;

/// A GS1 barcode format a `core/barcode` block may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Format {
    /// 13 digits, the retail code used outside North America.
    #[serde(rename = "ean-13")]
    Ean13,
    /// 8 digits, for small packages.
    #[serde(rename = "ean-8")]
    Ean8,
    /// 12 digits, the retail code of North America.
    #[serde(rename = "upc-a")]
    UpcA,
}

impl Format {
    /// Every format, the default.
    pub fn all() -> Vec<Format> {
        vec![Format::Ean13, Format::Ean8, Format::UpcA]
    }

    /// How many digits a code of this format has, check digit included.
    pub fn digits(self) -> usize {
        match self {
            Format::Ean13 => 13,
            Format::Ean8 => 8,
            Format::UpcA => 12,
        }
    }

    /// "13 digits (EAN-13)".
    pub fn describe(self) -> String {
        let name = match self {
            Format::Ean13 => "EAN-13",
            Format::Ean8 => "EAN-8",
            Format::UpcA => "UPC-A",
        };
        format!("{} digits ({name})", self.digits())
    }
}

/// Whether the last of `digits` is the GS1 check digit of the others.
///
/// From the right, the digits before the check digit are weighted 3, 1, 3,
/// …; the check digit brings the weighted sum up to a multiple of 10. Any
/// character that is not an ASCII digit makes the code invalid.
pub fn has_valid_check_digit(digits: &str) -> bool {
    let Some(values) = digits
        .chars()
        .map(|c| c.to_digit(10).filter(|_| c.is_ascii_digit()))
        .collect::<Option<Vec<u32>>>()
    else {
        return false;
    };
    let Some((check, body)) = values.split_last() else {
        return false;
    };
    let weighted: u32 = body
        .iter()
        .rev()
        .zip([3, 1].into_iter().cycle())
        .map(|(digit, weight)| digit * weight)
        .sum();
    (weighted + check).is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gs1_worked_example_has_check_digit_3() {
        // GS1's check digit calculation example: GTIN-13 629104150021 + 3.
        assert!(has_valid_check_digit("6291041500213"));
        for wrong in ['0', '1', '2', '4', '5', '6', '7', '8', '9'] {
            assert!(!has_valid_check_digit(&format!("629104150021{wrong}")));
        }
    }

    #[test]
    fn a_upc_a_code_keeps_its_check_digit_as_an_ean_13_with_a_leading_zero() {
        // Wikipedia's UPC-A example, and the same GTIN written in 13 digits.
        assert!(has_valid_check_digit("036000291452"));
        assert!(has_valid_check_digit("0036000291452"));
    }

    #[test]
    fn swapping_two_neighbouring_digits_is_caught() {
        // 4006381333931 is Wikipedia's EAN-13 example.
        assert!(has_valid_check_digit("4006381333931"));
        assert!(!has_valid_check_digit("0406381333931"));
    }

    #[test]
    fn non_digits_and_empty_text_are_never_valid() {
        assert!(!has_valid_check_digit(""));
        assert!(!has_valid_check_digit("40063813339-1"));
    }
}
