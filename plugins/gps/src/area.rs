//! A latitude-longitude box that positions must lie in.

use serde::Deserialize;

/// An inclusive box of WGS 84 degrees. When `min_longitude` is greater than
/// `max_longitude`, the box crosses the 180° meridian.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// Southern edge.
    pub min_latitude: f64,
    /// Northern edge.
    pub max_latitude: f64,
    /// Western edge.
    pub min_longitude: f64,
    /// Eastern edge.
    pub max_longitude: f64,
}

impl Area {
    /// Why an admin must fix this box, if they must.
    pub fn check(&self) -> Result<(), String> {
        let corners = [
            (self.min_latitude, self.min_longitude),
            (self.max_latitude, self.max_longitude),
        ];
        if !corners.iter().all(|&(lat, lon)| crate::on_earth(lat, lon)) {
            return Err(
                "bounds must have latitudes from -90 to 90 and longitudes from -180 to 180"
                    .to_owned(),
            );
        }
        if self.min_latitude > self.max_latitude {
            return Err(format!(
                "bounds: min_latitude ({}) must not be greater than max_latitude ({})",
                self.min_latitude, self.max_latitude
            ));
        }
        Ok(())
    }

    /// Whether the point lies in the box, edges included.
    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        let latitude_in = (self.min_latitude..=self.max_latitude).contains(&latitude);
        let longitude_in = if self.min_longitude <= self.max_longitude {
            (self.min_longitude..=self.max_longitude).contains(&longitude)
        } else {
            longitude >= self.min_longitude || longitude <= self.max_longitude
        };
        latitude_in && longitude_in
    }

    /// Where the box is, to end "must lie …".
    pub fn describe(&self) -> String {
        format!(
            "between latitudes {} and {} and longitudes {} and {}",
            self.min_latitude, self.max_latitude, self.min_longitude, self.max_longitude
        )
    }
}
