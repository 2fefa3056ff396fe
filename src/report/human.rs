//! The terminal report: one block per finding, coloured only on a terminal.

use std::io::Write;

use super::{RenderOptions, ScanReport, escape_control as esc, shown_secret};
use crate::finding::{Finding, Severity};

struct Palette {
    color: bool,
}

impl Palette {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity) -> String {
        let code = match severity {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
        };
        self.paint(code, &severity.as_str().to_uppercase())
    }
}

/// Write the human report.
pub fn write(
    report: &ScanReport<'_>,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let palette = Palette {
        color: options.color,
    };
    for finding in &report.findings {
        write_finding(finding, options, &palette, out)?;
    }
    for skipped in &report.skipped {
        writeln!(
            out,
            "{} {}: {}",
            palette.paint("33", "skipped"),
            esc(&skipped.path),
            esc(&skipped.reason)
        )?;
    }
    let stats = &report.stats;
    let mb = stats.bytes_scanned as f64 / 1e6;
    let mut summary = format!(
        "{} finding(s), {} location(s) in {} file(s) ({mb:.1} MB) in {:.2} s; {} skipped",
        stats.findings,
        stats.locations,
        stats.files_scanned,
        stats.elapsed_ms as f64 / 1000.0,
        report.skipped.len()
    );
    if stats.ignored > 0 {
        summary.push_str(&format!(", {} ignored", stats.ignored));
    }
    writeln!(out, "{}", palette.paint("1", &summary))?;
    if let Some(run) = &report.run {
        let state = if run.completed {
            "completed"
        } else {
            "INTERRUPTED: findings up to the signal"
        };
        let what = if report.shard.is_some() {
            "repositories of"
        } else {
            "sweep of"
        };
        writeln!(
            out,
            "{what} {} on {} as {}, {} to {}: {state}",
            esc(&run.roots.join(", ")),
            esc(&run.host),
            esc(&run.user),
            run.started,
            run.ended
        )?;
    }
    if let Some(shard) = &report.shard {
        writeln!(out, "{}", shard_line(shard))?;
    }
    Ok(())
}

/// `shard 2/4 of list sha256:1a2b3c4d5e6f (30 repositories): 7 scanned, 1 failed`.
fn shard_line(shard: &super::ShardReport) -> String {
    let counts = super::count_by_status(&shard.repositories);
    format!(
        "shard {} of list {} ({} repositories): {}",
        shard.shard,
        shard.list.digest.get(..19).unwrap_or(&shard.list.digest),
        shard.list.repositories,
        if counts.is_empty() {
            "none in this shard"
        } else {
            &counts
        }
    )
}

fn write_finding(
    finding: &Finding,
    options: &RenderOptions,
    palette: &Palette,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {} [{}]",
        palette.severity(finding.severity),
        palette.paint("1", &finding.title),
        finding.rule
    )?;
    writeln!(
        out,
        "  secret:      {}",
        esc(shown_secret(finding, options))
    )?;
    if let Some(key) = &finding.key {
        let mut line = key.key_type.clone();
        if let Some(curve) = &key.curve {
            line.push_str(&format!(" {curve}"));
        } else if let Some(bits) = key.bits {
            line.push_str(&format!(" {bits} bits"));
        }
        if key.encrypted {
            line.push_str(", encrypted");
        }
        writeln!(out, "  key:         {line}")?;
        if let Some(thumbprint) = &key.thumbprint {
            writeln!(out, "  thumbprint:  {thumbprint}")?;
        }
    }
    if let Some(jwt) = &finding.jwt {
        let mut parts = vec![format!("alg {}", jwt.alg)];
        parts.extend(jwt.kid.as_ref().map(|k| format!("kid {k}")));
        parts.extend(jwt.iss.as_ref().map(|i| format!("iss {i}")));
        parts.extend(jwt.exp.map(|e| format!("exp {e}")));
        writeln!(out, "  token:       {}", esc(&parts.join(", ")))?;
    }
    let verification = &finding.verification;
    let mut status = verification.status.as_str().to_string();
    if let Some(kid) = &verification.kid {
        status.push_str(&format!(" (kid {kid})"));
    }
    if let Some(source) = &verification.source {
        status.push_str(&format!(" via {source}"));
    }
    if let Some(detail) = &verification.detail {
        status.push_str(&format!(": {detail}"));
    }
    writeln!(out, "  status:      {}", esc(&status))?;
    writeln!(out, "  fingerprint: {}", finding.fingerprint)?;
    for location in &finding.locations {
        let line = format!(
            "{}:{}:{}",
            esc(&location.path),
            location.line,
            location.column
        );
        writeln!(
            out,
            "  at {} ({}, {})",
            palette.paint("36", &line),
            location.format,
            location.context()
        )?;
        if let Some(related) = &location.related {
            let used = format!(
                "used at line {}:{} ({})",
                related.line, related.column, related.message
            );
            writeln!(out, "     {}", esc(&used))?;
        }
        if let Some(commit) = &location.commit {
            let mut provenance = format!("introduced in {}", &commit[..commit.len().min(12)]);
            if let Some(author) = &location.author {
                provenance.push_str(&format!(" by {author}"));
            }
            if let Some(date) = &location.date {
                provenance.push_str(&format!(" on {date}"));
            }
            if let Some(commits) = location.commits.filter(|&n| n > 1) {
                provenance.push_str(&format!(", present in {commits} commits"));
            }
            writeln!(out, "     {}", esc(&provenance))?;
        }
    }
    writeln!(out)
}
