//! A small tokenizer per language family: enough to know string literals (quotes, escapes, raw,
//! template, triple-quoted and verbatim strings) and comments, so that call arguments are read
//! by balanced brackets instead of regex reach. It runs on a bounded window near a keyword hit,
//! never over whole files.

/// Language families that share string and comment syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// JS/TS, Java, C#, Go, Kotlin, Groovy, Scala, Rust, Swift, C/C++, Dart.
    CLike,
    Python,
    Ruby,
    Php,
}

impl Lang {
    /// The family of a file, by extension (`None` for files that are not code).
    pub fn of_path(path: &str) -> Option<Lang> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
        Lang::of_name(&extension.to_ascii_lowercase())
    }

    /// The family named by an extension or a Markdown fence's info string (`js`, `python`).
    pub fn of_name(name: &str) -> Option<Lang> {
        Some(match name {
            "js" | "jsx" | "mjs" | "cjs" | "ts" | "tsx" | "mts" | "cts" | "javascript"
            | "typescript" | "java" | "cs" | "csharp" | "c#" | "go" | "golang" | "kt" | "kts"
            | "kotlin" | "groovy" | "gradle" | "scala" | "rs" | "rust" | "swift" | "c" | "h"
            | "cc" | "cpp" | "hpp" | "dart" | "vue" | "svelte" | "node" => Lang::CLike,
            "py" | "pyw" | "pyi" | "python" | "python3" | "py3" | "ipynb" | "pycon" | "ipython" => {
                Lang::Python
            }
            "rb" | "ruby" | "rake" | "gemspec" | "erb" => Lang::Ruby,
            "php" | "phtml" | "inc" => Lang::Php,
            _ => return None,
        })
    }

    /// Whether `#` starts a comment.
    fn hash_comments(self) -> bool {
        matches!(self, Lang::Python | Lang::Ruby | Lang::Php)
    }

    /// Whether `//` and `/* */` are comments.
    fn slash_comments(self) -> bool {
        matches!(self, Lang::CLike | Lang::Php)
    }
}

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A name: `jwt`, `$key`, `@secret`, `SECRET_KEY`.
    Ident,
    /// A string literal; `inner` is its content.
    Str,
    Num,
    /// One punctuation mark, or an operator of two or three (`::`, `=>`, `:=`, `||`, `??`, `->`).
    Punct,
}

/// One token: its span in the blob, and for strings the span of the content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
    /// Content span of a string (between the quotes); the whole token otherwise.
    pub inner: (usize, usize),
    /// A string with interpolation (`${x}`, `#{x}`, f-strings, `$"..."`): not a literal value.
    pub interpolated: bool,
    /// A string whose closing quote was not found before the line or window ended.
    pub unterminated: bool,
    /// A line break lies between this token and the one before.
    pub newline_before: bool,
}

impl Token {
    /// The token's text.
    pub fn text<'a>(&self, blob: &'a [u8]) -> &'a [u8] {
        &blob[self.start..self.end]
    }

    /// Whether this is the punctuation `p`.
    pub fn is(&self, blob: &[u8], p: &str) -> bool {
        self.kind == Tok::Punct && self.text(blob) == p.as_bytes()
    }

    /// A complete string without interpolation: a literal value.
    pub fn is_literal(&self) -> bool {
        self.kind == Tok::Str && !self.interpolated && !self.unterminated
    }
}

/// Tokens of one language family over `blob[pos..end]`, comments and whitespace skipped.
pub struct Lexer<'a> {
    blob: &'a [u8],
    lang: Lang,
    pos: usize,
    end: usize,
    newline: bool,
}

const OPERATORS: &[&str] = &[
    "===", "!==", "::", "=>", ":=", "==", "!=", "||", "??", "?:", "->", "&&", "<=", ">=", "**",
];

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

impl<'a> Lexer<'a> {
    /// A lexer over `blob[pos..end]` (`end` is clamped to the blob).
    pub fn new(blob: &'a [u8], lang: Lang, pos: usize, end: usize) -> Lexer<'a> {
        let end = end.min(blob.len());
        Lexer {
            blob,
            lang,
            pos: pos.min(end),
            end,
            newline: false,
        }
    }

    /// Where the lexer stands (the end of the last token, or past skipped text).
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn at(&self, i: usize) -> u8 {
        if i < self.end { self.blob[i] } else { 0 }
    }

    fn starts(&self, s: &str) -> bool {
        self.blob[self.pos..self.end].starts_with(s.as_bytes())
    }

    /// Skip whitespace and comments. Returns false when a comment runs past the window.
    fn skip_trivia(&mut self) -> bool {
        loop {
            while self.pos < self.end && self.blob[self.pos].is_ascii_whitespace() {
                self.newline |= self.blob[self.pos] == b'\n';
                self.pos += 1;
            }
            if self.pos >= self.end {
                return true;
            }
            let line_comment = (self.lang.slash_comments() && self.starts("//"))
                || (self.lang.hash_comments() && self.starts("#") && !self.starts("#["))
                || (self.lang == Lang::Ruby && self.starts("=begin") && self.at_line_start());
            if line_comment && self.lang == Lang::Ruby && self.starts("=begin") {
                match memchr::memmem::find(&self.blob[self.pos..self.end], b"\n=end") {
                    Some(i) => self.pos += i + 5,
                    None => {
                        self.pos = self.end;
                        return false;
                    }
                }
            } else if line_comment {
                self.pos = memchr::memchr(b'\n', &self.blob[self.pos..self.end])
                    .map_or(self.end, |i| self.pos + i);
            } else if self.lang.slash_comments() && self.starts("/*") {
                match memchr::memmem::find(&self.blob[self.pos + 2..self.end], b"*/") {
                    Some(i) => {
                        let body = &self.blob[self.pos..self.pos + 2 + i];
                        self.newline |= body.contains(&b'\n');
                        self.pos += 2 + i + 2;
                    }
                    None => {
                        self.pos = self.end;
                        return false;
                    }
                }
            } else {
                return true;
            }
        }
    }

    fn at_line_start(&self) -> bool {
        self.pos == 0 || self.blob[self.pos - 1] == b'\n'
    }

    /// A string starting at `self.pos + prefix` with `quote` (1 or 3 bytes).
    fn string(&mut self, start: usize, prefix: usize, raw: bool, interpolating: bool) -> Token {
        let q = self.blob[self.pos + prefix];
        let triple = self.at(self.pos + prefix + 1) == q && self.at(self.pos + prefix + 2) == q;
        let triple = triple && (q == b'"' || (q == b'\'' && self.lang != Lang::CLike));
        let open = if triple { 3 } else { 1 };
        let content_start = self.pos + prefix + open;
        let multiline = triple || q == b'`';
        // C# verbatim strings double the quote instead of escaping it.
        let verbatim = raw && self.lang == Lang::CLike;
        let mut i = content_start;
        let mut interpolated = false;
        let mut found = None;
        while i < self.end {
            let b = self.blob[i];
            if b == b'\\' && !(verbatim || (q == b'`' && self.lang == Lang::CLike && raw)) {
                i += 2;
                continue;
            }
            if b == b'\n' && !multiline && !verbatim {
                break;
            }
            if interpolating && self.interpolates_at(i, q) {
                interpolated = true;
            }
            if b == q {
                if verbatim && self.at(i + 1) == q {
                    i += 2;
                    continue;
                }
                if !triple || (self.at(i + 1) == q && self.at(i + 2) == q) {
                    found = Some(i);
                    break;
                }
            }
            i += 1;
        }
        let (content_end, end, unterminated) = match found {
            Some(close) => (close, close + open, false),
            None => (i.min(self.end), i.min(self.end), true),
        };
        self.pos = end;
        Token {
            kind: Tok::Str,
            start,
            end,
            inner: (content_start, content_end),
            interpolated,
            unterminated,
            newline_before: false,
        }
    }

    /// Whether an interpolation starts at `i` in an interpolating string opened with `q`.
    fn interpolates_at(&self, i: usize, q: u8) -> bool {
        let (b, next) = (self.blob[i], self.at(i + 1));
        match self.lang {
            Lang::Python => b == b'{' && next != b'{',
            Lang::Ruby => b == b'#' && next == b'{',
            Lang::Php => (b == b'$' && is_ident_start(next)) || (b == b'{' && next == b'$'),
            // JS templates: `${`; C# `$"..."`: `{`.
            Lang::CLike if q == b'`' => b == b'$' && next == b'{',
            Lang::CLike => b == b'{' && next != b'{',
        }
    }

    /// The length of a string prefix at `pos` (`r`, `b`, `f`, `rb`, `@`, `$`, `$@`), with whether
    /// it makes the string raw and whether it interpolates; `None` when no string starts here.
    fn string_prefix(&self) -> Option<(usize, bool, bool)> {
        let quote_at = |n: usize| matches!(self.at(self.pos + n), b'"' | b'\'');
        match self.lang {
            Lang::Python => {
                let mut n = 0;
                let (mut raw, mut f) = (false, false);
                while n < 3
                    && matches!(
                        self.at(self.pos + n).to_ascii_lowercase(),
                        b'r' | b'b' | b'u' | b'f'
                    )
                {
                    raw |= self.at(self.pos + n).eq_ignore_ascii_case(&b'r');
                    f |= self.at(self.pos + n).eq_ignore_ascii_case(&b'f');
                    n += 1;
                }
                (n > 0 && quote_at(n)).then_some((n, raw, f))
            }
            Lang::CLike => {
                if self.starts("$@\"") || self.starts("@$\"") {
                    Some((2, true, true))
                } else if self.starts("@\"") {
                    Some((1, true, false))
                } else if self.starts("$\"") {
                    Some((1, false, true))
                } else if self.starts("b\"") || self.starts("b'") {
                    Some((1, false, false))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Rust raw strings: `r"..."`, `r#"..."#`, `br#"..."#`.
    fn rust_raw(&mut self) -> Option<Token> {
        let start = self.pos;
        let mut i = self.pos + usize::from(self.at(self.pos) == b'b');
        if self.at(i) != b'r' {
            return None;
        }
        i += 1;
        let hashes = self.blob[i..self.end]
            .iter()
            .take_while(|&&b| b == b'#')
            .count();
        if self.at(i + hashes) != b'"' {
            return None;
        }
        let content_start = i + hashes + 1;
        let mut closing = vec![b'"'];
        closing.extend(std::iter::repeat_n(b'#', hashes));
        let (content_end, end, unterminated) =
            match memchr::memmem::find(&self.blob[content_start..self.end], &closing) {
                Some(k) => (content_start + k, content_start + k + closing.len(), false),
                None => (self.end, self.end, true),
            };
        self.pos = end;
        Some(Token {
            kind: Tok::Str,
            start,
            end,
            inner: (content_start, content_end),
            interpolated: false,
            unterminated,
            newline_before: false,
        })
    }

    fn simple(&mut self, kind: Tok, len: usize) -> Token {
        let start = self.pos;
        self.pos += len;
        Token {
            kind,
            start,
            end: self.pos,
            inner: (start, self.pos),
            interpolated: false,
            unterminated: false,
            newline_before: false,
        }
    }

    fn next_token(&mut self) -> Option<Token> {
        let b = self.blob[self.pos];
        let start = self.pos;
        if let Some((prefix, raw, f)) = self.string_prefix() {
            let interpolating = f || self.lang == Lang::Php;
            return Some(self.string(start, prefix, raw, interpolating));
        }
        if self.lang == Lang::CLike
            && matches!(b, b'r' | b'b')
            && let Some(token) = self.rust_raw()
        {
            return Some(token);
        }
        match b {
            b'"' => {
                let interpolating = matches!(self.lang, Lang::Ruby | Lang::Php);
                Some(self.string(start, 0, false, interpolating))
            }
            b'\'' => Some(self.string(start, 0, false, false)),
            b'`' => {
                // JS templates interpolate; Go raw strings have no escapes.
                Some(self.string(start, 0, false, self.lang == Lang::CLike))
            }
            b'@' if self.lang == Lang::Ruby && is_ident_start(self.at(self.pos + 1)) => {
                let len = 1 + self.ident_len(self.pos + 1);
                Some(self.simple(Tok::Ident, len))
            }
            _ if is_ident_start(b) => {
                let mut len = self.ident_len(self.pos);
                if self.lang == Lang::Ruby && matches!(self.at(self.pos + len), b'?' | b'!') {
                    len += 1;
                }
                Some(self.simple(Tok::Ident, len))
            }
            _ if b.is_ascii_digit() => {
                let len = self.blob[self.pos..self.end]
                    .iter()
                    .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
                    .count();
                Some(self.simple(Tok::Num, len))
            }
            _ => {
                let len = OPERATORS
                    .iter()
                    .find(|op| self.starts(op))
                    .map_or(1, |op| op.len());
                Some(self.simple(Tok::Punct, len))
            }
        }
    }

    fn ident_len(&self, from: usize) -> usize {
        self.blob[from..self.end]
            .iter()
            .take_while(|&&c| is_ident_byte(c))
            .count()
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        self.newline = false;
        if !self.skip_trivia() || self.pos >= self.end {
            return None;
        }
        let mut token = self.next_token()?;
        token.newline_before = self.newline;
        Some(token)
    }
}

/// How far back a line start is looked for (a minified line is not read back to its start).
pub const MAX_LINE_LOOKBACK: usize = 4096;

/// Where the line holding `pos` starts, or `pos - MAX_LINE_LOOKBACK` for a longer line: never
/// a search back over a whole minified file.
pub fn line_start(blob: &[u8], pos: usize) -> usize {
    let floor = pos.saturating_sub(MAX_LINE_LOOKBACK);
    memchr::memrchr(b'\n', &blob[floor..pos]).map_or(floor, |i| floor + i + 1)
}

/// Whether `pos` is on a line longer than [`MAX_LINE_LOOKBACK`] before it (minified code, or a
/// hostile single-line file): calls there are read for literal keys only, without the
/// line-wide comment check or identifier tracing, so the cost per call stays bounded.
pub fn on_long_line(blob: &[u8], pos: usize) -> bool {
    pos > MAX_LINE_LOOKBACK && line_start(blob, pos) == pos - MAX_LINE_LOOKBACK
}

/// Whether `pos` lies in a comment or a string that starts earlier on its line (the line is
/// lexed from its start; block comments are judged by the nearest `/*` and `*/` before it).
///
/// Code is still code where it is quoted as code: a doctest line commented out with `#`
/// (`# >>> jwt.encode(…, 'secret')`), and the interpolation of a string (Ruby's
/// `"#{JWT.encode(…)}"`, a template literal's `${jwt.sign(…)}`).
pub fn in_comment_or_string(blob: &[u8], lang: Lang, pos: usize) -> bool {
    let line_start = line_start(blob, pos);
    if lang.hash_comments() && commented_doctest(&blob[line_start..pos]) {
        return false;
    }
    let mut lexer = Lexer::new(blob, lang, line_start, pos + 1);
    let mut reached = false;
    for token in lexer.by_ref() {
        if token.start == pos {
            reached = true;
            break;
        }
        if token.start > pos || token.end > pos {
            let interpolation = token.kind == Tok::Str
                && token.interpolated
                && in_interpolation(&blob[token.start..pos]);
            return !interpolation;
        }
    }
    if !reached && lexer.pos() > pos {
        return true; // a comment runs over it
    }
    lang.slash_comments() && in_block_comment(blob, line_start, pos)
}

/// A line that is `# >>> …`: a doctest kept in a comment.
fn commented_doctest(line: &[u8]) -> bool {
    line.trim_ascii_start()
        .strip_prefix(b"#")
        .is_some_and(|rest| rest.trim_ascii_start().starts_with(b">>>"))
}

/// Whether the end of `text` (a string literal up to a position) is inside a `#{…}` or `${…}`
/// interpolation: one opened and not yet closed.
fn in_interpolation(text: &[u8]) -> bool {
    let open = [&b"#{"[..], b"${"]
        .iter()
        .filter_map(|marker| memchr::memmem::rfind(text, marker))
        .max();
    open.is_some_and(|at| memchr::memchr(b'}', &text[at..]).is_none())
}

/// A Javadoc-style line (` * text`), or an open `/*` before the line with no `*/` after it.
fn in_block_comment(blob: &[u8], line_start: usize, pos: usize) -> bool {
    let line = blob[line_start..pos].trim_ascii_start();
    if line.starts_with(b"*") || line.starts_with(b"/*") {
        return true;
    }
    let floor = line_start.saturating_sub(16 * 1024);
    let before = &blob[floor..line_start];
    match memchr::memmem::rfind(before, b"/*") {
        Some(open) => {
            let opened_at_line_start = before[..open]
                .iter()
                .rev()
                .take_while(|&&b| b != b'\n')
                .all(|b| b.is_ascii_whitespace());
            opened_at_line_start && memchr::memmem::find(&before[open..], b"*/").is_none()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_code_is_code() {
        let commented = b"    # >>> jwt.encode({'exp': 1}, 'secret')\n";
        let at = memchr::memmem::find(commented, b"jwt.encode").unwrap();
        assert!(!in_comment_or_string(commented, Lang::Python, at));
        let plain = b"    # see jwt.encode(x, 'secret')\n";
        let at = memchr::memmem::find(plain, b"jwt.encode").unwrap();
        assert!(in_comment_or_string(plain, Lang::Python, at));
        let ruby = b"let(:token) { \"#{JWT.encode(payload, 'secret', 'HS256')}\\n\" }\n";
        let at = memchr::memmem::find(ruby, b"JWT.encode").unwrap();
        assert!(!in_comment_or_string(ruby, Lang::Ruby, at));
        let closed = b"puts \"#{x} JWT.encode(payload, 'secret')\"\n";
        let at = memchr::memmem::find(closed, b"JWT.encode").unwrap();
        assert!(in_comment_or_string(closed, Lang::Ruby, at));
    }

    fn texts(src: &str, lang: Lang) -> Vec<String> {
        let blob = src.as_bytes();
        Lexer::new(blob, lang, 0, blob.len())
            .map(|t| {
                let (s, e) = t.inner;
                let text = String::from_utf8_lossy(&blob[s..e]).into_owned();
                match t.kind {
                    Tok::Str if t.interpolated => format!("S~{text}"),
                    Tok::Str => format!("S:{text}"),
                    _ => text,
                }
            })
            .collect()
    }

    #[test]
    fn c_like_strings_and_comments() {
        let src = r##"jwt.sign(p, "a\"b", `t${x}`) // 'not' a string
/* jwt.sign(p, 'c') */ x = @"v""q" + $"i{n}" + r#"raw"#;"##;
        assert_eq!(
            texts(src, Lang::CLike),
            [
                "jwt",
                ".",
                "sign",
                "(",
                "p",
                ",",
                r#"S:a\"b"#,
                ",",
                "S~t${x}",
                ")",
                "x",
                "=",
                r#"S:v""q"#,
                "+",
                "S~i{n}",
                "+",
                "S:raw",
                ";"
            ]
        );
    }

    #[test]
    fn python_prefixes_and_triple_quotes() {
        let src = "k = rb'x\\'y' # c 'd'\nd = \"\"\"a\n'b'\"\"\" + f'{v}'";
        assert_eq!(
            texts(src, Lang::Python),
            ["k", "=", "S:x\\'y", "d", "=", "S:a\n'b'", "+", "S~{v}"]
        );
    }

    #[test]
    fn ruby_and_php() {
        assert_eq!(
            texts("@s = \"#{a}\" # x\n=begin\nq\n=end\nok", Lang::Ruby),
            ["@s", "=", "S~#{a}", "ok"]
        );
        assert_eq!(
            texts("$k = 'a'; # c\nJWT::encode($p, \"$k\")", Lang::Php),
            [
                "$k", "=", "S:a", ";", "JWT", "::", "encode", "(", "$p", ",", "S~$k", ")"
            ]
        );
    }

    #[test]
    fn unterminated_strings_stop_at_the_line() {
        let blob = b"x = 'abc\ny";
        let tokens: Vec<Token> = Lexer::new(blob, Lang::CLike, 0, blob.len()).collect();
        assert!(tokens[2].unterminated);
        assert!(tokens[3].newline_before);
    }

    #[test]
    fn comments_and_strings_are_recognised_around_a_position() {
        let src = b"// jwt.sign(p, 'k')\n * jwt.sign(p, 'k')\nlog(\"jwt.sign(p, 'k')\")\njwt.sign(p, 'k')";
        let hits: Vec<usize> = memchr::memmem::find_iter(src, b"jwt.sign").collect();
        let judged: Vec<bool> = hits
            .iter()
            .map(|&p| in_comment_or_string(src, Lang::CLike, p))
            .collect();
        assert_eq!(judged, [true, true, true, false]);
        let py = b"x = 1  # jwt.encode(p, 'k')\njwt.encode(p, 'k')";
        let hits: Vec<usize> = memchr::memmem::find_iter(py, b"jwt.encode").collect();
        assert!(in_comment_or_string(py, Lang::Python, hits[0]));
        assert!(!in_comment_or_string(py, Lang::Python, hits[1]));
    }
}
