//! A name used as a key, traced to its literal assignment in the same blob: `var/let/const x =
//! '…'`, `final String X = "…"`, `x := "…"`, module-level `NAME = '…'`, class constants,
//! `jwtSecret: '…'` members, `'secret' => '…'`, `$x = '…'` and `define('X', '…')`.

use super::calls::{KeyExpr, key_expr};
use super::tokenize::{Lang, Lexer, Tok, Token, in_comment_or_string};

/// How far after a name its assigned value is read.
const MAX_VALUE_BYTES: usize = 1024;
/// How many names a value may be traced through (`a = b; b = 'lit'`).
const MAX_HOPS: u8 = 2;
/// How far before and after its use a name's assignment is looked for: far enough for any
/// source file, bounded so a blob with many calls is not searched whole for each.
const MAX_TRACE_BEFORE: usize = 256 * 1024;
const MAX_TRACE_AFTER: usize = 64 * 1024;
/// How many occurrences of a name are examined per search.
const MAX_OCCURRENCES: usize = 256;

/// The literal assigned to `name` nearest before `used_at` (else the first after it). A
/// `member` (`config.jwtSecret`) may also be assigned as an object or hash member.
pub fn assignment(
    blob: &[u8],
    lang: Lang,
    name: &[u8],
    member: bool,
    used_at: usize,
) -> Option<Token> {
    assignment_hops(blob, lang, name, member, used_at, 0)
}

fn assignment_hops(
    blob: &[u8],
    lang: Lang,
    name: &[u8],
    member: bool,
    used_at: usize,
    hops: u8,
) -> Option<Token> {
    // The nearest assignment before the use decides (a later literal elsewhere in the file is
    // another variable's); without one, the first literal assignment after it.
    let floor = used_at.saturating_sub(MAX_TRACE_BEFORE);
    let ceiling = (used_at + MAX_TRACE_AFTER).min(blob.len());
    let before = memchr::memmem::rfind_iter(&blob[floor..used_at], name)
        .map(|at| floor + at)
        .take(MAX_OCCURRENCES);
    for at in before {
        if let Some(assigned) = assignment_at(blob, lang, name, member, at, hops) {
            return assigned;
        }
    }
    memchr::memmem::find_iter(&blob[used_at..ceiling], name)
        .map(|at| used_at + at)
        .take(MAX_OCCURRENCES)
        .find_map(|at| assignment_at(blob, lang, name, member, at, hops).flatten())
}

/// When the occurrence of `name` at `at` is an assignment: its literal (traced through
/// another name when `hops` allow), or `Some(None)` when the value is not a literal.
fn assignment_at(
    blob: &[u8],
    lang: Lang,
    name: &[u8],
    member: bool,
    at: usize,
    hops: u8,
) -> Option<Option<Token>> {
    if !is_whole_name(blob, at, name.len()) {
        return None;
    }
    let value = assigned_value(blob, lang, at, name.len(), member)?;
    // The token that holds the name starts at its sigil or quote (`$key`, `@key`, `'key'`).
    let token_start = match at.checked_sub(1).map(|i| blob[i]) {
        Some(b'$' | b'@' | b'"' | b'\'') => at - 1,
        _ => at,
    };
    if in_comment_or_string(blob, lang, token_start) {
        return None;
    }
    Some(match key_expr(blob, lang, &value, 0) {
        Some(KeyExpr::Literal(token)) => Some(token),
        Some(KeyExpr::Name(other, other_member)) if hops < MAX_HOPS && other != name => {
            assignment_hops(blob, lang, &other, other_member, at, hops + 1)
        }
        _ => None,
    })
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// `name` at `at` is a whole name (`$name`, `@name`, `this.name` and `"name"` count).
fn is_whole_name(blob: &[u8], at: usize, len: usize) -> bool {
    let before_ok = at == 0 || !is_ident_byte(blob[at - 1]);
    let after_ok = blob
        .get(at + len)
        .is_none_or(|&b| !is_ident_byte(b) && b != b'$');
    before_ok && after_ok
}

/// The tokens of the value assigned at a name, if the name is assigned there.
fn assigned_value(
    blob: &[u8],
    lang: Lang,
    at: usize,
    len: usize,
    member: bool,
) -> Option<Vec<Token>> {
    let mut from = at + len;
    let quote = at.checked_sub(1).map(|i| blob[i]);
    let quoted = matches!(quote, Some(b'"' | b'\'')) && blob.get(from) == quote.as_ref();
    if quoted {
        if !member && !is_define(blob, at - 1) {
            return None; // `'secret' => '…'`: a hash member, not the variable
        }
        from += 1;
    }
    let mut lexer = Lexer::new(blob, lang, from, from + MAX_VALUE_BYTES);
    let first = lexer.next()?;
    if first.newline_before {
        return None;
    }
    let text = first.text(blob);
    // PHP `define('NAME', 'value')`; `x = v`, `x := v`; a member's `'x' => v`.
    let defined = quoted && is_define(blob, at - 1) && first.is(blob, ",");
    let assigned = matches!(text, b"=" | b":=") && first.kind == Tok::Punct;
    let value_start = if defined || assigned || (member && first.is(blob, "=>")) {
        lexer.next()?
    } else if first.is(blob, ":") {
        // `name: 'v'` (object member, YAML-like) or `name: str = 'v'` (annotation).
        let next = lexer.next()?;
        if next.kind == Tok::Ident && lang != Lang::Ruby {
            let eq = lexer.next()?;
            if !eq.is(blob, "=") {
                return None;
            }
            lexer.next()?
        } else if member {
            next
        } else {
            return None; // `key: '…'`: an object member, not the variable
        }
    } else if first.kind == Tok::Ident && !quoted {
        // Go: `var secret string = "..."`.
        let eq = lexer.next()?;
        if !eq.is(blob, "=") {
            return None;
        }
        lexer.next()?
    } else {
        return None;
    };
    let mut value = vec![value_start];
    let mut depth = 0i32;
    if let Some(d) = bracket_delta(blob, &value_start) {
        depth += d;
    }
    for token in lexer {
        if depth <= 0 && token.newline_before {
            break;
        }
        if depth <= 0 && (token.is(blob, ";") || token.is(blob, ",")) {
            break;
        }
        if let Some(d) = bracket_delta(blob, &token) {
            depth += d;
            if depth < 0 {
                break;
            }
        }
        value.push(token);
    }
    Some(value)
}

fn bracket_delta(blob: &[u8], token: &Token) -> Option<i32> {
    if token.kind != Tok::Punct {
        return None;
    }
    match token.text(blob) {
        b"(" | b"[" | b"{" => Some(1),
        b")" | b"]" | b"}" => Some(-1),
        _ => None,
    }
}

/// The opening quote at `quote_at` is the first argument of `define(`.
fn is_define(blob: &[u8], quote_at: usize) -> bool {
    let before = blob[quote_at.saturating_sub(16)..quote_at].trim_ascii_end();
    before.ends_with(b"define(")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traced(src: &str, lang: Lang, name: &str, used: &str) -> Option<String> {
        let blob = src.as_bytes();
        let used_at = memchr::memmem::rfind(blob, used.as_bytes())?;
        let member = src.contains(&format!(".{name}")) || src.contains(&format!("->{name}"));
        let t = assignment(blob, lang, name.as_bytes(), member, used_at)?;
        Some(String::from_utf8_lossy(&blob[t.inner.0..t.inner.1]).into_owned())
    }

    #[test]
    fn assignments_by_language() {
        let cases: &[(&str, Lang, &str, &str)] = &[
            (
                "var secret = 'v1';  // our key\njwt.sign(p, secret + u.h)",
                Lang::CLike,
                "secret",
                "v1",
            ),
            (
                "const config = { jwtSecret: 'v2', port: 3 };\njwt.verify(t, config.jwtSecret)",
                Lang::CLike,
                "jwtSecret",
                "v2",
            ),
            (
                "private static final String SECRET = \"v3\";\nsignWith(SECRET)",
                Lang::CLike,
                "SECRET",
                "v3",
            ),
            (
                "var secret string = \"v4\"\nSignedString(secret)",
                Lang::CLike,
                "secret",
                "v4",
            ),
            ("key := \"v5\"\nSignedString(key)", Lang::CLike, "key", "v5"),
            (
                "SECRET: str = 'v6'\njwt.encode(p, SECRET)",
                Lang::Python,
                "SECRET",
                "v6",
            ),
            ("SECRET = 'v7'\n", Lang::Ruby, "SECRET", "v7"),
            (
                "<?php define('JWT_KEY', 'v8');\nJWT::encode($p, JWT_KEY)",
                Lang::Php,
                "JWT_KEY",
                "v8",
            ),
            (
                "$key = \"v9\";\nJWT::encode($p, $key)",
                Lang::Php,
                "key",
                "v9",
            ),
            (
                "cfg = {'secret' => 'v10'}\nJWT.encode(p, cfg.secret)",
                Lang::Ruby,
                "secret",
                "v10",
            ),
            (
                "const s = process.env.S || 'v11';\njwt.sign(p, s)",
                Lang::CLike,
                "s",
                "v11",
            ),
            (
                "alias = base\nbase = 'v12'\njwt.encode(p, alias)",
                Lang::Python,
                "alias",
                "v12",
            ),
            (
                "this.secret = 'v13';\njwt.sign(p, this.secret)",
                Lang::CLike,
                "secret",
                "v13",
            ),
        ];
        for (src, lang, name, want) in cases {
            let got = traced(src, *lang, name, &format!("{name})"))
                .or_else(|| traced(src, *lang, name, name));
            assert_eq!(got.as_deref(), Some(*want), "{src}");
        }
    }

    #[test]
    fn not_assignments() {
        for (src, lang) in [
            ("if (secret == 'x') {}\njwt.sign(p, secret)", Lang::CLike),
            ("// var secret = 'x'\njwt.sign(p, secret)", Lang::CLike),
            ("secret = getSecret('x')\njwt.sign(p, secret)", Lang::CLike),
            (
                "secret = os.environ['X']\njwt.encode(p, secret)",
                Lang::Python,
            ),
        ] {
            let blob = src.as_bytes();
            let used_at = memchr::memmem::rfind(blob, b"secret)").unwrap();
            assert_eq!(
                assignment(blob, lang, b"secret", false, used_at),
                None,
                "{src}"
            );
        }
    }
}
