#!/usr/bin/env python3
"""Run keysweep, Kingfisher and gitleaks over each checked-out tree and normalise their findings.

Usage:
    run.py TREES_DIR OUT_DIR --keysweep BIN --kingfisher BIN --gitleaks BIN [--repos a__b,c__d]
           [--tools keysweep,kingfisher,gitleaks,gitleaks-nogeneric] [--label NAME]

TREES_DIR holds one directory per repository, named `owner__name`, with the repository's tracked
files at one commit (see repos.tsv). For every tree and tool the raw report is kept under
OUT_DIR/raw/<tool>/<repo>.json and the normalised rows are written to OUT_DIR/findings.tsv:

    tool  repo  path  line  end_line  rule  value_hash

`value_hash` is the first 12 hex digits of SHA-256 over the secret with all whitespace removed:
the secret itself never reaches the TSV. The raw reports do contain secrets; OUT_DIR belongs
outside the repository. `gitleaks-nogeneric` is gitleaks with its `generic-api-key` rule
disabled through a config that extends the default one. `--label NAME` renames the keysweep tool
(e.g. `keysweep@hmacshapes`) so runs of several builds can share one OUT_DIR.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

GITLEAKS_ALL = "[extend]\nuseDefault = true\n"
GITLEAKS_NOGENERIC = '[extend]\nuseDefault = true\ndisabledRules = ["generic-api-key"]\n'


def value_hash(secret):
    """SHA-256 prefix of the secret with whitespace removed (so PEM line breaks do not matter)."""
    norm = "".join((secret or "").split())
    return hashlib.sha256(norm.encode("utf-8", "surrogateescape")).hexdigest()[:12]


def rel(path, tree):
    """A finding's path relative to the tree root, with forward slashes."""
    path = os.path.normpath(path)
    if os.path.isabs(path):
        path = os.path.relpath(path, tree)
    return path.replace(os.sep, "/").removeprefix("./")


def run(cmd, cwd, ok=(0, 1)):
    """Run a tool; return (elapsed seconds, completed process)."""
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode not in ok:
        sys.stderr.write(f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stderr[-2000:]}\n")
    return elapsed, proc


def keysweep(binary, tree, raw):
    """keysweep scan, no config, no network, ignore files ignored (the tree is tracked files only)."""
    cmd = [binary, "scan", ".", "--format", "json", "--show-secrets", "--no-config",
           "--offline", "--no-ignore", "-o", raw]
    elapsed, _ = run(cmd, tree)
    rows = []
    with open(raw, encoding="utf-8") as fh:
        report = json.load(fh)
    for finding in report.get("findings", []):
        for loc in finding.get("locations", []):
            rows.append((rel(loc["path"], tree), loc["line"], loc.get("end_line") or loc["line"],
                         finding["rule"], value_hash(finding.get("secret"))))
    return elapsed, rows


def kingfisher(binary, tree, raw):
    """Kingfisher over the plain directory: no validation, no update check, no de-duplication."""
    cmd = [binary, "scan", ".", "--git-history", "none", "--no-validate", "--no-update-check",
           "--no-dedup", "--format", "json", "-o", raw]
    elapsed, _ = run(cmd, tree, ok=(0, 200, 205))
    rows = []
    with open(raw, encoding="utf-8") as fh:
        text = fh.read()
    decoder = json.JSONDecoder()
    pos = 0
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        obj, pos = decoder.raw_decode(text, pos)
        if isinstance(obj, dict) and isinstance(obj.get("findings"), list):
            for item in obj["findings"]:
                f = item["finding"]
                snippet = f.get("snippet") or ""
                line = int(f["line"])
                rows.append((rel(f["path"], tree), line, line + snippet.count("\n"),
                             item["rule"]["id"], value_hash(snippet)))
    return elapsed, rows


def gitleaks(binary, tree, raw, config):
    """gitleaks dir with an explicit config (so a tree's own .gitleaks.toml is not read)."""
    cmd = [binary, "dir", ".", "--report-format", "json", "--report-path", raw, "--no-banner",
           "--config", config, "--exit-code", "0", "--log-level", "error"]
    elapsed, _ = run(cmd, tree)
    rows = []
    with open(raw, encoding="utf-8") as fh:
        for f in json.load(fh) or []:
            rows.append((rel(f["File"], tree), f["StartLine"], f["EndLine"], f["RuleID"],
                         value_hash(f.get("Secret") or f.get("Match"))))
    return elapsed, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trees")
    ap.add_argument("out")
    ap.add_argument("--keysweep")
    ap.add_argument("--kingfisher")
    ap.add_argument("--gitleaks")
    ap.add_argument("--repos", help="comma-separated tree names (default: all)")
    ap.add_argument("--tools", default="keysweep,kingfisher,gitleaks,gitleaks-nogeneric")
    ap.add_argument("--label", default="keysweep", help="tool name for the keysweep rows")
    args = ap.parse_args()
    for tool in ("keysweep", "kingfisher", "gitleaks"):
        # The tools run inside each tree, so a relative binary path is resolved here.
        if getattr(args, tool) and os.sep in getattr(args, tool):
            setattr(args, tool, os.path.abspath(getattr(args, tool)))

    trees = os.path.abspath(args.trees)
    out = os.path.abspath(args.out)
    repos = sorted(args.repos.split(",") if args.repos else
                   [d for d in os.listdir(trees) if os.path.isdir(os.path.join(trees, d))])
    tools = args.tools.split(",")
    os.makedirs(out, exist_ok=True)
    configs = {}
    for name, text in (("gitleaks", GITLEAKS_ALL), ("gitleaks-nogeneric", GITLEAKS_NOGENERIC)):
        configs[name] = os.path.join(out, f"{name}.toml")
        with open(configs[name], "w", encoding="utf-8") as fh:
            fh.write(text)

    findings_path = os.path.join(out, "findings.tsv")
    kept = []
    if os.path.exists(findings_path):
        # Keep the rows of tools (and repos) that this run does not redo.
        redo = {args.label if t == "keysweep" else t for t in tools}
        with open(findings_path, encoding="utf-8") as fh:
            next(fh, None)
            for line in fh:
                cols = line.rstrip("\n").split("\t")
                if not (cols[0] in redo and cols[1] in repos):
                    kept.append(cols)

    new_rows, times = [], []
    for repo in repos:
        tree = os.path.join(trees, repo)
        for tool in tools:
            name = args.label if tool == "keysweep" else tool
            raw_dir = os.path.join(out, "raw", name)
            os.makedirs(raw_dir, exist_ok=True)
            raw = os.path.join(raw_dir, f"{repo}.json")
            if tool == "keysweep":
                elapsed, rows = keysweep(args.keysweep, tree, raw)
            elif tool == "kingfisher":
                elapsed, rows = kingfisher(args.kingfisher, tree, raw)
            else:
                elapsed, rows = gitleaks(args.gitleaks, tree, raw, configs[tool])
            times.append((name, repo, elapsed, len(rows)))
            for r in sorted(set(rows)):
                new_rows.append([name, repo, r[0], str(r[1]), str(r[2]), r[3], r[4]])
            print(f"{name:24} {repo:58} {len(rows):4} findings {elapsed:6.2f}s", flush=True)

    with open(findings_path, "w", encoding="utf-8") as fh:
        fh.write("tool\trepo\tpath\tline\tend_line\trule\tvalue_hash\n")
        for cols in sorted(kept + new_rows):
            fh.write("\t".join(cols) + "\n")
    print(f"wrote {findings_path}")


if __name__ == "__main__":
    main()
