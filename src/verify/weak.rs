//! The shipped list of well-known, default and guessable HMAC secrets (`rules/weak-secrets.txt`).

use std::sync::LazyLock;

use super::hmac::PreparedKey;

const LIST: &str = include_str!("../../rules/weak-secrets.txt");

/// Every entry of the list, as written (comments and blank lines dropped).
pub static WEAK_SECRETS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    LIST.lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// The list with HMAC states computed once per run, for trying every entry against tokens.
pub static PREPARED: LazyLock<Vec<PreparedKey>> = LazyLock::new(|| {
    WEAK_SECRETS
        .iter()
        .map(|secret| PreparedKey::new(secret.as_bytes()))
        .collect()
});

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
