//! Rendering a `jwks audit`: human, JSON, JSON Lines and SARIF.

use std::io::Write;

use serde_json::{Value, json};

use super::{Audit, KINDS, kind};
use crate::finding::Severity;
use crate::report::{Format, escape_control as esc};
use crate::verify::jwks;

/// Render the audit.
pub fn render(
    audit: &Audit,
    text: Option<&str>,
    format: Format,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Human => human(audit, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &document(audit))?;
            writeln!(out)
        }
        Format::Jsonl => {
            for defect in &audit.defects {
                serde_json::to_writer(&mut *out, defect)?;
                writeln!(out)?;
            }
            Ok(())
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(audit, text))?;
            writeln!(out)
        }
    }
}

fn document(audit: &Audit) -> Value {
    json!({
        "tool": {"name": "keysweep", "version": env!("CARGO_PKG_VERSION")},
        "source": audit.source,
        "jwks": audit.jwks,
        "keys": audit.keys,
        "defects": audit.defects,
        "ok": audit.defects.is_empty(),
    })
}

/// Most keys and defects the human report lists (a hostile set can hold 100,000 keys); the
/// JSON and SARIF reports hold everything.
const MAX_HUMAN_LINES: usize = 200;

fn human(audit: &Audit, out: &mut dyn Write) -> std::io::Result<()> {
    write!(out, "JWKS audit of {}", esc(&audit.source))?;
    if audit.jwks != audit.source {
        write!(out, " ({})", esc(&audit.jwks))?;
    }
    writeln!(out, ": {} key(s)", audit.keys.len())?;
    for key in audit.keys.iter().take(MAX_HUMAN_LINES) {
        let mut facts = vec![key.kty.clone().unwrap_or_else(|| "?".to_string())];
        facts.extend(key.crv.clone());
        facts.extend(key.bits.map(|b| format!("{b} bits")));
        facts.extend(key.alg.as_ref().map(|a| format!("alg {a}")));
        let line = format!(
            "  key #{} kid {}: {}, thumbprint {}",
            key.index,
            key.kid.as_deref().unwrap_or("(none)"),
            facts.join(", "),
            key.thumbprint.as_deref().unwrap_or("(none)")
        );
        writeln!(out, "{}", esc(&line))?;
    }
    more(out, audit.keys.len(), "key(s)")?;
    if audit.defects.is_empty() {
        writeln!(out, "no defects found")?;
        return Ok(());
    }
    writeln!(out, "{} defect(s):", audit.defects.len())?;
    for defect in audit.defects.iter().take(MAX_HUMAN_LINES) {
        let line = format!(
            "  [{}] {} key #{}{}: {}",
            defect.severity.as_str(),
            defect.code,
            defect.key_index,
            defect
                .kid
                .as_deref()
                .map(|k| format!(" (kid {k})"))
                .unwrap_or_default(),
            defect.message
        );
        writeln!(out, "{}", esc(&line))?;
    }
    more(out, audit.defects.len(), "defect(s)")
}

fn more(out: &mut dyn Write, total: usize, what: &str) -> std::io::Result<()> {
    if total > MAX_HUMAN_LINES {
        writeln!(
            out,
            "  ... and {} more {what} (see --format json)",
            total - MAX_HUMAN_LINES
        )?;
    }
    Ok(())
}

/// The line (1-based) of each key in the document text, found by its `"kty"` member, in one
/// pass; keys past the last `"kty"` (or a set fetched from a URL) are placed on line 1.
fn key_lines(text: Option<&str>) -> Vec<usize> {
    let Some(text) = text else { return Vec::new() };
    let mut lines = Vec::new();
    let (mut line, mut from) = (1, 0);
    for (at, _) in text.match_indices("\"kty\"") {
        line += text[from..at].matches('\n').count();
        from = at;
        lines.push(line);
    }
    lines
}

fn sarif(audit: &Audit, text: Option<&str>) -> Value {
    let rules: Vec<Value> = KINDS
        .iter()
        .map(|k| {
            json!({
                "id": format!("jwks/{}", k.code),
                "name": k.title,
                "shortDescription": {"text": k.title},
                "fullDescription": {"text": k.description},
                "help": {"text": k.help, "markdown": k.help},
                "defaultConfiguration": {"level": level(k.severity)},
                "properties": {
                    "tags": ["security", "jwks", "external/cwe/cwe-320"],
                    "precision": "very-high",
                    "security-severity": k.severity.security_severity(),
                },
            })
        })
        .collect();
    let is_url = jwks::is_url(&audit.jwks);
    let lines = if is_url { Vec::new() } else { key_lines(text) };
    let uri = if is_url {
        audit.jwks.clone()
    } else {
        crate::report::sarif::percent_encode_path(&audit.jwks.replace('\\', "/"))
    };
    let results: Vec<Value> = audit
        .defects
        .iter()
        .map(|defect| {
            let index = KINDS.iter().position(|k| k.code == defect.code).unwrap_or(0);
            let line = lines.get(defect.key_index).copied().unwrap_or(1);
            let mut artifact = json!({"uri": uri});
            if !is_url && !audit.jwks.starts_with('/') {
                artifact["uriBaseId"] = json!("%SRCROOT%");
            }
            let mut fingerprint = format!("{}:{}", defect.code, defect.key_index);
            if let Some(thumbprint) = &defect.thumbprint {
                fingerprint = format!("{}:{thumbprint}", defect.code);
            }
            json!({
                "ruleId": format!("jwks/{}", defect.code),
                "ruleIndex": index,
                "level": level(defect.severity),
                "message": {"text": format!("{}: key #{}{}: {}.", kind(defect.code).title, defect.key_index,
                    defect.kid.as_deref().map(|k| format!(" (kid {k})")).unwrap_or_default(), defect.message)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": artifact,
                    "region": {"startLine": line, "startColumn": 1, "endLine": line, "endColumn": 2},
                }}],
                "partialFingerprints": {"keysweep/jwks/v1": fingerprint},
                "properties": {
                    "kid": defect.kid,
                    "thumbprint": defect.thumbprint,
                    "keyIndex": defect.key_index,
                    "jwks": audit.jwks,
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keysweep",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/keysweep/keysweep",
                "rules": rules,
            }},
            "automationDetails": {"id": "keysweep/jwks-audit/"},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_keys() {
        let text = "{\"keys\":[\n{\"kty\":\"EC\"},\n\n{\"kty\":\"RSA\"}]}";
        assert_eq!(key_lines(Some(text))[0], 2);
        assert_eq!(key_lines(Some(text))[1], 4);
        assert_eq!(key_lines(None).get(1), None);
    }
}
