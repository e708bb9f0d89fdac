//! Orgs and API tokens.
//!
//! A token is 32 random bytes shown once, at creation. The store keeps only
//! its SHA-256: tokens are long random secrets, not passwords, so a fast hash
//! is enough and keeps the check off the hot path's budget.

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::storage::{self, StorageError, Store};

/// A workplace: its apps, tokens and time zone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    pub name: String,
    /// IANA name; calendar grouping in analytics uses it.
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

/// What a stored token grants: everything in one org. Users, roles and
/// sharing are not built yet, so every token acts as an org admin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    pub org: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// The org and token created at first start.
pub struct FirstStart {
    pub org: Org,
    /// The secret, to print once. It is not stored.
    pub token: String,
}

/// Creates an org and an admin token if the store has no org yet.
pub fn ensure_first_org(
    store: &Store,
    time_zone: &str,
) -> Result<Option<FirstStart>, StorageError> {
    if store.orgs.iter().next().is_some() {
        return Ok(None);
    }
    let org = Org {
        id: ulid::Ulid::new().to_string().to_lowercase(),
        name: "My workspace".into(),
        time_zone: time_zone.into(),
        created_at: Utc::now(),
    };
    store.orgs.insert(&org.id, storage::encode(&org))?;
    let token = issue_token(store, &org.id, "admin")?;
    store.db.flush()?;
    Ok(Some(FirstStart { org, token }))
}

/// Creates a token for `org` and returns the secret.
pub fn issue_token(store: &Store, org: &str, name: &str) -> Result<String, StorageError> {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = format!("tsr_{}", hex::encode(secret));
    let record = Token {
        org: org.into(),
        name: name.into(),
        created_at: Utc::now(),
    };
    store
        .tokens
        .insert(hash(&token), storage::encode(&record))?;
    Ok(token)
}

/// Finds the org a presented token belongs to.
pub fn authenticate(store: &Store, token: &str) -> Result<Option<(Token, Org)>, StorageError> {
    let Some(record) = storage::get::<Token>(&store.tokens, &hash(token))? else {
        return Ok(None);
    };
    let org = storage::get::<Org>(&store.orgs, &record.org)?;
    Ok(org.map(|org| (record, org)))
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Who is calling: the org a token belongs to and the token's name.
#[derive(Debug, Clone)]
pub struct Caller {
    pub org: Org,
    pub token_name: String,
}

impl Caller {
    /// The org's time zone. Checked when the org was created.
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.org.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_matches_the_sha256_test_vector() {
        // FIPS 180-2 example: SHA-256("abc").
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
