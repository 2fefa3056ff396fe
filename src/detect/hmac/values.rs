//! Which literal values are secrets: placeholders, references, names and paths are not; known
//! defaults are (verification marks them `weak-secret`). A character-class-aware randomness
//! score is one signal among others, never a gate on a key passed straight to a sign call.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Name suffixes that mark a setting about the secret, not the secret itself.
const NON_SECRET_NAME_SUFFIXES: &[&str] = &[
    "expiry",
    "expires",
    "expiration",
    "expire",
    "expiresin",
    "ttl",
    "file",
    "path",
    "env",
    "name",
    "length",
    "len",
    "algorithm",
    "alg",
    "algo",
    "version",
    "type",
    "url",
    "uri",
    "header",
    "prefix",
    "location",
    "id",
    "ref",
    "arn",
    "enabled",
    "size",
    "bits",
    "format",
    "encoding",
    "kid",
];

/// Words that mark a value as a documentation placeholder.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "your",
    "xxx",
    "...",
    "…",
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "replace",
    "placeholder",
    "example",
    "insert",
    "redacted",
    "todo",
    "fixme",
    "secret_here",
    "goes_here",
    "goes-here",
    "dummy",
];

/// Names of algorithms, which sign calls take as a later string argument.
pub(super) const ALGORITHM_NAMES: &[&str] = &[
    "hs256", "hs384", "hs512", "rs256", "rs384", "rs512", "es256", "es384", "es512", "ps256",
    "ps384", "ps512", "eddsa", "none",
];

/// Code expressions and literals that are not secrets.
const NON_SECRET_VALUES: &[&str] = &[
    "true",
    "false",
    "null",
    "nil",
    "none",
    "undefined",
    "string",
    "str",
    "bytes",
];

pub(super) fn names_a_setting(name: &str) -> bool {
    let keyword_end = ["secret", "key", "jwt"]
        .iter()
        .filter_map(|k| name.rfind(k).map(|i| i + k.len()))
        .max()
        .unwrap_or(0);
    let tail = name[keyword_end..].trim_start_matches(['_', '-', '.']);
    let first_token = tail.split(['_', '-', '.']).next().unwrap_or("");
    !tail.is_empty()
        && (NON_SECRET_NAME_SUFFIXES.contains(&first_token)
            || NON_SECRET_NAME_SUFFIXES.iter().any(|s| tail.starts_with(s)))
}

/// Whether a literal value is a secret rather than a placeholder, reference or code.
pub fn is_plausible_secret(value: &str, min_len: usize) -> bool {
    if value.chars().count() < min_len {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m))
        || ALGORITHM_NAMES.contains(&lower.as_str())
        || NON_SECRET_VALUES.contains(&lower.as_str())
    {
        return false;
    }
    if is_reference(value) {
        return false;
    }
    let first = value.chars().next().unwrap_or(' ');
    if value.chars().all(|c| c == first) {
        return false; // xxxxxxxx, ********, 00000000
    }
    if value.chars().all(|c| c.is_ascii_digit()) && value.len() < 16 {
        return false; // a number: a port, a lifetime in seconds
    }
    true
}

/// `NAME}`, `NAME:-default}`, `NAME:?message` (the value may stop at a space): what follows
/// `${` in a shell or compose reference.
fn braced_name(text: &str) -> bool {
    let name_len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    name_len > 0
        && text.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && text[name_len..]
            .chars()
            .next()
            .is_none_or(|c| matches!(c, '}' | ':' | '-' | '?' | '=' | '+'))
}

/// `NAME/rest/of/path`: a variable followed by a path (`$HOME/.keys/jwt`).
fn path_after_name(text: &str) -> bool {
    let Some((name, rest)) = text.split_once('/') else {
        return false;
    };
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
}

/// Environment and configuration references, paths and URLs. Random secrets may start with
/// `$`, `%`, `@` or `/`, so those count only in the shapes references take.
fn is_reference(value: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "process.env",
        "os.environ",
        "os.getenv",
        "env[",
        "env(",
        "env.",
        "getenv",
        "system.getenv",
        "config.",
        "settings.",
        "vault:",
        "ssm:",
        "secretsmanager:",
        "arn:",
        "file:",
        "http://",
        "https://",
        "{{",
    ];
    let lower = value.to_ascii_lowercase();
    if PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    let mut chars = value.chars();
    let (first, second) = (chars.next().unwrap_or(' '), chars.next().unwrap_or(' '));
    // Between the sigils, a reference is a name: `$JWT_SECRET`, `%APPDATA%`, `@TOKEN@`. A random
    // secret that merely starts with a sigil (Django's alphabet has `$ % @ ( )`) has other
    // characters in it.
    let inner = |start: usize, end: usize| value.get(start..value.len().saturating_sub(end));
    // `dotted`: build-tool placeholders name properties (`@jwt.secret@`, `%app.key%`).
    let is_name = |text: Option<&str>, dotted: bool| {
        text.is_some_and(|t| {
            t.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && t.chars().all(|c| {
                    c.is_ascii_alphanumeric() || c == '_' || (dotted && matches!(c, '.' | '-'))
                })
        })
    };
    match first {
        '$' => match second {
            '{' => braced_name(&value[2..]),
            '(' => value.ends_with(')'),
            // `$NAME$`: an IntelliJ macro (`$PROJECT_DIR$`, `$JWT_SECRET$`).
            _ => {
                is_name(inner(1, 0), false)
                    || path_after_name(&value[1..])
                    || (value.len() > 2 && value.ends_with('$') && is_name(inner(1, 1), true))
            }
        },
        '%' => {
            (value.ends_with('%') && is_name(inner(1, 1), true))
                || (second == '(' && value.contains(")s"))
        }
        '@' => value.len() > 2 && value.ends_with('@') && is_name(inner(1, 1), true),
        '<' => value.ends_with('>'),
        // A format or interpolation placeholder (`'{secret}'` in Rust's format!, Python's
        // str.format and f-strings, C#'s $"…"), not a value.
        '{' => value.ends_with('}') && braced_name(&value[1..]),
        '/' | '.' | '~' => {
            let path_like = value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'));
            path_like
                && (value.starts_with('/')
                    || value.starts_with("./")
                    || value.starts_with("../")
                    || value.starts_with("~/"))
        }
        _ => false,
    }
}

/// Defaults that documentation ships and people keep (jwt.io's debugger): reported, and the
/// weak list makes them `weak-secret`, whatever placeholder words they contain.
const KNOWN_DEFAULTS: &[&str] = &[
    "your-256-bit-secret",
    "your-384-bit-secret",
    "your-512-bit-secret",
    "a-string-secret-at-least-256-bits-long",
    // Jason Watmore's ASP.NET Core JWT tutorials (appsettings.json AppSettings:Secret).
    "THIS IS USED TO SIGN AND VERIFY JWT TOKENS, REPLACE IT WITH YOUR OWN SECRET, IT CAN BE ANY STRING",
];

/// The shipped weak-secret list as a set, for telling a known default from a placeholder.
static WEAK: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| crate::rules::WEAK_SECRETS.iter().copied().collect());

/// Claim, option and encoding names that sit next to keys in sign calls and settings.
const OPTION_NAMES: &[&str] = &[
    "exp",
    "iat",
    "nbf",
    "iss",
    "sub",
    "aud",
    "jti",
    "typ",
    "kid",
    "algorithms",
    "algorithm",
    "options",
    "expiresin",
    "expires_in",
    "header",
    "headers",
    "complete",
    "issuer",
    "audience",
    "subject",
    "utf-8",
    "utf8",
    "ascii",
    "base64",
    "base64url",
    "hex",
    "latin1",
    "binary",
    "hmacsha256",
    "hmacsha384",
    "hmacsha512",
    "sha256",
    "sha384",
    "sha512",
    "bearer",
    "authorization",
    "payload",
];

/// How much the place a value was found in already says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// The value is a sign/verify call's key argument, directly or through a traced name.
    KeyArgument,
    /// Assigned to a name that says signing secret (`JWT_SECRET`, `secret_key_base`).
    Named,
    /// Under a generic name in a signing context (`key:` in a `jwt:` section, Ruby `secret:`).
    Generic,
}

/// Whether `value`, found with `evidence`, is reported as a secret.
pub fn is_secret_value(value: &str, evidence: Evidence) -> bool {
    let value = value.trim();
    if KNOWN_DEFAULTS.contains(&value) {
        return true;
    }
    let listed = WEAK.contains(value);
    if listed && evidence == Evidence::KeyArgument {
        return true; // a guessable key in use is a finding: verification says weak-secret
    }
    let min_len = match evidence {
        Evidence::KeyArgument => 3,
        Evidence::Named => 6,
        Evidence::Generic => 8,
    };
    if !is_plausible_secret(value, min_len) {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if OPTION_NAMES.contains(&lower.as_str()) || lower.starts_with("autogenerate") {
        return false;
    }
    if !listed && (is_name_like(value) || is_path_like(value)) {
        return false;
    }
    match evidence {
        Evidence::Generic => {
            let n = value.chars().count();
            listed || (n >= 12 && randomness(value) >= 0.6) || n >= 24
        }
        _ => true,
    }
}

/// Words that make a snake-case value the name of a setting or credential.
const SETTING_WORDS: &[&str] = &[
    "aws",
    "access",
    "api",
    "client",
    "id",
    "user",
    "username",
    "password",
    "token",
    "env",
    "config",
    "setting",
    "settings",
    "path",
    "file",
    "name",
    "private",
    "public",
    "account",
    "auth",
    "oauth",
    "app",
    "application",
    "database",
    "db",
];

/// A name, not a secret: `AWS_SECRET_ACCESS_KEY`, `aws_secret_access_key`, `jwt.secret.key`,
/// `secretOrPrivateKey`. Dashed phrases (`super-secret-signing-key`) are chosen secrets.
pub fn is_name_like(value: &str) -> bool {
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
    {
        return false;
    }
    let starts_alpha = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic());
    let words = |sep: char| {
        value
            .split(sep)
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphabetic()))
    };
    let screaming = value.contains('_')
        && !value.contains('.')
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    // Lower-case snake case names a setting when a word says which (`aws_secret_access_key`);
    // `my_very_secret_hmac_key` is a chosen secret.
    let snake = value.matches('_').count() >= 2
        && !value.contains('.')
        && words('_')
        && value
            .to_ascii_lowercase()
            .split('_')
            .any(|w| SETTING_WORDS.contains(&w));
    let dotted = value.contains('.') && !value.contains('_') && words('.');
    let humps = value.chars().filter(char::is_ascii_uppercase).count();
    let camel = !value.contains(['_', '.'])
        && value.chars().all(|c| c.is_ascii_alphabetic())
        && value.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && humps >= 2
        && humps * 3 <= value.len();
    starts_alpha && (screaming || snake || dotted || camel)
}

/// A path or file name: `config/jwt/secret.key`, `keys/hmac.txt`, `secret.pem`.
pub fn is_path_like(value: &str) -> bool {
    const FILE_TYPES: &[&str] = &[
        ".pem", ".key", ".txt", ".json", ".yml", ".yaml", ".env", ".pub", ".crt", ".der", ".p12",
    ];
    let lower = value.to_ascii_lowercase();
    if FILE_TYPES
        .iter()
        .any(|t| lower.ends_with(t) && lower.len() > t.len())
    {
        return true;
    }
    value.contains('/')
        && value.split('/').filter(|s| !s.is_empty()).count() >= 2
        && value.split('/').all(|s| {
            s.chars()
                .all(|c| c.is_ascii_alphabetic() || matches!(c, '_' | '-' | '.'))
        })
}

/// A character-class-aware randomness score in 0..=1: Shannon entropy (the `entropy` crate)
/// over the most the value could have for its length and the classes of characters it uses.
pub fn randomness(value: &str) -> f64 {
    let n = value.chars().count();
    if n < 2 {
        return 0.0;
    }
    let classes = [
        (value.chars().any(|c| c.is_ascii_lowercase()), 26.0),
        (value.chars().any(|c| c.is_ascii_uppercase()), 26.0),
        (value.chars().any(|c| c.is_ascii_digit()), 10.0),
        (value.chars().any(|c| !c.is_ascii_alphanumeric()), 32.0),
    ];
    let alphabet: f64 = classes
        .iter()
        .filter(|(present, _)| *present)
        .map(|(_, size)| size)
        .sum();
    let most = alphabet.log2().min((n as f64).log2());
    if most <= 0.0 {
        return 0.0;
    }
    let bits = f64::from(entropy::shannon_entropy(value.as_bytes()));
    // Few classes on a long value (all lower-case letters, all digits) is a word or a number.
    let class_count = classes.iter().filter(|(present, _)| *present).count() as f64;
    ((bits / most) * (0.7 + 0.1 * class_count)).min(1.0)
}

/// A name that follows `::` is a type or a schema member (`AWS::Route53::KeySigningKey`), not a
/// variable: its value belongs to another field.
pub fn is_type_member(blob: &[u8], name_start: usize) -> bool {
    name_start >= 2 && &blob[name_start - 2..name_start] == b"::"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_not_secrets() {
        for value in [
            "",
            "<your key>",
            "xxxxxxxx",
            "...",
            "${JWT}",
            "changeme",
            "HS256",
            "process.env.X",
            "3600",
        ] {
            assert!(!is_plausible_secret(value, 3), "{value}");
        }
        for value in [
            "${JWT}",
            "$JWT_SECRET",
            "%SECRET%",
            "@jwt.secret@",
            "/run/secrets/jwt",
            "<key>",
            "{secret}",
            "{jwt_key:?}",
            "$(cat /run/secrets/jwt)",
            "${SECRET_KEY:?set",
            "${JWT_SECRET:-}",
            "$HOME/.keys/jwt",
            "%APP.KEY%",
        ] {
            assert!(!is_plausible_secret(value, 3), "{value}");
        }
        for value in [
            "b3ce9f0a8d7c",
            "s3cr3t-signing-key",
            "secret",
            "@x7#k$2m!q9v",
            "$9f8e7d6c",
            "/a+b/c==",
            // Django's alphabet: keys that start like a reference but are not one.
            "$k3j4h5k6j7h8g9f0d1s2a3q4w5e6r7!t8y9u0i1o2p3l4k5j6h",
            "$(k3j4h5k6j7h8g9f0d1s2a3q4w5e6r7t8y9u0i1o2p3l4k5j6h",
            "%k3j4h5k6j7h8g9f0d1s2a3q4w5e(6r7t8y9u0i1o2p3l4k5j6h%",
            "@k3j4h5k6j7h8g9f0d1s2a3q4w5e#6r7t8y9u0i1o2p3l4k5j6@",
        ] {
            assert!(is_plausible_secret(value, 3), "{value}");
        }
    }

    #[test]
    fn setting_names_are_not_secret_names() {
        assert!(names_a_setting("jwt_secret_expires_in"));
        assert!(names_a_setting("jwt_secret_file"));
        assert!(!names_a_setting("jwt_secret"));
        assert!(!names_a_setting("secret_key"));
        assert!(!names_a_setting("jwtsecret"));
        assert!(names_a_setting("jwtsecretfile"));
        assert!(!names_a_setting("secret_key_base"));
    }
}
