//! The key argument of a sign/verify call, read from the call's own argument list (balanced
//! brackets, the language's strings and comments), at the position the library uses for the key.
//! Declarations (`signWith(Key key) {`, `def encode(self, key):`) are not calls.

use super::tokenize::{Lang, Lexer, Tok, Token};

/// How far after the call's name its argument list is read.
const MAX_CALL_BYTES: usize = 4096;

/// Which libraries' convention a call follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// `jwt.sign(payload, KEY)`, `jwt.verify(token, KEY)`, `jwt.encode(payload, KEY, ...)`,
    /// `JWT.encode(payload, KEY, 'HS256')`, `JWT::encode($payload, $key, 'HS256')`: the second
    /// argument, or a keyword argument named like a key.
    Jwt,
    /// `signWith(KEY)`, `setSigningKey(KEY)`, `Algorithm.HMAC256(KEY)`, `SignedString(KEY)`,
    /// `SymmetricSecurityKey(KEY)`, `InMemory::plainText(KEY)`: the first argument that is not
    /// an algorithm.
    KeyFirst,
    /// `return []byte("...")`: a Go key callback.
    ByteReturn,
}

impl CallKind {
    /// The convention of a call, from its matched name (`jwt.sign`, `signWith`, `return []byte`).
    pub fn of(call: &[u8]) -> CallKind {
        let lower = call.to_ascii_lowercase();
        if lower.starts_with(b"return") {
            CallKind::ByteReturn
        } else if lower.starts_with(b"jwt")
            || lower.starts_with(b"jws")
            || lower.starts_with(b"jsonwebtoken")
        {
            CallKind::Jwt
        } else {
            CallKind::KeyFirst
        }
    }
}

/// What the key argument holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyExpr {
    /// A string literal (its token).
    Literal(Token),
    /// A name whose value is assigned elsewhere (`secret`, `config.jwtSecret` → `jwtSecret`),
    /// and whether it was a member (`config.jwtSecret`, `this.secret`): only a member may be
    /// assigned as `jwtSecret: '…'` or `'secret' => '…'` in an object or hash.
    Name(Vec<u8>, bool),
}

/// Keyword arguments that hold the key.
const KEY_KEYWORDS: &[&str] = &[
    "key",
    "secret",
    "secret_key",
    "signing_key",
    "secretOrPrivateKey",
    "secretOrPublicKey",
    "secretOrKey",
];

/// Calls that wrap the key: their first argument is the key (`Keys.hmacShaKeyFor(x)`,
/// `new SecretKeySpec(x, "HmacSHA256")`, `Encoding.UTF8.GetBytes(x)`, `[]byte(x)`,
/// `Buffer.from(x)`, `new Key($x, 'HS256')`, `base64.b64decode(x)`).
const WRAPPERS: &[&str] = &[
    "hmacShaKeyFor",
    "SecretKeySpec",
    "Key",
    "GetBytes",
    "FromBase64String",
    "decode",
    "decodeBase64",
    "b64decode",
    "urlsafe_b64decode",
    "from",
    "createSecretKey",
    "byte",
    "bytes",
    "bytearray",
    "str",
    "String",
    "HMAC256",
    "HMAC384",
    "HMAC512",
    "SymmetricSecurityKey",
    "plainText",
    "base64Encoded",
    "parseBase64Binary",
    "encode",
    "encodeToByteArray",
    "toByteArray",
    "utf8",
];

/// Methods that turn their receiver into key bytes (`SECRET.encode()`, `secret.getBytes(UTF_8)`).
const ENCODE_METHODS: &[&str] = &[
    "encode",
    "getBytes",
    "toByteArray",
    "encodeToByteArray",
    "as_bytes",
    "bytes",
    "toCharArray",
    "toString",
    "to_s",
    "b",
    "trim",
    "strip",
];

/// Roots of environment and configuration lookups: a name under them is not traced.
const LOOKUP_ROOTS: &[&str] = &[
    "process",
    "os",
    "ENV",
    "System",
    "Environment",
    "environ",
    "env",
    "import",
];

/// The tokens of the argument list that starts right after `name_end` (with its brackets), or
/// `None` when what follows is not a call, or the call is a declaration.
pub fn call_tokens(blob: &[u8], lang: Lang, name_end: usize) -> Option<Vec<Token>> {
    let mut lexer = Lexer::new(blob, lang, name_end, name_end + MAX_CALL_BYTES);
    let first = lexer.next()?;
    let parenthesised = first.is(blob, "(");
    // Ruby calls its methods without parentheses: `JWT.encode payload, key, 'HS256'`.
    let bare_ruby = lang == Lang::Ruby
        && !first.newline_before
        && matches!(first.kind, Tok::Ident | Tok::Str)
        && first.text(blob) != b"do";
    if !parenthesised && !bare_ruby {
        return None;
    }
    let mut tokens = vec![first];
    let mut depth: i32 = i32::from(parenthesised);
    for token in lexer.by_ref() {
        if !parenthesised && depth == 0 && token.newline_before {
            let last = tokens.last()?;
            if !last.is(blob, ",") {
                break;
            }
        }
        let text = token.text(blob);
        if token.kind == Tok::Punct && matches!(text, b"(" | b"[" | b"{") {
            depth += 1;
        } else if token.kind == Tok::Punct && matches!(text, b")" | b"]" | b"}") {
            depth -= 1;
        }
        tokens.push(token);
        if parenthesised && depth == 0 {
            let after = lexer.next();
            if after.is_some_and(|t| is_declaration_tail(blob, lang, &t)) {
                return None;
            }
            return Some(tokens);
        }
        if depth < 0 {
            break;
        }
    }
    if parenthesised {
        return None; // the list does not close within the window
    }
    Some(tokens)
}

/// What follows a parameter list, not an argument list: a body or a Python `def`'s colon.
fn is_declaration_tail(blob: &[u8], lang: Lang, token: &Token) -> bool {
    (token.is(blob, "{") && matches!(lang, Lang::CLike | Lang::Php))
        || (token.is(blob, ":") && lang == Lang::Python && !token.newline_before)
        || (token.kind == Tok::Ident && token.text(blob) == b"throws")
}

/// Whether the text before the call's name declares it (`def`, `function`, `fun`, `func`, `fn`).
pub fn is_declared(blob: &[u8], name_start: usize) -> bool {
    let line_start = super::tokenize::line_start(blob, name_start);
    let before = blob[line_start.max(name_start.saturating_sub(200))..name_start].trim_ascii_end();
    let last_word: Vec<u8> = before
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .copied()
        .collect::<Vec<u8>>()
        .into_iter()
        .rev()
        .collect();
    matches!(
        last_word.as_slice(),
        b"def" | b"function" | b"fun" | b"func" | b"fn" | b"sub" | b"void"
    )
}

/// The top-level arguments inside `tokens` (which start with the opening bracket when there
/// is one).
pub fn split_args<'t>(blob: &[u8], tokens: &'t [Token]) -> Vec<&'t [Token]> {
    let inner = match tokens.first() {
        Some(first) if first.is(blob, "(") => &tokens[1..tokens.len().saturating_sub(1)],
        _ => tokens,
    };
    let mut args = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, token) in inner.iter().enumerate() {
        let text = token.text(blob);
        if token.kind == Tok::Punct {
            match text {
                b"(" | b"[" | b"{" => depth += 1,
                b")" | b"]" | b"}" => depth -= 1,
                b"," if depth == 0 => {
                    args.push(&inner[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    if start < inner.len() {
        args.push(&inner[start..]);
    }
    args
}

/// A parameter list: some argument is two names in a row (`Key key`, `String secret`).
fn looks_like_parameters(blob: &[u8], args: &[&[Token]]) -> bool {
    const MODIFIERS: &[&[u8]] = &[
        b"new", b"await", b"yield", b"typeof", b"not", b"ref", b"out", b"in", b"lambda", b"await",
        b"const", b"return",
    ];
    args.iter().any(|arg| {
        arg.len() >= 2
            && arg[0].kind == Tok::Ident
            && arg[1].kind == Tok::Ident
            && !MODIFIERS.contains(&arg[0].text(blob))
    })
}

/// The key argument of a call, by the convention of `kind`.
pub fn key_argument(blob: &[u8], lang: Lang, kind: CallKind, tokens: &[Token]) -> Option<KeyExpr> {
    let args = split_args(blob, tokens);
    if looks_like_parameters(blob, &args) {
        return None;
    }
    let keyword = args.iter().find_map(|arg| keyword_value(blob, lang, arg));
    let positional: Vec<&[Token]> = args
        .iter()
        .copied()
        .filter(|arg| keyword_name(blob, lang, arg).is_none())
        .collect();
    let arg = match kind {
        CallKind::Jwt => keyword.or_else(|| positional.get(1).copied()),
        CallKind::KeyFirst => positional
            .iter()
            .copied()
            .find(|arg| !is_algorithm(blob, arg)),
        CallKind::ByteReturn => positional.first().copied(),
    }?;
    key_expr(blob, lang, arg, 0)
}

/// `name=` (Python, Kotlin, C# `name:`), `name:` (Ruby, JS objects are not arguments).
fn keyword_name<'b>(blob: &'b [u8], lang: Lang, arg: &[Token]) -> Option<&'b [u8]> {
    let (first, second) = (arg.first()?, arg.get(1)?);
    let marks_keyword = match lang {
        Lang::Python | Lang::CLike => second.is(blob, "=") || second.is(blob, ":"),
        Lang::Ruby => second.is(blob, ":") || second.is(blob, "=>"),
        Lang::Php => second.is(blob, ":"),
    };
    (first.kind == Tok::Ident && marks_keyword).then(|| first.text(blob))
}

/// The value of a keyword argument that names the key.
fn keyword_value<'t>(blob: &[u8], lang: Lang, arg: &'t [Token]) -> Option<&'t [Token]> {
    let name = keyword_name(blob, lang, arg)?;
    let name = std::str::from_utf8(name).ok()?;
    KEY_KEYWORDS.contains(&name).then(|| &arg[2..])
}

/// `SignatureAlgorithm.HS256`, `Jwts.SIG.HS256`, `SecurityAlgorithms.HmacSha256`, `"HS256"`.
fn is_algorithm(blob: &[u8], arg: &[Token]) -> bool {
    arg.iter().any(|t| {
        let text = t.text(blob);
        t.kind == Tok::Ident
            && (text.ends_with(b"Algorithm")
                || text.ends_with(b"Algorithms")
                || text == b"SIG"
                || text.starts_with(b"SigningMethod"))
    }) || (arg.len() == 1 && arg[0].kind == Tok::Str && {
        let (s, e) = arg[0].inner;
        let value = String::from_utf8_lossy(&blob[s..e]).to_ascii_lowercase();
        super::values::ALGORITHM_NAMES.contains(&value.as_str()) || value.starts_with("hmac")
    })
}

/// What a key expression holds: a literal (through wrappers and encodings, or as the literal
/// default of an environment lookup), or a name to trace.
pub fn key_expr(blob: &[u8], lang: Lang, arg: &[Token], depth: u8) -> Option<KeyExpr> {
    if depth > 4 {
        return None;
    }
    if let Some(default) = lookup_default(blob, arg) {
        return Some(KeyExpr::Literal(default));
    }
    let mut i = 0;
    while arg.get(i).is_some_and(|t| {
        matches!(t.text(blob), b"new" | b"await" | b"&" | b"*" | b"(" | b"@") && t.kind != Tok::Str
    }) {
        i += 1;
    }
    let rest = &arg[i..];
    let first = rest.first()?;
    if first.kind == Tok::Str {
        return first.is_literal().then_some(KeyExpr::Literal(*first));
    }
    // Go: `[]byte(x)`.
    if first.is(blob, "[") && rest.get(1)?.is(blob, "]") && rest.get(2)?.kind == Tok::Ident {
        return wrapped_arg(blob, lang, &rest[3..], depth);
    }
    if first.kind != Tok::Ident {
        return None;
    }
    // A chain of names: `a.b.c`, `$this->key`, `Encoding.UTF8.GetBytes(...)`, `x.getBytes()`.
    let mut names: Vec<&[u8]> = Vec::new();
    let mut j = 0;
    while let Some(token) = rest.get(j) {
        if token.kind != Tok::Ident {
            return None;
        }
        let text = token.text(blob);
        let next = rest.get(j + 1);
        if next.is_some_and(|n| n.is(blob, "(")) {
            let name = std::str::from_utf8(text).unwrap_or("");
            let call = &rest[j + 1..];
            let receiver_is_codec = names.last().is_some_and(|r| is_codec(r));
            if ENCODE_METHODS.contains(&name) && !names.is_empty() && !receiver_is_codec {
                return traced_name(&names);
            }
            if WRAPPERS.contains(&name) {
                return wrapped_arg(blob, lang, call, depth);
            }
            // `Base64.getDecoder().decode(x)`: an empty call inside the chain.
            let empty = call.get(1).is_some_and(|t| t.is(blob, ")"));
            if empty && call.get(2).is_some_and(|t| t.is(blob, ".")) {
                names.push(text);
                j += 4;
                continue;
            }
            return None; // some other function computes the key
        }
        names.push(text);
        match next {
            Some(n)
                if n.is(blob, ".") || n.is(blob, "->") || n.is(blob, "::") || n.is(blob, "?.") =>
            {
                j += 2;
            }
            Some(n) if n.is(blob, "[") => return None, // `config['x']`, `os.environ['X']`
            _ => return traced_name(&names),
        }
    }
    None
}

/// The first argument of the wrapper call whose argument list starts `call`.
fn wrapped_arg(blob: &[u8], lang: Lang, call: &[Token], depth: u8) -> Option<KeyExpr> {
    if !call.first()?.is(blob, "(") {
        return None;
    }
    let mut depth_count = 0i32;
    let end = call.iter().position(|t| {
        if t.is(blob, "(") || t.is(blob, "[") || t.is(blob, "{") {
            depth_count += 1;
        } else if t.is(blob, ")") || t.is(blob, "]") || t.is(blob, "}") {
            depth_count -= 1;
        }
        depth_count == 0
    })?;
    let args = split_args(blob, &call[..=end]);
    key_expr(blob, lang, args.first()?, depth + 1)
}

fn is_codec(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        &b"encod"[..],
        b"base64",
        b"utf8",
        b"utf_8",
        b"codec",
        b"decoders",
        b"hex",
    ]
    .iter()
    .any(|w| memchr::memmem::find(&lower, w).is_some())
}

/// The name to trace for a chain (`config.jwtSecret` → `jwtSecret`); `None` for lookups
/// (`process.env.X`, `os.environ`).
fn traced_name(names: &[&[u8]]) -> Option<KeyExpr> {
    let root = std::str::from_utf8(names.first()?).ok()?;
    if names.len() > 1 && LOOKUP_ROOTS.contains(&root) {
        return None;
    }
    let last = *names.last()?;
    let bare = last.strip_prefix(b"$").unwrap_or(last);
    let bare = bare.strip_prefix(b"@").unwrap_or(bare);
    (bare.len() >= 2
        && !matches!(
            bare,
            b"this" | b"self" | b"nil" | b"null" | b"undefined" | b"None"
        ))
    .then(|| KeyExpr::Name(bare.to_vec(), names.len() > 1))
}

/// `process.env.X || 'lit'`, `os.environ.get('X', 'lit')`, `getenv("X", "lit")`,
/// `ENV.fetch('X', 'lit')`, `env('X', 'lit')`: the literal default of a lookup.
pub fn lookup_default(blob: &[u8], arg: &[Token]) -> Option<Token> {
    let is_lookup = |tokens: &[Token]| {
        tokens.iter().take(6).any(|t| {
            t.kind == Tok::Ident
                && matches!(
                    t.text(blob),
                    b"env"
                        | b"ENV"
                        | b"environ"
                        | b"getenv"
                        | b"Getenv"
                        | b"GetEnvironmentVariable"
                        | b"getProperty"
                        | b"fetch"
                )
        })
    };
    if !is_lookup(arg) {
        return None;
    }
    // `A || 'lit'`, `A ?? 'lit'`, `A or 'lit'`, `A ?: 'lit'`.
    let last = arg.last()?;
    let before = arg.get(arg.len().checked_sub(2)?)?;
    if last.is_literal()
        && (before.is(blob, "||")
            || before.is(blob, "??")
            || before.is(blob, "?:")
            || (before.kind == Tok::Ident && before.text(blob) == b"or"))
    {
        return Some(*last);
    }
    // `get('X', 'lit')`: a call whose second argument is a literal.
    let open = arg.iter().position(|t| t.is(blob, "("))?;
    let args = split_args(blob, &arg[open..]);
    match args.as_slice() {
        [name, default, ..] if name.len() == 1 && default.len() == 1 && default[0].is_literal() => {
            Some(default[0])
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key argument of the first `call` in `src`, as text (`lit:` or `name:`).
    fn key_of(src: &str, lang: Lang, call: &str) -> Option<String> {
        let blob = src.as_bytes();
        let at = memchr::memmem::find(blob, call.as_bytes())?;
        if is_declared(blob, at) {
            return None;
        }
        let tokens = call_tokens(blob, lang, at + call.len())?;
        let kind = CallKind::of(call.as_bytes());
        Some(match key_argument(blob, lang, kind, &tokens)? {
            KeyExpr::Literal(t) => {
                format!(
                    "lit:{}",
                    String::from_utf8_lossy(&blob[t.inner.0..t.inner.1])
                )
            }
            KeyExpr::Name(n, _) => format!("name:{}", String::from_utf8_lossy(&n)),
        })
    }

    #[test]
    fn key_positions_by_library() {
        let cases: &[(&str, Lang, &str, &str)] = &[
            (
                "jwt.sign({ a: 1 }, 'k1', { expiresIn: '30m' })",
                Lang::CLike,
                "jwt.sign",
                "lit:k1",
            ),
            (
                "jwt.sign({ e: u.e }, secret + user.hashedPassword, { x: 1 })",
                Lang::CLike,
                "jwt.sign",
                "name:secret",
            ),
            (
                "jwt.verify(token, config.jwtSecret, cb)",
                Lang::CLike,
                "jwt.verify",
                "name:jwtSecret",
            ),
            (
                "jwt.encode(payload, SECRET.encode(), algorithm='HS256')",
                Lang::Python,
                "jwt.encode",
                "name:SECRET",
            ),
            (
                "jwt.decode(tok, key='k2', algorithms=['HS256'])",
                Lang::Python,
                "jwt.decode",
                "lit:k2",
            ),
            (
                "jwt.decode(tok, 'k3', algorithms=['exp'])",
                Lang::Python,
                "jwt.decode",
                "lit:k3",
            ),
            (
                "JWT.encode payload, 'k4', 'HS256'\nx = 1",
                Lang::Ruby,
                "JWT.encode",
                "lit:k4",
            ),
            (
                "JWT::decode($jwt, new Key($key, 'HS256'))",
                Lang::Php,
                "JWT::decode",
                "name:key",
            ),
            (
                "JWT::encode($payload, 'k5', 'HS256')",
                Lang::Php,
                "JWT::encode",
                "lit:k5",
            ),
            (
                ".signWith(SignatureAlgorithm.HS256, \"k6\".getBytes())",
                Lang::CLike,
                "signWith",
                "lit:k6",
            ),
            (
                ".signWith(Keys.hmacShaKeyFor(SECRET.getBytes(StandardCharsets.UTF_8)))",
                Lang::CLike,
                "signWith",
                "name:SECRET",
            ),
            (
                "Algorithm.HMAC256(\"k7\")",
                Lang::CLike,
                "Algorithm.HMAC256",
                "lit:k7",
            ),
            (
                "t.SignedString([]byte(\"k8\"))",
                Lang::CLike,
                "SignedString",
                "lit:k8",
            ),
            (
                "new SymmetricSecurityKey(Encoding.UTF8.GetBytes(\"k9\"))",
                Lang::CLike,
                "SymmetricSecurityKey",
                "lit:k9",
            ),
            (
                "InMemory::plainText('k10')",
                Lang::Php,
                "InMemory::plainText",
                "lit:k10",
            ),
            (
                "return []byte(\"k11\"), nil",
                Lang::CLike,
                "return []byte",
                "lit:k11",
            ),
            (
                "jwt.sign(p, process.env.JWT_SECRET || 'k12')",
                Lang::CLike,
                "jwt.sign",
                "lit:k12",
            ),
            (
                "jwt.encode(p, os.environ.get('JWT_SECRET', 'k13'))",
                Lang::Python,
                "jwt.encode",
                "lit:k13",
            ),
            (
                ".setSigningKey(Base64.getDecoder().decode(KEY))",
                Lang::CLike,
                "setSigningKey",
                "name:KEY",
            ),
            (
                "jwt.sign(p, this.secret)",
                Lang::CLike,
                "jwt.sign",
                "name:secret",
            ),
            (
                "JWT::encode($p, $this->key)",
                Lang::Php,
                "JWT::encode",
                "name:key",
            ),
        ];
        for (src, lang, call, want) in cases {
            assert_eq!(key_of(src, *lang, call).as_deref(), Some(*want), "{src}");
        }
    }

    #[test]
    fn not_a_key_argument() {
        let cases: &[(&str, Lang, &str)] = &[
            // Text after the closing parenthesis.
            (
                "jwt.sign(payload); log('not-the-key')",
                Lang::CLike,
                "jwt.sign",
            ),
            (
                "jwt.sign(payload, getKey()); x = 'k'",
                Lang::CLike,
                "jwt.sign",
            ),
            // Declarations.
            (
                "public JwtBuilder signWith(Key key) { return this; }",
                Lang::CLike,
                "signWith",
            ),
            (
                "  def encode(self, payload, key):\n",
                Lang::Python,
                "encode",
            ),
            ("function sign(payload, secret) {", Lang::CLike, "sign"),
            // Lookups.
            (
                "jwt.sign(p, process.env.JWT_SECRET)",
                Lang::CLike,
                "jwt.sign",
            ),
            ("jwt.encode(p, os.environ['K'])", Lang::Python, "jwt.encode"),
            ("jwt.sign(p, `${prefix}-k`)", Lang::CLike, "jwt.sign"),
            ("JWT.decode token, nil, false", Lang::Ruby, "JWT.decode"),
            // Algorithm only.
            (
                ".signWith(SignatureAlgorithm.HS256)",
                Lang::CLike,
                "signWith",
            ),
            // Prose.
            (
                "Call jwt.sign with the 'secret' key",
                Lang::CLike,
                "jwt.sign",
            ),
        ];
        for (src, lang, call) in cases {
            assert_eq!(key_of(src, *lang, call), None, "{src}");
        }
    }
}
