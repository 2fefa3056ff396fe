"""What the action makes of keysweep's JSON report: the exit gate, the job summary, the
annotations and the step outputs. Pure functions over the parsed report (tested outside GitHub).
"""

import re

SEVERITIES = ("low", "medium", "high", "critical")
# keysweep's verification statuses, weakest first (src/finding.rs `Status`: the greater wins).
STATUSES = ("unverified", "not-live", "error", "known-example", "weak-secret", "signs-token", "live")
PROVEN = ("signs-token", "live")
NEVER = ("never", "none", "off", "false")

# GitHub shows at most 10 error annotations per step and drops the rest silently.
MAX_ANNOTATIONS = 10
# A step summary may not exceed 1 MiB; stay well under it.
SUMMARY_LIMIT = 1000 * 1000


def check_fail_on(value):
    """Normalises the fail-on input; raises ValueError naming the allowed values."""
    v = (value or "any").strip().lower()
    if v == "proven":
        v = "signs-token"
    if v in ("any",) + NEVER + SEVERITIES + STATUSES:
        return v
    raise ValueError(
        "input fail-on: {!r} is not one of any, never, a severity ({}) or a verification status "
        "({}, or proven)".format(value, ", ".join(SEVERITIES), ", ".join(STATUSES))
    )


def severity_rank(finding):
    s = finding.get("severity")
    return SEVERITIES.index(s) if s in SEVERITIES else -1


def status_of(finding):
    v = finding.get("verification")
    s = v.get("status") if isinstance(v, dict) else None
    return s if isinstance(s, str) else "unverified"


def status_rank(finding):
    s = status_of(finding)
    return STATUSES.index(s) if s in STATUSES else -1


def failing(findings, fail_on):
    """The findings at or above the fail-on threshold."""
    if fail_on in NEVER:
        return []
    if fail_on == "any":
        return list(findings)
    if fail_on in SEVERITIES:
        floor = SEVERITIES.index(fail_on)
        return [f for f in findings if severity_rank(f) >= floor]
    floor = STATUSES.index(fail_on)
    return [f for f in findings if status_rank(f) >= floor]


def proven(findings):
    return [f for f in findings if status_of(f) in PROVEN]


def urgency_order(findings):
    """Proven (live, signs-token) first, then by severity, then in report order."""
    indexed = list(enumerate(findings))
    indexed.sort(key=lambda p: (status_of(p[1]) not in PROVEN, -status_rank(p[1]) if status_of(p[1]) in PROVEN else 0, -severity_rank(p[1]), p[0]))
    return [f for _, f in indexed]


def first_location(finding):
    locs = finding.get("locations")
    if isinstance(locs, list) and locs and isinstance(locs[0], dict):
        return locs[0]
    return {}


def short(commit):
    return commit[:7] if isinstance(commit, str) else ""


def text(value):
    """A report value as one line of plain text."""
    s = value if isinstance(value, str) else ("" if value is None else str(value))
    return re.sub(r"[\x00-\x1f\x7f]", " ", s)


# --- workflow commands -------------------------------------------------------------------------


def escape_data(s):
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s):
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def annotations(findings, prefix=""):
    """`::error file=…,line=…::` lines for the most urgent findings, at most MAX_ANNOTATIONS."""
    lines = []
    ordered = urgency_order(findings)
    for f in ordered[:MAX_ANNOTATIONS]:
        loc = first_location(f)
        props = []
        path = text(loc.get("path"))
        if path:
            props.append("file=" + escape_property(prefix + path))
        for key, name in (("line", "line"), ("column", "col")):
            if isinstance(loc.get(key), int) and loc.get(key) > 0:
                props.append("{}={}".format(name, loc[key]))
        props.append("title=" + escape_property("keysweep: {} ({})".format(text(f.get("title")), status_of(f))))
        message = "{} [{}], severity {}, status {}".format(
            text(f.get("title")), text(f.get("rule")), text(f.get("severity")), status_of(f)
        )
        if loc.get("commit"):
            message += ", introduced in commit {}".format(short(loc["commit"]))
        extra = len(f.get("locations") or []) - 1
        if extra > 0:
            message += " (and {} more location{})".format(extra, "" if extra == 1 else "s")
        message += ". Rotate it; see the job summary and the SARIF report."
        lines.append("::error {}::{}".format(",".join(props), escape_data(message)))
    return lines


# --- job summary -------------------------------------------------------------------------------


def md(s):
    """Plain text safe inside a Markdown table cell (no markup, no HTML, no line breaks)."""
    s = text(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", s)


def summary(report, findings, fail_on, failed, described, commit_url=None, limit=SUMMARY_LIMIT, notes=()):
    """The Markdown job summary, at most `limit` bytes (UTF-8), truncated with a count."""
    n = len(findings)
    p = len(proven(findings))
    head = ["## keysweep", ""]
    if n == 0:
        head.append("No leaked keys or secrets found in {}.".format(md(described)))
    else:
        head.append(
            "**{} finding{}** ({} proven live) in {}.".format(n, "" if n == 1 else "s", p, md(described))
        )
    gate = "failed: {} at or above it".format(len(failed)) if failed else "passed"
    head.append("")
    head.append("fail-on: `{}` — {}.".format(fail_on, gate))
    for note in notes:
        head.append("")
        head.append(md(note))
    skipped = report.get("skipped")
    if isinstance(skipped, list) and skipped:
        head.append("")
        head.append("{} item{} skipped (see the JSON report).".format(len(skipped), "" if len(skipped) == 1 else "s"))
    head.append("")
    out = "\n".join(head) + "\n"
    if n == 0:
        return out
    out += "| # | rule | severity | status | location | commit |\n|---|---|---|---|---|---|\n"
    tail_room = 200
    shown = 0
    for i, f in enumerate(urgency_order(findings), 1):
        loc = first_location(f)
        where = md(loc.get("path"))
        if loc.get("line"):
            where += ":{}".format(loc["line"])
        extra = len(f.get("locations") or []) - 1
        if extra > 0:
            where += " (+{})".format(extra)
        commit = loc.get("commit")
        if isinstance(commit, str) and commit:
            c = "`{}`".format(md(short(commit)).replace("\\", ""))
            if commit_url and re.match(r"^[0-9a-f]+$", commit):
                c = "[{}]({}/{})".format(c, commit_url, commit)
        else:
            c = ""
        row = "| {} | {} | {} | {} | {} | {} |\n".format(
            i, md(f.get("rule")), md(f.get("severity")), md(status_of(f)), where, c
        )
        if len((out + row).encode("utf-8")) + tail_room > limit:
            break
        out += row
        shown += 1
    if shown < n:
        out += "\n… and {} more finding{} not shown (summary limit); all {} are in the SARIF and JSON reports.\n".format(
            n - shown, "" if n - shown == 1 else "s", n
        )
    return out


def outputs(values):
    """`name=value` lines for $GITHUB_OUTPUT (values are one line each)."""
    return "".join("{}={}\n".format(k, text(v)) for k, v in values.items())
