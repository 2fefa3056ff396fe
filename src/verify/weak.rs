//! The shipped list of well-known, default and guessable HMAC secrets (`rules/weak-secrets.txt`).

use std::sync::LazyLock;

use super::hmac::{HsToken, PreparedKey};

pub use crate::rules::WEAK_SECRETS;

/// The list with HMAC states computed once per run, for trying every entry against tokens.
pub static PREPARED: LazyLock<Vec<PreparedKey>> = LazyLock::new(|| {
    WEAK_SECRETS
        .iter()
        .map(|secret| PreparedKey::new(secret.as_bytes()))
        .collect()
});

/// The 0-based entry of the list whose secret signs `token`, if any.
pub fn entry_signing(token: &HsToken) -> Option<usize> {
    PREPARED.iter().position(|key| token.verifies_prepared(key))
}

/// Why a token signed with list entry `entry` is weak (the same words at first sight and at
/// the end of the run).
pub fn entry_detail(entry: usize) -> String {
    format!(
        "signed with a well-known or default secret (entry {} of keysweep's weak-secret list)",
        entry + 1
    )
}

/// Why an unsigned (`alg: none`) token is weak.
pub const UNSIGNED_DETAIL: &str = "unsigned token (alg: none): anyone can forge it, and a verifier that accepts it accepts any claims";

/// Whether a secret is on the list.
pub fn is_listed(secret: &str) -> bool {
    WEAK_SECRETS.contains(&secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_large_and_has_the_classics() {
        assert!(WEAK_SECRETS.len() >= 2000, "{}", WEAK_SECRETS.len());
        for classic in [
            "your-256-bit-secret",
            "secret",
            "changeme",
            "secretkey",
            "jwt_secret",
            "shhhhh",
            "mysecret",
            "keyboard cat",
        ] {
            assert!(is_listed(classic), "{classic}");
        }
    }

    #[test]
    fn entries_are_unique() {
        let mut sorted = WEAK_SECRETS.clone();
        sorted.sort_unstable();
        let before = sorted.len();
        sorted.dedup();
        assert_eq!(before, sorted.len());
    }
}
