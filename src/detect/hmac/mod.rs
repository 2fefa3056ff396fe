//! HMAC / JWT secrets: literal values assigned to signing-secret names, the key argument of
//! sign/verify calls (read by parsing the call, `calls`), and names used as keys traced to their
//! literal assignment (`trace`), reported there with the call as a related location.
//! Placeholders, indirections, names and paths are dropped (`values`).

mod calls;
mod tokenize;
mod trace;
mod values;

pub use values::{Evidence, is_plausible_secret, is_secret_value, randomness};

use super::MatchContext;
use crate::finding::{Candidate, Related, kind, redact};
use crate::rules::EvidenceSpec;
use calls::{CallKind, KeyExpr};
use tokenize::{Lang, in_comment_or_string};
use values::{is_type_member, names_a_setting};

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

/// Report a literal signing secret unless it is a placeholder, an indirection or a name.
pub fn detect(ctx: &MatchContext<'_>) -> Option<Candidate> {
    if let Some(call) = ctx.caps.name("call") {
        let start = ctx.window_start + call.start();
        return detect_call(ctx, start, ctx.window_start + call.end());
    }
    let bare = ctx.group("bare").is_some();
    if bare && !is_config_file(ctx.path) && !in_config_fence(ctx.blob, ctx.path, ctx.secret_start) {
        return None;
    }
    if !bare && is_lookup_argument(ctx.blob, ctx.secret_start) {
        return None;
    }
    let value = std::str::from_utf8(ctx.secret()).ok()?.trim();
    let name_match = ["name", "name2", "name3", "name4"]
        .iter()
        .find_map(|group| ctx.caps.name(group));
    if name_match.is_some_and(|n| is_type_member(ctx.blob, ctx.window_start + n.start())) {
        return None;
    }
    let name = name_match.map(|n| String::from_utf8_lossy(n.as_bytes()).to_ascii_lowercase());
    if name.as_deref().is_some_and(names_a_setting) {
        return None;
    }
    let evidence = match (ctx.rule.spec.evidence, name.as_deref()) {
        (Some(EvidenceSpec::Named), _) => Evidence::Named,
        (Some(EvidenceSpec::Generic), _) => Evidence::Generic,
        (None, None) => Evidence::KeyArgument,
        (None, Some(n)) if is_generic_name(n) => Evidence::Generic,
        (None, Some(_)) => Evidence::Named,
    };
    if !is_secret_value(value, evidence) {
        return None;
    }
    let format = match (&name, bare) {
        (None, _) => "sign-call",
        (Some(_), true) => "config",
        (Some(_), false) => "assignment",
    };
    Some(secret_candidate(
        ctx,
        value,
        (ctx.secret_start, ctx.secret_end),
        format,
        None,
    ))
}

/// Inside a Markdown code fence that holds configuration (```properties, ```env, ```ini,
/// ```yaml, ```toml, ```sh or no info string): unquoted values count there too.
fn in_config_fence(blob: &[u8], path: &str, pos: usize) -> bool {
    let lower = path.to_ascii_lowercase();
    if !(lower.ends_with(".md") || lower.ends_with(".markdown") || lower.ends_with(".mdx")) {
        return false;
    }
    let floor = pos.saturating_sub(16 * 1024);
    let before = &blob[floor..pos];
    let Some(fence) = memchr::memmem::rfind(before, b"```") else {
        return false;
    };
    // An odd number of fences before the position: inside one.
    if memchr::memmem::find_iter(&blob[..floor + fence], b"```").count() % 2 == 1 {
        return false;
    }
    let info_end = memchr::memchr(b'\n', &before[fence..]).map_or(before.len(), |i| fence + i);
    let info = String::from_utf8_lossy(&before[fence + 3..info_end])
        .trim()
        .to_ascii_lowercase();
    matches!(
        info.as_str(),
        "" | "properties"
            | "env"
            | "dotenv"
            | "ini"
            | "cfg"
            | "conf"
            | "yaml"
            | "yml"
            | "toml"
            | "sh"
            | "bash"
            | "shell"
            | "console"
            | "text"
            | "txt"
            | "config"
    )
}

/// Names that say "a secret" only because of where they are (`key:` in a `jwt:` section,
/// Express's `secret:`), not by themselves.
fn is_generic_name(name: &str) -> bool {
    let name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    matches!(
        name,
        "key" | "secret" | "secrets" | "value" | "signingkey" | "signing_key" | "keys"
    )
}

fn secret_candidate(
    ctx: &MatchContext<'_>,
    value: &str,
    (start, end): (usize, usize),
    format: &str,
    related: Option<Related>,
) -> Candidate {
    let mut candidate = ctx.candidate(
        kind::HMAC_SECRET,
        value.as_bytes().to_vec(),
        value.to_string(),
        redact(value),
        format,
    );
    candidate.start = start;
    candidate.end = end;
    candidate.related = related;
    candidate
}

/// The key argument of the call whose name spans `start..end`: a literal is reported where it
/// is; a name is traced to its literal assignment and reported there, the call as related.
fn detect_call(ctx: &MatchContext<'_>, start: usize, end: usize) -> Option<Candidate> {
    let blob = ctx.blob;
    let lang = lang_at(ctx.path, blob, start);
    let long_line = tokenize::on_long_line(blob, start);
    if (!long_line && in_comment_or_string(blob, lang, start)) || calls::is_declared(blob, start) {
        return None;
    }
    let call = &blob[start..end];
    let kind = CallKind::of(call);
    if kind == CallKind::ByteReturn && !near_jwt(blob, start) {
        return None;
    }
    // A file without an extension (`Rakefile`, a rule example) may hold Ruby's calls without
    // parentheses.
    let no_extension = !ctx.path.rsplit('/').next().unwrap_or("").contains('.');
    let (lang, tokens) = match calls::call_tokens(blob, lang, end) {
        Some(tokens) => (lang, tokens),
        None if no_extension => (Lang::Ruby, calls::call_tokens(blob, Lang::Ruby, end)?),
        None => return None,
    };
    if uses_asymmetric_algorithm(blob, &tokens) {
        return None;
    }
    let (literal, related) = match calls::key_argument(blob, lang, kind, &tokens)? {
        KeyExpr::Literal(token) => (token, None),
        KeyExpr::Name(name, _) if names_asymmetric_key(&name) || long_line => return None,
        KeyExpr::Name(name, member) => {
            let token = trace::assignment(blob, lang, &name, member, start)?;
            (token, Some(related_at(blob, start, call)))
        }
    };
    let (s, e) = literal.inner;
    let value = std::str::from_utf8(&blob[s..e]).ok()?;
    // PEM and other multi-line material is a private or public key, not an HMAC secret.
    if value.contains("-----")
        || value.contains('\n')
        || is_public_key_text(value)
        || !is_secret_value(value, Evidence::KeyArgument)
    {
        return None;
    }
    let format = if related.is_some() {
        "assignment"
    } else {
        "sign-call"
    };
    Some(secret_candidate(ctx, value, (s, e), format, related))
}

/// The call names an RSA, EC or EdDSA algorithm (`algorithm="ES256"`, `'RS256'`) and no HMAC
/// one: its key is a private or public key, which the PEM and JWK rules find. A call that
/// allows both (`algorithm: %w[RS512 HS256]`) may take an HMAC key.
fn uses_asymmetric_algorithm(blob: &[u8], tokens: &[tokenize::Token]) -> bool {
    let mut asymmetric = false;
    for t in tokens {
        let text = if t.kind == tokenize::Tok::Str {
            &blob[t.inner.0..t.inner.1]
        } else {
            t.text(blob)
        };
        let upper = text.to_ascii_uppercase();
        let sized = |prefixes: &[&[u8]]| {
            upper.len() == 5
                && prefixes.iter().any(|p| upper.starts_with(p))
                && upper[2..].iter().all(u8::is_ascii_digit)
        };
        if sized(&[b"HS"]) {
            return false;
        }
        asymmetric |= sized(&[b"RS", b"ES", b"PS"]) || upper == b"EDDSA";
    }
    asymmetric
}

/// An OpenSSH public key line (`ssh-ed25519 AAAA…`, `ecdsa-sha2-nistp256 AAAA…`).
fn is_public_key_text(value: &str) -> bool {
    value.starts_with("ssh-")
        || value.starts_with("ecdsa-sha2-")
        || value.starts_with("sk-")
        || value.starts_with("AAAA")
}

/// Names of asymmetric keys (`privateKey`, `PRIVATE_KEY`, `pubKey`, `cert`): not HMAC secrets.
fn names_asymmetric_key(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        &b"private"[..],
        b"public",
        b"pubkey",
        b"pem",
        b"cert",
        b"rsa",
        b"ecdsa",
        b"privkey",
    ]
    .iter()
    .any(|w| memchr::memmem::find(&lower, w).is_some())
}

/// The language at `pos`: by the file's extension; in docs, Python on a doctest line
/// (`>>> jwt.encode(…)`), else by the nearer of the Markdown fence's info string and the
/// reStructuredText directive (`.. code-block:: python`, `.. doctest::`) above it; C-like when
/// nothing says.
fn lang_at(path: &str, blob: &[u8], pos: usize) -> Lang {
    if let Some(lang) = Lang::of_path(path) {
        return lang;
    }
    let line = blob[tokenize::line_start(blob, pos)..pos].trim_ascii_start();
    if line.starts_with(b">>>") || line.starts_with(b"... ") {
        return Lang::Python;
    }
    let floor = pos.saturating_sub(16 * 1024);
    let fence = memchr::memmem::rfind(&blob[floor..pos], b"```").map(|i| floor + i);
    let directive = rst_directive(blob, floor, pos);
    let info = match (fence, directive) {
        (Some(f), Some((d, _))) if f > d => fence_info(blob, f, pos),
        (_, Some((_, lang))) => lang,
        (Some(f), None) => fence_info(blob, f, pos),
        (None, None) => String::new(),
    };
    let word = info
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '#')
        .next()
        .unwrap_or("");
    Lang::of_name(word).unwrap_or(Lang::CLike)
}

/// The info string of the Markdown fence at `fence`, lowercased.
fn fence_info(blob: &[u8], fence: usize, pos: usize) -> String {
    let info_start = fence + 3;
    let info_end = memchr::memchr(b'\n', &blob[info_start..pos]).map_or(pos, |i| info_start + i);
    String::from_utf8_lossy(&blob[info_start..info_end])
        .trim()
        .to_ascii_lowercase()
}

/// The last reStructuredText code directive in `floor..pos` (`.. code-block:: LANG`, `.. code::`,
/// `.. sourcecode::`; `.. doctest::` and `.. testcode::` are Python), with its language.
fn rst_directive(blob: &[u8], floor: usize, pos: usize) -> Option<(usize, String)> {
    let text = &blob[floor..pos];
    let at = memchr::memmem::rfind(text, b".. ")?;
    let line_end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i);
    let line = String::from_utf8_lossy(&text[at + 3..line_end]).to_ascii_lowercase();
    let (directive, argument) = line.split_once("::")?;
    let lang = match directive.trim() {
        "code-block" | "code" | "sourcecode" => argument.trim().to_string(),
        "doctest" | "testcode" | "testsetup" => "python".to_string(),
        _ => return None,
    };
    Some((floor + at, lang))
}

/// A Go key callback mentions jwt shortly before it (`func(t *jwt.Token) (interface{}, error)`).
fn near_jwt(blob: &[u8], pos: usize) -> bool {
    let window = &blob[pos.saturating_sub(600)..pos];
    memchr::memmem::find(window, b"jwt").is_some()
        || memchr::memmem::find(window, b"Token").is_some()
}

/// Where the traced name is used: line and column (UTF-16) of the call.
fn related_at(blob: &[u8], pos: usize, call: &[u8]) -> Related {
    let line = 1 + memchr::memchr_iter(b'\n', &blob[..pos]).count();
    let line_start = tokenize::line_start(blob, pos);
    let prefix = &blob[line_start..pos];
    let column = 1 + std::str::from_utf8(prefix).map_or(prefix.len(), |t| t.encode_utf16().count());
    let call = String::from_utf8_lossy(call);
    let call: String = call.chars().take(40).collect();
    Related {
        line,
        column,
        message: format!("used as the key of {call}"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_not_secrets() {
        let line = br#"t.SignedString([]byte(os.Getenv("JWT_SECRET")))"#;
        let at = line.iter().position(|&b| b == b'"').unwrap() + 1;
        assert!(is_lookup_argument(line, at));
        let line = br#"t.SignedString([]byte("literal-secret"))"#;
        let at = line.iter().position(|&b| b == b'"').unwrap() + 1;
        assert!(!is_lookup_argument(line, at));
    }

    /// The language `lang_at` picks for `path` at the first `call` in `text`.
    fn lang_of_call(path: &str, text: &[u8], call: &[u8]) -> Lang {
        let at = memchr::memmem::find(text, call).expect("call in text");
        lang_at(path, text, at)
    }

    #[test]
    fn doc_code_takes_its_language_from_prompts_and_directives() {
        let rst = b".. code-block:: python\n\n    encoded = jwt.encode(p, 'k')\n";
        assert_eq!(
            lang_of_call("docs/usage.rst", rst, b"jwt.encode"),
            Lang::Python
        );
        let doctest = b"Usage\n\n    >>> jwt.decode(t, \"secret\", algorithms=[\"HS256\"])\n";
        assert_eq!(
            lang_of_call("README.rst", doctest, b"jwt.decode"),
            Lang::Python
        );
        let ruby = b".. code-block:: ruby\n\n  JWT.encode payload, 'k', 'HS256'\n";
        assert_eq!(lang_of_call("docs/x.rst", ruby, b"JWT.encode"), Lang::Ruby);
        // The nearer of a Markdown fence and a directive wins.
        let md = b".. code-block:: ruby\n\n```js\njwt.sign(p, 'k')\n";
        assert_eq!(lang_of_call("README.md", md, b"jwt.sign"), Lang::CLike);
        assert_eq!(lang_of_call("app.rb", md, b"jwt.sign"), Lang::Ruby);
    }

    #[test]
    fn asymmetric_only_when_no_hmac_algorithm_is_allowed() {
        let tokens = |text: &'static [u8], lang| {
            calls::call_tokens(text, lang, memchr::memchr(b'(', text).unwrap_or(0)).unwrap()
        };
        let both = b"JWT.decode(token, 'secret', true, algorithm: %w[RS512 HS256])";
        assert!(!uses_asymmetric_algorithm(both, &tokens(both, Lang::Ruby)));
        let rsa = b"jwt.decode(token, key, algorithms=['RS256'])";
        assert!(uses_asymmetric_algorithm(rsa, &tokens(rsa, Lang::Python)));
    }

    #[test]
    fn config_files_by_name() {
        assert!(is_config_file("app/.env"));
        assert!(is_config_file("src/main/resources/application.properties"));
        assert!(!is_config_file("src/app.js"));
    }
}
