//! Reading keysweep's own JSON Lines reports back, for `keysweep merge`: the inverse of
//! [`super::jsonl`]. A file is read as far as it goes: a truncated last line, a missing
//! summary or a line that is not a record makes it incomplete (said in `problems`), and what
//! was read before stays usable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::{ListInfo, RepoOutcome, RunInfo, ShardHeader, ShardReport};
use crate::finding::{
    Finding, JwtInfo, KeyInfo, Location, Related, Severity, Skipped, Stats, Verification,
};
use crate::source::repos::Shard;

/// One report file, as far as it could be read.
#[derive(Debug)]
pub struct ReportFile {
    pub path: PathBuf,
    /// The `header` record (shard reports only).
    pub header: Option<ShardHeader>,
    /// Findings in the order first written, with later `update` records applied.
    pub findings: Vec<ReadFinding>,
    /// The `summary` record, when the file has one.
    pub summary: Option<Summary>,
    /// Why the file is incomplete or damaged (empty when it is whole).
    pub problems: Vec<String>,
}

/// A finding read back, with its sealed raw value when the shard sealed one.
#[derive(Debug)]
pub struct ReadFinding {
    pub finding: Finding,
    pub sealed: Option<String>,
}

/// The last record of a report.
#[derive(Debug)]
pub struct Summary {
    pub completed: bool,
    pub skipped: Vec<Skipped>,
    pub stats: Stats,
    pub run: Option<RunInfo>,
    pub shard: Option<ShardReport>,
}

impl ReportFile {
    /// Whether the file ends with a summary saying the run completed, and nothing is wrong.
    pub fn is_complete(&self) -> bool {
        self.problems.is_empty() && self.summary.as_ref().is_some_and(|s| s.completed)
    }
}

/// Read a report file. Only an unreadable file is an error.
pub fn read_file(path: &Path) -> std::io::Result<ReportFile> {
    let bytes = std::fs::read(path)?;
    Ok(parse(path, &bytes))
}

/// Parse a report's bytes.
pub fn parse(path: &Path, bytes: &[u8]) -> ReportFile {
    let mut file = ReportFile {
        path: path.to_path_buf(),
        header: None,
        findings: Vec::new(),
        summary: None,
        problems: Vec::new(),
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let ends_with_newline = bytes.last() == Some(&b'\n');
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let count = lines.len();
    for (number, line) in lines.into_iter().enumerate() {
        let last = number + 1 == count;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if file.summary.is_some() {
            file.problems
                .push(format!("line {}: records after the summary", number + 1));
            break;
        }
        let record: Value = match serde_json::from_slice(line) {
            Ok(record) => record,
            Err(_) if last && !ends_with_newline => {
                file.problems
                    .push(format!("truncated: line {} is cut short", number + 1));
                break;
            }
            Err(error) => {
                file.problems
                    .push(format!("line {} is not a JSON record: {error}", number + 1));
                continue;
            }
        };
        if let Err(problem) = take_record(&mut file, &mut index, record) {
            file.problems
                .push(format!("line {}: {problem}", number + 1));
        }
    }
    if file.summary.is_none() && file.problems.is_empty() {
        file.problems
            .push(if file.header.is_none() && file.findings.is_empty() {
                "empty, or not a keysweep JSON Lines report".to_string()
            } else {
                "no summary record: the run did not finish (killed, or the file was cut)"
                    .to_string()
            });
    }
    if let Some(summary) = &file.summary
        && !summary.completed
    {
        file.problems
            .push("interrupted: its summary says the run did not complete".to_string());
    }
    file
}

/// Apply one record to the file read so far.
fn take_record(
    file: &mut ReportFile,
    index: &mut HashMap<String, usize>,
    record: Value,
) -> Result<(), String> {
    let kind = record
        .get("type")
        .and_then(Value::as_str)
        .ok_or("a record without a type")?
        .to_string();
    match kind.as_str() {
        "header" => {
            if file.header.is_some() || !file.findings.is_empty() {
                return Err("a header record that is not the first line".to_string());
            }
            file.header = Some(serde_json::from_value(record).map_err(|e| e.to_string())?);
        }
        "finding" => {
            let read: FindingRecord = serde_json::from_value(record).map_err(|e| e.to_string())?;
            let read = read.into_finding();
            match index.get(&read.finding.fingerprint) {
                Some(&at) => file.findings[at] = read,
                None => {
                    index.insert(read.finding.fingerprint.clone(), file.findings.len());
                    file.findings.push(read);
                }
            }
        }
        "update" => {
            let update: UpdateRecord = serde_json::from_value(record).map_err(|e| e.to_string())?;
            let Some(&at) = index.get(&update.fingerprint) else {
                return Err(format!(
                    "an update of {} before its finding",
                    update.fingerprint
                ));
            };
            let finding = &mut file.findings[at].finding;
            finding.severity = update.severity;
            finding.verification = update.verification;
            finding.locations = update.locations.into_iter().map(Into::into).collect();
        }
        "summary" => {
            let summary: SummaryRecord =
                serde_json::from_value(record).map_err(|e| e.to_string())?;
            file.summary = Some(summary.into_summary());
        }
        other => return Err(format!("an unknown record type {other:?}")),
    }
    Ok(())
}

#[derive(Deserialize)]
struct FindingRecord {
    rule: String,
    title: String,
    severity: Severity,
    fingerprint: String,
    secret: String,
    key: Option<KeyInfo>,
    jwt: Option<JwtInfo>,
    #[serde(default)]
    verification: Verification,
    locations: Vec<LocationRecord>,
    sealed: Option<String>,
}

impl FindingRecord {
    fn into_finding(self) -> ReadFinding {
        ReadFinding {
            finding: Finding {
                rule: self.rule,
                title: self.title,
                severity: self.severity,
                fingerprint: self.fingerprint,
                secret: self.secret,
                raw_secret: String::new(),
                key: self.key,
                jwt: self.jwt,
                verification: self.verification,
                locations: self.locations.into_iter().map(Into::into).collect(),
            },
            sealed: self.sealed,
        }
    }
}

#[derive(Deserialize)]
struct UpdateRecord {
    fingerprint: String,
    severity: Severity,
    #[serde(default)]
    verification: Verification,
    locations: Vec<LocationRecord>,
}

/// A location as serialised (`context` is derived from the path again).
#[derive(Deserialize)]
struct LocationRecord {
    source: String,
    path: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    format: String,
    commit: Option<String>,
    author: Option<String>,
    date: Option<String>,
    blob: Option<String>,
    commits: Option<u64>,
    related: Option<Related>,
}

impl From<LocationRecord> for Location {
    fn from(record: LocationRecord) -> Location {
        Location {
            source: record.source,
            path: record.path,
            line: record.line,
            column: record.column,
            end_line: record.end_line,
            end_column: record.end_column,
            format: record.format,
            commit: record.commit,
            author: record.author,
            date: record.date,
            blob: record.blob,
            commits: record.commits,
            related: record.related,
            rule_id: String::new(),
            allowed: false,
        }
    }
}

#[derive(Deserialize)]
struct SummaryRecord {
    completed: bool,
    #[serde(default)]
    skipped: Vec<Skipped>,
    #[serde(default)]
    stats: Stats,
    run: Option<RunInfo>,
    shard: Option<Shard>,
    list: Option<ListInfo>,
    #[serde(default)]
    repositories: Vec<RepoOutcome>,
}

impl SummaryRecord {
    fn into_summary(self) -> Summary {
        let shard = match (self.shard, self.list) {
            (Some(shard), Some(list)) => Some(ShardReport {
                shard,
                list,
                repositories: self.repositories,
            }),
            _ => None,
        };
        Summary {
            completed: self.completed,
            skipped: self.skipped,
            stats: self.stats,
            run: self.run,
            shard,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"type":"header","tool":{"name":"keysweep","version":"0"},"mode":"repos","shard":{"index":1,"count":2},"list":{"digest":"sha256:ab","repositories":3},"repositories":["a","b"]}"#;
    const FINDING: &str = r#"{"type":"finding","rule":"secret/hmac","title":"t","severity":"high","fingerprint":"fp1","secret":"ab…","key":null,"jwt":null,"verification":{"status":"unverified"},"locations":[{"source":"git","path":"a/x.js","context":"code","line":1,"column":2,"end_line":1,"end_column":9,"format":"js","commit":"c1","author":null,"date":null}],"sealed":"v1.xyz"}"#;
    const SUMMARY: &str = r#"{"type":"summary","completed":true,"findings":1,"skipped":[{"path":"b","reason":"clone failed: x"}],"stats":{"files_scanned":4,"bytes_scanned":10,"files_binary":0,"files_skipped":0,"ignored":0,"findings":1,"locations":1,"elapsed_ms":5},"shard":{"index":1,"count":2},"list":{"digest":"sha256:ab","repositories":3},"repositories":[{"name":"a","status":"scanned"},{"name":"b","status":"failed","reason":"clone failed: x"}]}"#;

    #[test]
    fn a_whole_shard_reads_back() {
        let text = format!("{HEADER}\n{FINDING}\n{SUMMARY}\n");
        let file = parse(Path::new("s1.jsonl"), text.as_bytes());
        assert!(file.is_complete(), "{:?}", file.problems);
        let header = file.header.as_ref().unwrap();
        assert_eq!(header.shard, Shard { index: 1, count: 2 });
        assert_eq!(header.repositories, ["a", "b"]);
        assert_eq!(file.findings.len(), 1);
        let read = &file.findings[0];
        assert_eq!(read.sealed.as_deref(), Some("v1.xyz"));
        assert_eq!(read.finding.locations[0].path, "a/x.js");
        assert_eq!(read.finding.locations[0].commit.as_deref(), Some("c1"));
        let summary = file.summary.as_ref().unwrap();
        assert_eq!(summary.stats.files_scanned, 4);
        assert_eq!(
            summary.shard.as_ref().unwrap().repositories[1].status,
            "failed"
        );
    }

    #[test]
    fn cut_and_interrupted_files_say_so() {
        let cut = format!("{HEADER}\n{FINDING}\n{}", &SUMMARY[..40]);
        let file = parse(Path::new("s.jsonl"), cut.as_bytes());
        assert!(!file.is_complete());
        assert_eq!(file.findings.len(), 1, "what was read before stays");
        assert!(
            file.problems[0].contains("truncated"),
            "{:?}",
            file.problems
        );

        let no_summary = format!("{HEADER}\n{FINDING}\n");
        let file = parse(Path::new("s.jsonl"), no_summary.as_bytes());
        assert!(
            file.problems[0].contains("no summary"),
            "{:?}",
            file.problems
        );

        let interrupted = format!(
            "{HEADER}\n{}\n",
            SUMMARY.replace(r#""completed":true"#, r#""completed":false"#)
        );
        let file = parse(Path::new("s.jsonl"), interrupted.as_bytes());
        assert!(
            file.problems[0].contains("interrupted"),
            "{:?}",
            file.problems
        );

        let empty = parse(Path::new("s.jsonl"), b"");
        assert!(empty.problems[0].contains("empty"), "{:?}", empty.problems);

        let garbage = parse(Path::new("s.jsonl"), b"\x00\xff{]\n");
        assert!(!garbage.is_complete());
    }

    #[test]
    fn updates_replace_what_a_finding_said() {
        let update = r#"{"type":"update","fingerprint":"fp1","severity":"critical","verification":{"status":"signs-token"},"locations":[]}"#;
        let text = format!("{FINDING}\n{update}\n{SUMMARY}\n");
        let file = parse(Path::new("s.jsonl"), text.as_bytes());
        let finding = &file.findings[0].finding;
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(
            finding.verification.status,
            crate::finding::Status::SignsToken
        );
        assert!(finding.locations.is_empty());
        let orphan = parse(Path::new("s.jsonl"), format!("{update}\n").as_bytes());
        assert!(orphan.problems[0].contains("before its finding"));
    }
}
