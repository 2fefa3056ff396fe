#!/usr/bin/env python3
"""Sweep benchmark: keysweep sweep vs Kingfisher on a generated home directory.

    benches/bench_sweep.py HOME --keysweep BIN [--kingfisher BIN] [--runs N]

HOME comes from benches/make_home.py (its manifest HOME/../<name>.planted.json lists the planted
keys). Each tool runs N times over the same warm tree, alternating; reported: median wall time,
throughput (bytes of regular files under HOME / median wall), peak RSS (the child's ru_maxrss),
and how many planted keys each found. A planted key counts as found when a finding names its
location (keysweep) or any finding's text holds the last 40 base64 characters of its body.

keysweep runs `sweep HOME --format json --show-secrets --no-config -q`; Kingfisher runs
`scan HOME --git-history full --format json --no-validate` (archive extraction is on by default;
nested repositories are scanned with their history).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_measured(cmd, stdout_path):
    """Run cmd, stdout to a file; return (wall seconds, peak RSS MiB, exit code)."""
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def tree_bytes(home: Path) -> int:
    total = 0
    for root, dirs, files in os.walk(home):
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                try:
                    total += os.stat(p).st_size
                except OSError:
                    pass
    return total


def planted_found(planted, report_text, location_paths):
    # PEM bodies are reported with their line breaks (raw, or as JSON `\\n` escapes): the marker
    # is looked for in the text with both removed.
    report_text = report_text.replace("\\n", "").replace("\n", "").replace("\r", "")
    found = 0
    for key in planted:
        where = key["where"].split(" history: ")
        path = where[0] + "/" + where[1] if len(where) == 2 else where[0]
        if key["marker"] in report_text or path in location_paths:
            found += 1
    return found


def keysweep_paths(report):
    try:
        doc = json.loads(report)
    except json.JSONDecodeError:
        return set()
    # Keys only: a keystore keysweep could not open is not a key found.
    return {
        l["path"]
        for f in doc.get("findings", [])
        if f.get("rule", "").startswith("private-key/") and f.get("rule") != "private-key/keystore"
        for l in f.get("locations", [])
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("home", type=Path)
    ap.add_argument("--keysweep", required=True)
    ap.add_argument("--kingfisher")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    home = args.home.resolve()
    manifest = home.parent / f"{home.name}.planted.json"
    planted = json.loads(manifest.read_text())
    size = tree_bytes(home)
    tools = {"keysweep": [args.keysweep, "sweep", str(home), "--format", "json", "--show-secrets", "--no-config", "-q"]}
    if args.kingfisher:
        tools["kingfisher"] = [args.kingfisher, "scan", str(home), "--git-history", "full",
                               "--format", "json", "--no-validate", "--no-update-check"]
    results = {name: [] for name in tools}
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for name, cmd in tools.items():
                out = Path(tmp) / f"{name}.json"
                wall, rss, code = run_measured(cmd, out)
                results[name].append((wall, rss, code))
                text = out.read_text(errors="replace")
                paths = keysweep_paths(text) if name == "keysweep" else set()
                found[name] = planted_found(planted, text, paths)
                print(f"run {run + 1} {name}: {wall:.2f} s, {rss:.0f} MiB, exit {code}", file=sys.stderr)
    print(f"tree: {home.name}, {size / 1e6:.0f} MB, {len(planted)} planted keys")
    medians = {}
    for name, rows in results.items():
        wall = statistics.median(r[0] for r in rows)
        rss = max(r[1] for r in rows)
        medians[name] = wall
        print(f"{name:11} median {wall:7.2f} s  {size / 1e6 / wall:7.1f} MB/s  peak RSS {rss:6.0f} MiB  "
              f"planted keys found {found[name]}/{len(planted)}")
    if "kingfisher" in medians:
        print(f"keysweep throughput = {medians['kingfisher'] / medians['keysweep']:.2f}x Kingfisher's")


if __name__ == "__main__":
    main()
