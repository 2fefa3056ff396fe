//! Published example keys (RFC and documentation keys), recognised by RFC 7638 thumbprint
//! (`rules/known-example-keys.toml`).

use std::sync::LazyLock;

use serde::Deserialize;

const TABLE: &str = include_str!("../../rules/known-example-keys.toml");

/// One published example key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownKey {
    pub name: String,
    pub kty: String,
    pub thumbprint: String,
    pub source: String,
    /// For symmetric keys: the base64url key, so tokens signed with it are recognised.
    #[serde(default)]
    pub k: Option<String>,
}

#[derive(Deserialize)]
struct Table {
    key: Vec<KnownKey>,
}

/// Every known example key. The table is embedded and checked by tests, so a parse failure is
/// a build defect; it degrades to an empty list rather than a panic.
pub static KNOWN_KEYS: LazyLock<Vec<KnownKey>> = LazyLock::new(|| {
    toml::from_str::<Table>(TABLE)
        .map(|table| table.key)
        .unwrap_or_default()
});

/// The example key with this thumbprint.
pub fn by_thumbprint(thumbprint: &str) -> Option<&'static KnownKey> {
    KNOWN_KEYS.iter().find(|key| key.thumbprint == thumbprint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses() {
        let table: Table = toml::from_str(TABLE).expect("known-example-keys.toml parses");
        assert!(table.key.len() >= 15);
        assert!(by_thumbprint("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs").is_some());
    }

    #[test]
    fn oct_entries_carry_their_key() {
        for key in KNOWN_KEYS.iter().filter(|k| k.kty == "oct") {
            let k = key.k.as_deref().expect("oct entries have k");
            assert_eq!(
                super::super::jwks::oct_thumbprint(k),
                key.thumbprint,
                "{}",
                key.name
            );
        }
    }
}
