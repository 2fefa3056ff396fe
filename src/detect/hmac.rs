//! HMAC / JWT secrets: literal values assigned to signing-secret names or passed to sign calls.
//! Placeholders and indirections are dropped here.

use super::MatchContext;
use crate::finding::{Candidate, kind, redact};

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
const ALGORITHM_NAMES: &[&str] = &[
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

/// File names whose values may be unquoted (configuration, shell scripts and shell histories,
/// not code).
fn is_config_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if name.starts_with(".env") || name.ends_with(".env") || name == "env" {
        return true;
    }
    let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    matches!(
        extension,
        "properties"
            | "yml"
            | "yaml"
            | "ini"
            | "cfg"
            | "conf"
            | "config"
            | "toml"
            | "env"
            | "envrc"
            | "tfvars"
            | "hcl"
            | "txt"
            | "example"
            | "sample"
            | "local"
            | "dist"
            | "sh"
            | "bash"
            | "zsh"
            | "fish"
            | "bashrc"
            | "zshrc"
            | "zshenv"
            | "profile"
            | "bash_profile"
            | "zprofile"
            | "bash_history"
            | "zsh_history"
            | "sh_history"
            | "history"
    ) || !name.contains('.')
}

/// Calls whose string argument names a setting or variable rather than holding the secret
/// (`os.Getenv("JWT_SECRET")`, `ENV.fetch("X")`, `viper.GetString("jwt.secret")`), lowercased.
const LOOKUP_CALLS: &[&str] = &[
    "getenv(",
    "lookupenv(",
    "environ[",
    "environ.get(",
    "env[",
    "env(",
    "env.fetch(",
    "getproperty(",
    "getstring(",
    "get(",
    "getvalue(",
    "getsection(",
    "config(",
    "setting(",
    "process.env[",
    "secrets[",
    "params[",
];

/// Report a literal signing secret unless it is a placeholder or an indirection.
pub fn detect(ctx: &MatchContext<'_>) -> Option<Candidate> {
    let bare = ctx.group("bare").is_some();
    if bare && !is_config_file(ctx.path) {
        return None;
    }
    if !bare && is_lookup_argument(ctx.blob, ctx.secret_start) {
        return None;
    }
    let value = std::str::from_utf8(ctx.secret()).ok()?.trim();
    let name = ctx
        .group("name")
        .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase());
    if name.as_deref().is_some_and(names_a_setting) {
        return None;
    }
    let min_len = if name.is_some() { 6 } else { 3 };
    if !is_plausible_secret(value, min_len) {
        return None;
    }
    let format = match (&name, bare) {
        (None, _) => "sign-call",
        (Some(_), true) => "config",
        (Some(_), false) => "assignment",
    };
    let mut candidate = ctx.candidate(
        kind::HMAC_SECRET,
        value.as_bytes().to_vec(),
        value.to_string(),
        redact(value),
        format,
    );
    candidate.start = ctx.secret_start;
    candidate.end = ctx.secret_end;
    Some(candidate)
}

/// Whether the string literal starting at `secret_start` (just after its opening quote) is the
/// argument of an environment or configuration lookup.
fn is_lookup_argument(blob: &[u8], secret_start: usize) -> bool {
    let before = &blob[secret_start.saturating_sub(40)..secret_start.saturating_sub(1)];
    let text: String = String::from_utf8_lossy(before)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    LOOKUP_CALLS.iter().any(|call| text.ends_with(call))
}

fn names_a_setting(name: &str) -> bool {
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
            _ => is_name(inner(1, 0), false) || path_after_name(&value[1..]),
        },
        '%' => {
            (value.ends_with('%') && is_name(inner(1, 1), true))
                || (second == '(' && value.contains(")s"))
        }
        '@' => value.len() > 2 && value.ends_with('@') && is_name(inner(1, 1), true),
        '<' => value.ends_with('>'),
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

    #[test]
    fn lookups_are_not_secrets() {
        let line = br#"t.SignedString([]byte(os.Getenv("JWT_SECRET")))"#;
        let at = line.iter().position(|&b| b == b'"').unwrap() + 1;
        assert!(is_lookup_argument(line, at));
        let line = br#"t.SignedString([]byte("literal-secret"))"#;
        let at = line.iter().position(|&b| b == b'"').unwrap() + 1;
        assert!(!is_lookup_argument(line, at));
    }

    #[test]
    fn config_files_by_name() {
        assert!(is_config_file("app/.env"));
        assert!(is_config_file("src/main/resources/application.properties"));
        assert!(!is_config_file("src/app.js"));
    }
}
