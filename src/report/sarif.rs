//! SARIF 2.1.0 for GitHub code scanning: every kind as a rule with the fields GitHub reads, one
//! result per finding location, relative percent-encoded URIs, no secret text anywhere.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location as SarifLocation, Message, MultiformatMessageString,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif, Tool, ToolComponent,
};

use super::{RenderOptions, ScanReport};
use crate::finding::{Finding, Location, Severity, Status};
use crate::rules::KindSpec;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/keysweep/keysweep";
/// The tool's own stable id under a versioned key; GitHub computes `primaryLocationLineHash`.
const FINGERPRINT_KEY: &str = "keysweep/v1";

/// Write the report as SARIF.
pub fn write(
    report: &ScanReport<'_>,
    _options: &RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let sarif = build(report);
    serde_json::to_writer_pretty(&mut *out, &sarif)?;
    writeln!(out)
}

/// Build the SARIF log.
pub fn build(report: &ScanReport<'_>) -> Sarif {
    let kinds = &report.rules.kinds;
    let rules: Vec<ReportingDescriptor> = kinds.iter().map(descriptor).collect();
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .flat_map(|finding| {
            let index = kinds.iter().position(|k| k.id == finding.rule);
            finding
                .locations
                .iter()
                .map(move |location| result(finding, location, index))
        })
        .collect();
    let driver = ToolComponent::builder()
        .name("keysweep")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(INFORMATION_URI)
        .rules(rules)
        .build();
    let invocations: Vec<Invocation> = report.run.iter().map(invocation).collect();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .invocations(invocations)
        .results(results)
        .column_kind(json!("utf16CodeUnits"))
        .automation_details(RunAutomationDetails {
            id: Some(format!("keysweep/{}/", report.mode)),
            ..Default::default()
        })
        .redaction_tokens(vec!["[REDACTED]".to_string()])
        .properties(PropertyBag {
            tags: None,
            additional_properties: BTreeMap::from([("stats".to_string(), json!(report.stats))]),
        })
        .build();
    Sarif::builder()
        .schema(SCHEMA)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// A sweep's evidence record: where, who, when, and whether it completed.
fn invocation(run: &super::RunInfo) -> Invocation {
    let mut properties = BTreeMap::new();
    properties.insert("roots".to_string(), json!(run.roots));
    Invocation::builder()
        .execution_successful(run.completed)
        .machine(run.host.clone())
        .account(run.user.clone())
        .start_time_utc(run.started.clone())
        .end_time_utc(run.ended.clone())
        .properties(PropertyBag {
            additional_properties: properties,
            ..Default::default()
        })
        .build()
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low => ResultLevel::Note,
    }
}

fn level_name(severity: Severity) -> &'static str {
    match level(severity) {
        ResultLevel::Error => "error",
        ResultLevel::Warning => "warning",
        ResultLevel::Note => "note",
        ResultLevel::None => "none",
    }
}

fn descriptor(kind: &KindSpec) -> ReportingDescriptor {
    let mut properties = BTreeMap::new();
    properties.insert(
        "security-severity".to_string(),
        json!(kind.severity.security_severity()),
    );
    properties.insert("precision".to_string(), json!(kind.precision));
    let help = MultiformatMessageString::builder()
        .text(kind.help.clone())
        .markdown(format!(
            "**{}**\n\n{}\n\n**How to fix:** {}",
            kind.title, kind.description, kind.help
        ))
        .build();
    ReportingDescriptor::builder()
        .id(kind.id.clone())
        .name(camel_case(&kind.id))
        .short_description(text(&kind.title))
        .full_description(text(&kind.description))
        .help(help)
        .help_uri(format!("{INFORMATION_URI}#rules"))
        .default_configuration(ReportingConfiguration {
            level: Some(json!(level_name(kind.severity))),
            ..Default::default()
        })
        .properties(PropertyBag {
            tags: Some(vec![
                "security".to_string(),
                "secret".to_string(),
                format!("external/cwe/cwe-{}", kind.cwe),
            ]),
            additional_properties: properties,
        })
        .build()
}

fn text(value: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(value).build()
}

/// `private-key/rsa` → `PrivateKeyRsa`.
fn camel_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn result(finding: &Finding, location: &Location, rule_index: Option<usize>) -> SarifResult {
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY.to_string(), finding.fingerprint.clone());
    let mut properties = BTreeMap::new();
    properties.insert("verification".to_string(), json!(finding.verification));
    properties.insert("severity".to_string(), json!(finding.severity.as_str()));
    properties.insert("format".to_string(), json!(location.format));
    properties.insert("context".to_string(), json!(location.context()));
    if let Some(key) = &finding.key {
        properties.insert("keyType".to_string(), json!(key.key_type));
        properties.extend(
            key.thumbprint
                .as_ref()
                .map(|t| ("thumbprint".to_string(), json!(t))),
        );
    }
    for (name, value) in [
        ("commit", &location.commit),
        ("author", &location.author),
        ("date", &location.date),
    ] {
        properties.extend(value.as_ref().map(|v| (name.to_string(), json!(v))));
    }
    let mut result = SarifResult::builder()
        .rule_id(finding.rule.clone())
        .level(result_level(finding))
        .message(Message {
            text: Some(message(finding)),
            ..Default::default()
        })
        .locations(vec![SarifLocation {
            physical_location: Some(PhysicalLocation {
                artifact_location: Some(artifact(&location.path)),
                region: Some(Region {
                    start_line: Some(location.line as i64),
                    start_column: Some(location.column as i64),
                    end_line: Some(location.end_line.max(location.line) as i64),
                    end_column: Some(end_column(location) as i64),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }])
        .partial_fingerprints(fingerprints)
        .properties(PropertyBag {
            tags: None,
            additional_properties: properties,
        })
        .build();
    result.rule_index = rule_index.map(|i| i as i64);
    result.related_locations = related_location(location).map(|l| vec![l]);
    result
}

/// A file relative to the checkout root (`%SRCROOT%`), percent-encoded.
fn artifact(path: &str) -> ArtifactLocation {
    ArtifactLocation {
        uri: Some(percent_encode_path(path)),
        uri_base_id: Some("%SRCROOT%".to_string()),
        ..Default::default()
    }
}

/// Where a traced secret is used (same file): SARIF `relatedLocations`.
fn related_location(location: &Location) -> Option<SarifLocation> {
    let related = location.related.as_ref()?;
    Some(SarifLocation {
        id: Some(1),
        physical_location: Some(PhysicalLocation {
            artifact_location: Some(artifact(&location.path)),
            region: Some(Region {
                start_line: Some(related.line as i64),
                start_column: Some(related.column as i64),
                ..Default::default()
            }),
            ..Default::default()
        }),
        message: Some(Message {
            text: Some(related.message.clone()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn end_column(location: &Location) -> usize {
    if location.end_line > location.line {
        location.end_column
    } else {
        location.end_column.max(location.column + 1)
    }
}

fn result_level(finding: &Finding) -> ResultLevel {
    match finding.verification.status {
        status if status.is_proven() => ResultLevel::Error,
        Status::KnownExample => ResultLevel::Note,
        _ => level(finding.severity),
    }
}

/// The alert text: what was found and its status, never the secret.
fn message(finding: &Finding) -> String {
    let mut text = finding.title.clone();
    if let Some(key) = &finding.key {
        match (key.bits, &key.curve) {
            (_, Some(curve)) => text.push_str(&format!(" ({curve})")),
            (Some(bits), None) => text.push_str(&format!(" ({bits} bits)")),
            _ => {}
        }
        if let Some(thumbprint) = &key.thumbprint {
            text.push_str(&format!(", RFC 7638 thumbprint {thumbprint}"));
        }
    }
    if let Some(jwt) = &finding.jwt {
        text.push_str(&format!(" (alg {}", jwt.alg));
        if let Some(iss) = &jwt.iss {
            text.push_str(&format!(", iss {iss}"));
        }
        text.push(')');
    }
    text.push_str(&format!(". Verification: {}.", finding.verification.status));
    text
}

/// Percent-encode a relative path for a `uri-reference` (keeps `/` and unreserved characters).
pub fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_spaces_and_keeps_slashes() {
        assert_eq!(percent_encode_path("a b/c%.pem"), "a%20b/c%25.pem");
        assert_eq!(camel_case("private-key/rsa"), "PrivateKeyRsa");
    }
}
