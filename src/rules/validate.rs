//! What a rule's regex must be for its detector, checked once when the rule is loaded, so a user
//! rule cannot hand a detector a match it cannot read (each problem is an error naming the rule).

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};

use super::{Detector, RuleSpec};

/// The widest `window.before`/`window.after` a rule may ask for: the context `source::fs`
/// guarantees on each side of a candidate in a file read in windows (a quarter of its 1 MiB
/// overlap).
pub const MAX_RULE_WINDOW: usize = 256 * 1024;

/// A capture group of the regex: its index, name and the shortest text it can match (`None`:
/// it can never match).
struct Group {
    index: u32,
    name: Option<String>,
    minimum_len: Option<usize>,
}

/// Check the regex against what `spec.detect` reads from a match.
pub fn regex(spec: &RuleSpec) -> Result<(), String> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(&spec.regex)
        .map_err(|error| format!("invalid regex: {error}"))?;
    match hir.properties().minimum_len() {
        None => return Err("the regex can never match".into()),
        Some(0) => return Err("the regex can match the empty string".into()),
        Some(_) => {}
    }
    let mut groups = Vec::new();
    collect_groups(&hir, &mut groups);
    let detector = detector_name(spec.detect);
    let secrets = secret_groups(&groups);
    match spec.detect {
        Detector::Pem => {
            require_affixes(&hir, ExtractKind::Prefix, b"-----BEGIN ", detector)?;
            require_affixes(&hir, ExtractKind::Suffix, b"-----", detector)?;
            non_empty(
                groups.iter().filter(|g| g.name.as_deref() == Some("label")),
                detector,
            )?;
        }
        Detector::Hmac => {
            let call = groups.iter().filter(|g| g.name.as_deref() == Some("call"));
            if secrets.is_empty() && call.clone().next().is_none() {
                return Err(
                    "the hmac detector reads the value from a group named `secret` (or \
                     `secret2`…, `bare`), or parses the arguments of the call a `call` group \
                     names; the regex has neither"
                        .into(),
                );
            }
            non_empty(call, detector)?;
        }
        Detector::Jwt | Detector::Base64 | Detector::None | Detector::RawKey => {
            non_empty(secrets, detector)?
        }
        Detector::Ppk | Detector::Jwk => {}
    }
    Ok(())
}

/// `paths`, `example_path` and `evidence` hold together: a path rule names the path its
/// examples are scanned under, and that path is one its patterns select; `evidence` is read
/// by the hmac detector only.
pub fn paths(spec: &RuleSpec) -> Result<(), String> {
    if spec.evidence.is_some() && spec.detect != Detector::Hmac {
        return Err("`evidence` is read by the hmac detector only".into());
    }
    match (&spec.example_path, spec.paths.is_empty()) {
        (None, true) => Ok(()),
        (Some(_), true) => Err("`example_path` is for rules with `paths`".into()),
        (None, false) => Err(
            "a rule with `paths` needs `example_path`, a path its examples are scanned under"
                .into(),
        ),
        (Some(example), false) => {
            let selected = super::RuleSet::path_selects(&spec.paths, example)?;
            if selected {
                Ok(())
            } else {
                Err(format!(
                    "example_path `{example}` is not selected by the rule's paths"
                ))
            }
        }
    }
}

fn detector_name(detector: Detector) -> &'static str {
    match detector {
        Detector::Pem => "pem",
        Detector::Base64 => "base64",
        Detector::Ppk => "ppk",
        Detector::Jwk => "jwk",
        Detector::Jwt => "jwt",
        Detector::Hmac => "hmac",
        Detector::RawKey => "raw-key",
        Detector::None => "none",
    }
}

/// Every capture group, outermost first.
fn collect_groups(hir: &Hir, out: &mut Vec<Group>) {
    match hir.kind() {
        HirKind::Capture(capture) => {
            out.push(Group {
                index: capture.index,
                name: capture.name.as_deref().map(str::to_string),
                minimum_len: capture.sub.properties().minimum_len(),
            });
            collect_groups(&capture.sub, out);
        }
        HirKind::Repetition(repetition) => collect_groups(&repetition.sub, out),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            for sub in subs {
                collect_groups(sub, out);
            }
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
    }
}

/// The groups that hold the secret, as `Rule::secret_span` picks them: those named `secret…`
/// or `bare`, else an unnamed group 1.
fn secret_groups(groups: &[Group]) -> Vec<&Group> {
    let named: Vec<&Group> = groups
        .iter()
        .filter(|g| {
            g.name
                .as_deref()
                .is_some_and(|n| n.starts_with("secret") || n == "bare")
        })
        .collect();
    if !named.is_empty() {
        return named;
    }
    groups
        .iter()
        .filter(|g| g.index == 1 && g.name.is_none())
        .collect()
}

/// Each of `groups` must match at least one byte whenever it matches.
fn non_empty<'g>(
    groups: impl IntoIterator<Item = &'g Group>,
    detector: &str,
) -> Result<(), String> {
    for group in groups {
        if group.minimum_len == Some(0) {
            let name = group
                .name
                .clone()
                .unwrap_or_else(|| group.index.to_string());
            return Err(format!(
                "group `{name}` can match the empty string; the {detector} detector needs it \
                 non-empty"
            ));
        }
    }
    Ok(())
}

/// Every match must start (`Prefix`) or end (`Suffix`) with `affix`.
fn require_affixes(
    hir: &Hir,
    kind: ExtractKind,
    affix: &[u8],
    detector: &str,
) -> Result<(), String> {
    let seq = Extractor::new().kind(kind.clone()).extract(hir);
    let holds = seq.literals().is_some_and(|literals| {
        !literals.is_empty()
            && literals.iter().all(|literal| match kind {
                ExtractKind::Prefix => literal.as_bytes().starts_with(affix),
                _ => literal.as_bytes().ends_with(affix),
            })
    });
    if holds {
        return Ok(());
    }
    let (where_, text) = match kind {
        ExtractKind::Prefix => ("start", String::from_utf8_lossy(affix)),
        _ => ("end", String::from_utf8_lossy(affix)),
    };
    Err(format!(
        "the {detector} detector reads one armoured block: every match must {where_} with `{text}`"
    ))
}
