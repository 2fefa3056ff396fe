//! Rules as data: loading `rules/*.toml` (embedded at build time) and user rule files, compiling
//! them, and the keyword prefilter that runs before any regex.

use std::collections::BTreeMap;
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;

use crate::finding::Severity;

/// The shipped list of well-known, default and guessable HMAC secrets
/// (`rules/weak-secrets.txt`), every entry as written (comments and blank lines dropped). The
/// HMAC detector asks it to tell a known default from a placeholder; verification tries every
/// entry against tokens.
pub static WEAK_SECRETS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    include_str!("../rules/weak-secrets.txt")
        .lines()
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

mod validate;

/// The rule files shipped with keysweep, embedded at build time.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[
    ("kinds.toml", include_str!("../rules/kinds.toml")),
    ("pem.toml", include_str!("../rules/pem.toml")),
    ("jwk.toml", include_str!("../rules/jwk.toml")),
    ("jwt.toml", include_str!("../rules/jwt.toml")),
    ("raw-keys.toml", include_str!("../rules/raw-keys.toml")),
    (
        "secret-files.toml",
        include_str!("../rules/secret-files.toml"),
    ),
    ("hmac.toml", include_str!("../rules/hmac.toml")),
    (
        "hmac-config.toml",
        include_str!("../rules/hmac-config.toml"),
    ),
];

/// Errors in rule files. Each names the file and the rule.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: invalid TOML")]
    Toml {
        file: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("{file}: rule {id}: invalid regex")]
    Regex {
        file: String,
        id: String,
        #[source]
        source: regex::Error,
    },
    #[error("{file}: rule {id}")]
    Spec {
        file: String,
        id: String,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{file}: rule {id}: {problem}")]
    Invalid {
        file: String,
        id: String,
        problem: String,
    },
    #[error("kind {id}: duplicate kind id")]
    DuplicateKind { id: String },
    #[error("cannot read rule file {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build keyword prefilter: {0}")]
    Prefilter(String),
}

/// Which parser confirms a rule's matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detector {
    /// PEM armour, also inside string literals and escaped strings.
    Pem,
    /// Base64 text that is decoded and scanned again (base64-wrapped PEM).
    Base64,
    /// PuTTY PPK files.
    Ppk,
    /// JSON Web Keys with private members.
    Jwk,
    /// Compact JWTs.
    Jwt,
    /// HMAC / JWT secrets; placeholder and indirection filtering.
    Hmac,
    /// Raw private keys (hex or base64url of a private-key size) assigned to a private-key name.
    #[serde(rename = "raw-key")]
    RawKey,
    /// No parser: the match itself is the finding (user rules).
    None,
}

/// Bytes around a keyword hit in which the rule's regex runs. Windows are widened to whole lines.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub struct Window {
    #[serde(default)]
    pub before: usize,
    #[serde(default)]
    pub after: usize,
}

/// Which case forms of an all-lowercase keyword the prefilter searches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeywordCase {
    /// As written, UPPERCASE and Capitalized (`jwt`, `JWT`, `Jwt`).
    #[default]
    Any,
    /// Only as written: for keywords whose regex is case-sensitive (`kty`, base64 `ewog`), where
    /// the other forms would only take prefilter patterns (the SIMD search holds 32).
    Exact,
}

/// How much a match by itself says that its value is a signing key, for the hmac detector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceSpec {
    /// The name, or the context the rule's window requires, says signing secret: a plain
    /// `secret:` member next to a JWT is as good as `JWT_SECRET`.
    Named,
    /// A generic name: the value must also look random, be long or be a known default.
    Generic,
}

/// A matcher rule as written in a rule file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    /// Prefilter keywords; may be empty only for a rule with `paths`.
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub keyword_case: KeywordCase,
    /// Path globs (`config/master.key`, `config/credentials/*.key`) of files the rule runs on
    /// whatever their content, from their first byte: for files that hold a bare secret and no
    /// keyword. A pattern matches the whole path or a tail of it that starts at a `/`.
    #[serde(default)]
    pub paths: Vec<String>,
    /// The path the rule's examples are scanned under (required with `paths`; must match them).
    #[serde(default)]
    pub example_path: Option<String>,
    /// For the hmac detector: overrides the evidence it reads from the name group.
    #[serde(default)]
    pub evidence: Option<EvidenceSpec>,
    pub regex: String,
    #[serde(default)]
    pub entropy: Option<f64>,
    pub detect: Detector,
    #[serde(default)]
    pub window: Window,
    /// Rotation advice, for user rules with `detect = "none"` (they are their own kind).
    #[serde(default)]
    pub help: Option<String>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
}

/// A finding kind: what is reported, with the text GitHub code scanning shows.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSpec {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub cwe: u32,
    pub precision: String,
    pub help: String,
}

/// A rule file: rules are kept as TOML tables until each is read on its own, so an error names
/// the rule.
#[derive(Debug, Default, Deserialize)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<toml::Table>,
    #[serde(default)]
    kind: Vec<KindSpec>,
}

/// The path examples are scanned under when a rule does not name one: no extension, so
/// configuration-style (unquoted) values are allowed, as they are in `.env` files.
pub const EXAMPLE_PATH: &str = "example";

/// A compiled matcher rule.
#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    pub regex: regex::bytes::Regex,
    /// Capture group indexes that may hold the secret, in order of preference.
    pub secret_groups: Vec<usize>,
    /// Where the rule came from (a built-in file name or a user path).
    pub origin: String,
}

impl Rule {
    /// The path this rule's examples are scanned under.
    pub fn example_path(&self) -> &str {
        self.spec.example_path.as_deref().unwrap_or(EXAMPLE_PATH)
    }

    /// The span of the secret inside a regex match: the first secret group that took part,
    /// or the whole match.
    pub fn secret_span(&self, caps: &regex::bytes::Captures<'_>) -> (usize, usize) {
        for &group in &self.secret_groups {
            if let Some(m) = caps.get(group) {
                return (m.start(), m.end());
            }
        }
        let whole = caps.get(0).map(|m| (m.start(), m.end()));
        whole.unwrap_or((0, 0))
    }
}

/// Every rule and kind, plus the keyword prefilter.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub kinds: Vec<KindSpec>,
    /// aho-corasick automaton over every rule's keywords (see `build_prefilter`).
    pub prefilter: AhoCorasick,
    /// For each prefilter pattern, the rules it belongs to.
    pub keyword_rules: Vec<Vec<usize>>,
    /// The rules with `paths`, and which of them a path selects.
    pub path_rules: PathRules,
}

/// The `paths` of every rule, compiled into one glob set.
#[derive(Debug, Default)]
pub struct PathRules {
    globs: Option<globset::GlobSet>,
    /// For each glob in the set, the rule it belongs to.
    glob_rules: Vec<usize>,
    /// The literal end of every pattern (after its last glob character): a path that ends
    /// with none of them is not matched against the globs (most files end in none).
    suffixes: Vec<String>,
}

impl PathRules {
    fn build(rules: &[Rule]) -> Result<PathRules, (usize, String)> {
        let mut builder = globset::GlobSetBuilder::new();
        let mut glob_rules = Vec::new();
        let mut suffixes = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            for pattern in &rule.spec.paths {
                for glob in path_globs(pattern).map_err(|e| (index, e))? {
                    builder.add(glob);
                    glob_rules.push(index);
                }
                let literal_end = pattern
                    .rfind(['*', '?', '[', ']', '{', '}'])
                    .map_or(pattern.as_str(), |i| &pattern[i + 1..]);
                suffixes.push(literal_end.to_string());
            }
        }
        if glob_rules.is_empty() {
            return Ok(PathRules::default());
        }
        let globs = builder.build().map_err(|e| (0, e.to_string()))?;
        Ok(PathRules {
            globs: Some(globs),
            glob_rules,
            suffixes,
        })
    }

    /// Whether any rule has `paths` (when none does, no path is looked at).
    pub fn is_empty(&self) -> bool {
        self.globs.is_none()
    }

    /// The indexes of the rules whose `paths` select `path` (an archive member is judged by its
    /// path inside the archive, after the last `!`), appended to `out` in rule order.
    pub fn matching(&self, path: &str, out: &mut Vec<usize>) {
        let Some(globs) = &self.globs else { return };
        let path = path.rsplit('!').next().unwrap_or(path);
        if !self.suffixes.iter().any(|s| path.ends_with(s.as_str())) {
            return;
        }
        let start = out.len();
        for glob in globs.matches(path) {
            out.push(self.glob_rules[glob]);
        }
        out[start..].sort_unstable();
        let mut kept = start;
        for i in start..out.len() {
            if kept == start || out[kept - 1] != out[i] {
                out[kept] = out[i];
                kept += 1;
            }
        }
        out.truncate(kept);
    }
}

/// The globs one `paths` pattern stands for: the path itself, and any tail of a path after a
/// `/` (`config/master.key` matches `app/config/master.key`). `*` does not cross `/`.
fn path_globs(pattern: &str) -> Result<Vec<globset::Glob>, String> {
    let pattern = pattern.trim_start_matches("./");
    if pattern.is_empty() || pattern.starts_with('/') || pattern.ends_with('/') {
        return Err(format!(
            "path pattern `{pattern}` must be a relative file path"
        ));
    }
    let mut globs = Vec::new();
    for text in [pattern.to_string(), format!("**/{pattern}")] {
        let glob = globset::GlobBuilder::new(&text)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("path pattern `{pattern}`: {e}"))?;
        globs.push(glob);
    }
    Ok(globs)
}

impl RuleSet {
    /// The built-in rules only.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSet::load(&[])
    }

    /// The built-in rules plus user rule files (TOML with `[[rule]]` and `[[kind]]` tables).
    pub fn load(user_files: &[&Path]) -> Result<RuleSet, RuleError> {
        let mut user = Vec::new();
        for path in user_files {
            let text = std::fs::read_to_string(path).map_err(|source| RuleError::Io {
                path: path.display().to_string(),
                source,
            })?;
            user.push((path.display().to_string(), text));
        }
        RuleSet::from_texts(user)
    }

    /// The built-in rules plus user rule files given as `(name, TOML text)`.
    pub fn from_texts(user: Vec<(String, String)>) -> Result<RuleSet, RuleError> {
        let mut sources: Vec<(String, String)> = BUILTIN_RULE_FILES
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect();
        sources.extend(user);
        let mut specs = Vec::new();
        let mut kinds = Vec::new();
        for (file, text) in sources {
            let parsed: RuleFile = toml::from_str(&text).map_err(|source| RuleError::Toml {
                file: file.clone(),
                source,
            })?;
            kinds.extend(parsed.kind);
            for (index, table) in parsed.rule.into_iter().enumerate() {
                let id = match table.get("id") {
                    Some(toml::Value::String(id)) => id.clone(),
                    _ => format!("#{} (no id)", index + 1),
                };
                let spec = RuleSpec::deserialize(table).map_err(|source| RuleError::Spec {
                    file: file.clone(),
                    id,
                    source: Box::new(source),
                })?;
                specs.push((file.clone(), spec));
            }
        }
        RuleSet::compile(specs, kinds)
    }

    fn compile(
        specs: Vec<(String, RuleSpec)>,
        mut kinds: Vec<KindSpec>,
    ) -> Result<RuleSet, RuleError> {
        let mut rules = Vec::with_capacity(specs.len());
        let mut seen = BTreeMap::new();
        for (origin, spec) in specs {
            if seen.insert(spec.id.clone(), ()).is_some() {
                return Err(invalid(&origin, &spec.id, "duplicate rule id"));
            }
            validate_spec(&spec).map_err(|problem| invalid(&origin, &spec.id, &problem))?;
            if spec.detect == Detector::None {
                kinds.push(KindSpec {
                    id: spec.id.clone(),
                    title: spec.title.clone(),
                    description: spec.description.clone(),
                    severity: spec.severity,
                    cwe: 798,
                    precision: "medium".to_string(),
                    help: spec.help.clone().unwrap_or_else(|| {
                        "Rotate the secret and remove it from the code and its history.".to_string()
                    }),
                });
            }
            let regex = regex::bytes::RegexBuilder::new(&spec.regex)
                .size_limit(32 << 20)
                .build()
                .map_err(|source| RuleError::Regex {
                    file: origin.clone(),
                    id: spec.id.clone(),
                    source,
                })?;
            validate::regex(&spec).map_err(|problem| invalid(&origin, &spec.id, &problem))?;
            let secret_groups = secret_groups(&regex);
            rules.push(Rule {
                spec,
                regex,
                secret_groups,
                origin,
            });
        }
        let mut kind_ids = BTreeMap::new();
        for kind in &kinds {
            if kind_ids.insert(kind.id.clone(), ()).is_some() {
                return Err(RuleError::DuplicateKind {
                    id: kind.id.clone(),
                });
            }
        }
        let path_rules = PathRules::build(&rules).map_err(|(index, problem)| {
            let rule = &rules[index];
            invalid(&rule.origin, &rule.spec.id, &problem)
        })?;
        let (prefilter, keyword_rules) = build_prefilter(&rules)?;
        Ok(RuleSet {
            rules,
            kinds,
            prefilter,
            keyword_rules,
            path_rules,
        })
    }

    /// Whether any of `patterns` (a rule's `paths`) selects `path`.
    fn path_selects(patterns: &[String], path: &str) -> Result<bool, String> {
        let mut builder = globset::GlobSetBuilder::new();
        for pattern in patterns {
            for glob in path_globs(pattern)? {
                builder.add(glob);
            }
        }
        let set = builder.build().map_err(|e| e.to_string())?;
        Ok(set.is_match(path))
    }

    /// The kind with this id, if any.
    pub fn kind(&self, id: &str) -> Option<&KindSpec> {
        self.kinds.iter().find(|k| k.id == id)
    }
}

fn invalid(file: &str, id: &str, problem: &str) -> RuleError {
    RuleError::Invalid {
        file: file.to_string(),
        id: id.to_string(),
        problem: problem.to_string(),
    }
}

/// The fields a rule needs beyond their types (the regex is checked by [`validate::regex`]).
fn validate_spec(spec: &RuleSpec) -> Result<(), String> {
    if spec.id.trim().is_empty() {
        return Err("needs a non-empty id".into());
    }
    if (spec.keywords.is_empty() && spec.paths.is_empty())
        || spec.keywords.iter().any(|k| k.len() < 3)
    {
        return Err(
            "needs keywords of at least 3 bytes (the prefilter runs on them), or paths".into(),
        );
    }
    validate::paths(spec)?;
    if spec.examples.is_empty() {
        return Err("needs at least one example".into());
    }
    if let Some(entropy) = spec.entropy
        && !(0.0..=8.0).contains(&entropy)
    {
        return Err(format!(
            "entropy {entropy} is outside 0 to 8 (bits per byte)"
        ));
    }
    let widest = spec.window.before.max(spec.window.after);
    if widest > validate::MAX_RULE_WINDOW {
        return Err(format!(
            "window of {widest} bytes is over the limit of {} bytes",
            validate::MAX_RULE_WINDOW
        ));
    }
    Ok(())
}

/// Groups named `secret`, `secret2`, ... and `bare`, in that order; else group 1 if present.
fn secret_groups(regex: &regex::bytes::Regex) -> Vec<usize> {
    let mut named: Vec<(String, usize)> = regex
        .capture_names()
        .enumerate()
        .filter_map(|(i, name)| name.map(|n| (n.to_string(), i)))
        .filter(|(n, _)| n.starts_with("secret") || n == "bare")
        .collect();
    named.sort_by(|a, b| {
        let rank = |n: &str| if n == "bare" { 1 } else { 0 };
        (rank(&a.0), &a.0).cmp(&(rank(&b.0), &b.0))
    });
    if named.is_empty()
        && regex.captures_len() > 1
        && regex.capture_names().nth(1).flatten().is_none()
    {
        return vec![1];
    }
    named.into_iter().map(|(_, i)| i).collect()
}

/// The case forms a keyword is searched in: as written, and for all-lowercase keywords also
/// UPPERCASE and Capitalized (`jwt` → `JWT`, `Jwt`), which covers snake, SCREAMING and camel case.
fn keyword_variants(keyword: &str, case: KeywordCase) -> Vec<String> {
    let mut variants = vec![keyword.to_string()];
    if case == KeywordCase::Any
        && keyword.chars().any(|c| c.is_ascii_lowercase())
        && !keyword.chars().any(|c| c.is_ascii_uppercase())
    {
        variants.push(keyword.to_ascii_uppercase());
        let mut chars = keyword.chars();
        if let Some(first) = chars.next() {
            variants.push(first.to_ascii_uppercase().to_string() + chars.as_str());
        }
    }
    variants.dedup();
    variants
}

/// Build one case-sensitive, leftmost-first automaton (small enough for aho-corasick's SIMD
/// "Teddy" search). A keyword that contains another keyword is dropped and its rules are
/// triggered by the shorter one: windows are whole lines, so the rule's regex still runs where
/// the longer keyword is, and no hit is hidden by a non-overlapping search.
fn build_prefilter(rules: &[Rule]) -> Result<(AhoCorasick, Vec<Vec<usize>>), RuleError> {
    let mut owners: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, rule) in rules.iter().enumerate() {
        for keyword in &rule.spec.keywords {
            for variant in keyword_variants(keyword, rule.spec.keyword_case) {
                owners.entry(variant).or_default().push(index);
            }
        }
    }
    let mut by_length: Vec<(String, Vec<usize>)> = owners.into_iter().collect();
    by_length.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
    let mut patterns: Vec<String> = Vec::new();
    let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
    for (pattern, rule_indexes) in by_length {
        match patterns
            .iter()
            .position(|shorter| pattern.contains(shorter.as_str()))
        {
            Some(shorter) => pattern_rules[shorter].extend(rule_indexes),
            None => {
                patterns.push(pattern);
                pattern_rules.push(rule_indexes);
            }
        }
    }
    for indexes in &mut pattern_rules {
        indexes.sort_unstable();
        indexes.dedup();
    }
    let automaton = AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostFirst)
        .build(&patterns)
        .map_err(|e| RuleError::Prefilter(e.to_string()))?;
    Ok((automaton, pattern_rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_case_forms() {
        assert_eq!(
            keyword_variants("jwt", KeywordCase::Any),
            vec!["jwt", "JWT", "Jwt"]
        );
        assert_eq!(keyword_variants("kty", KeywordCase::Exact), vec!["kty"]);
        assert_eq!(keyword_variants("eyJ", KeywordCase::Any), vec!["eyJ"]);
        assert_eq!(
            keyword_variants("PRIVATE KEY", KeywordCase::Any),
            vec!["PRIVATE KEY"]
        );
    }

    #[test]
    fn longer_keywords_fold_into_shorter_ones() {
        let rules = RuleSet::builtin().expect("rules");
        let patterns = rules.prefilter.patterns_len();
        assert_eq!(patterns, rules.keyword_rules.len());
        // aho-corasick's Teddy search holds 32 patterns; one more makes every scan about 2x
        // slower (measured with benches/side_by_side.py). Reuse or fold keywords instead.
        assert!(
            patterns <= 32,
            "{patterns} prefilter patterns: too many for the SIMD search"
        );
    }

    #[test]
    fn builtin_word_boundaries_are_ascii() {
        // A Unicode `\b` makes the lazy DFA give up at the first non-ASCII byte, and the
        // regex falls back to the slower engines (measured with callgrind on the directory
        // benchmark): the built-in rules write `(?-u:\b)`.
        let rules = RuleSet::builtin().expect("rules");
        for rule in &rules.rules {
            let unicode = rule.spec.regex.replace("(?-u:\\b)", "");
            assert!(
                !unicode.contains("\\b"),
                "{}: write (?-u:\\b) for a word boundary",
                rule.spec.id
            );
        }
    }

    #[test]
    fn path_patterns_match_whole_paths_and_tails() {
        let rules = RuleSet::from_texts(vec![(
            "t.toml".to_string(),
            r#"
[[rule]]
id = "t/path"
title = "t"
description = "d"
severity = "high"
paths = ["config/master.key", "config/credentials/*.key"]
example_path = "config/master.key"
regex = '\A[0-9a-f]{32}'
detect = "none"
examples = ["0123456789abcdef0123456789abcdef"]
negative_examples = []
"#
            .to_string(),
        )])
        .expect("rules");
        let index = rules.rules.iter().position(|r| r.spec.id == "t/path");
        let matching = |path: &str| {
            let mut out = Vec::new();
            rules.path_rules.matching(path, &mut out);
            out.contains(&index.unwrap())
        };
        assert!(matching("config/master.key"));
        assert!(matching("apps/web/config/master.key"));
        assert!(matching("config/credentials/production.key"));
        assert!(matching("backup.tar.gz!app/config/master.key"));
        assert!(!matching("myconfig/master.key"));
        assert!(!matching("config/master.key.bak"));
        assert!(!matching("config/credentials/a/b.key"));
    }
}
