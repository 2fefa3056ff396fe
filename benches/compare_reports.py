#!/usr/bin/env python3
"""Compare two keysweep JSON reports (`--format json`) finding by finding.

Usage:
  compare_reports.py BEFORE.json AFTER.json [--max-lines N]

Prints, for each report: the number of findings, the number of locations, the stats
counters (files_scanned, bytes_scanned, files_binary, files_skipped) and the number of
skipped entries. Then prints the differences:

- findings present in one report and not the other (matched by `fingerprint`);
- for each finding in both: locations present in one and not the other, where a
  location is compared on path, line, column, end_line, end_column, commit, blob,
  commits and format;
- for each finding in both: differing rule, severity, title, key or jwt members;
- differing stats counters and differing skipped entries (path, reason).

`stats.elapsed_ms` is ignored (it is a timing). The redacted `secret` and the
`verification` member are not compared either (the first is derived from the secret,
which the fingerprint covers; the second depends on the network and the options).

Exit status: 0 when the reports are identical in everything compared, 1 when they
differ, 2 on a usage or parse error. Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

STAT_KEYS = ("files_scanned", "bytes_scanned", "files_binary", "files_skipped")
LOC_KEYS = ("path", "line", "column", "end_line", "end_column", "commit", "blob",
            "commits", "format")
FINDING_KEYS = ("rule", "title", "severity", "key", "jwt")


def load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        print(f"error: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        print(f"error: {path} is not a keysweep JSON report (no findings list)", file=sys.stderr)
        sys.exit(2)
    return doc


def loc_key(loc: dict) -> tuple:
    return tuple(loc.get(k) for k in LOC_KEYS)


def fmt_loc(key: tuple) -> str:
    d = dict(zip(LOC_KEYS, key))
    s = f"{d['path']}:{d['line']}:{d['column']}-{d['end_line']}:{d['end_column']} [{d['format']}]"
    if d["commit"] is not None:
        s += f" commit={d['commit']}"
    if d["blob"] is not None:
        s += f" blob={d['blob']}"
    if d["commits"] is not None:
        s += f" commits={d['commits']}"
    return s


def by_fingerprint(doc: dict, name: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for f in doc["findings"]:
        fp = f.get("fingerprint")
        if fp in out:
            # Not expected: keysweep groups by fingerprint. Say so rather than hide it.
            print(f"warning: {name} has fingerprint {fp} twice; locations merged", file=sys.stderr)
            out[fp] = dict(out[fp], locations=out[fp]["locations"] + f.get("locations", []))
        else:
            out[fp] = f
    return out


def summary(doc: dict) -> dict:
    stats = doc.get("stats") or {}
    nloc = sum(len(f.get("locations") or []) for f in doc["findings"])
    skipped = doc.get("skipped") or []
    s = {"findings": len(doc["findings"]), "locations": nloc, "skipped": len(skipped)}
    for k in STAT_KEYS:
        s[k] = stats.get(k)
    return s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", metavar="BEFORE.json")
    ap.add_argument("b", metavar="AFTER.json")
    ap.add_argument("--max-lines", type=int, default=50,
                    help="at most this many lines per difference list (default 50; 0 = all)")
    args = ap.parse_args()
    limit = args.max_lines if args.max_lines > 0 else None

    da, db = load(args.a), load(args.b)
    sa, sb = summary(da), summary(db)
    differs = False

    cols = ("findings", "locations", *STAT_KEYS, "skipped")
    print(f"A = {args.a}")
    print(f"B = {args.b}\n")
    print("| | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for tag, s in (("A", sa), ("B", sb)):
        print(f"| {tag} | " + " | ".join(str(s[c]) for c in cols) + " |")
    print()

    def show(title: str, lines: list[str]) -> None:
        nonlocal differs
        if not lines:
            return
        differs = True
        print(f"{title} ({len(lines)}):")
        for line in lines[:limit]:
            print(f"  {line}")
        if limit is not None and len(lines) > limit:
            print(f"  ... {len(lines) - limit} more (use --max-lines 0 to see all)")

    # Stats and skipped.
    show("stats differ", [f"{k}: A={sa[k]} B={sb[k]}" for k in STAT_KEYS if sa[k] != sb[k]])
    ska = Counter((x.get("path"), x.get("reason")) for x in da.get("skipped") or [])
    skb = Counter((x.get("path"), x.get("reason")) for x in db.get("skipped") or [])
    show("skipped only in A", [f"{p}: {r}" for (p, r) in sorted((ska - skb).elements(), key=str)])
    show("skipped only in B", [f"{p}: {r}" for (p, r) in sorted((skb - ska).elements(), key=str)])

    fa, fb = by_fingerprint(da, "A"), by_fingerprint(db, "B")

    def describe(f: dict) -> str:
        locs = f.get("locations") or []
        first = fmt_loc(loc_key(locs[0])) if locs else "no locations"
        return f"{f.get('fingerprint')} {f.get('rule')} ({len(locs)} locations; first {first})"

    show("findings only in A", [describe(fa[k]) for k in sorted(fa.keys() - fb.keys())])
    show("findings only in B", [describe(fb[k]) for k in sorted(fb.keys() - fa.keys())])

    common = sorted(fa.keys() & fb.keys())
    member_diffs: list[str] = []
    loc_diffs: list[str] = []
    nfind_loc = 0
    for fp in common:
        a, b = fa[fp], fb[fp]
        for k in FINDING_KEYS:
            if a.get(k) != b.get(k):
                member_diffs.append(f"{fp} {k}: A={json.dumps(a.get(k))} B={json.dumps(b.get(k))}")
        la = Counter(loc_key(x) for x in a.get("locations") or [])
        lb = Counter(loc_key(x) for x in b.get("locations") or [])
        only_a = sorted((la - lb).elements(), key=repr)
        only_b = sorted((lb - la).elements(), key=repr)
        if only_a or only_b:
            nfind_loc += 1
            loc_diffs.append(f"{fp} {a.get('rule')}: {len(only_a)} only in A, {len(only_b)} only in B")
            loc_diffs += [f"    - A: {fmt_loc(k)}" for k in only_a]
            loc_diffs += [f"    + B: {fmt_loc(k)}" for k in only_b]
    show("finding members differ (common findings)", member_diffs)
    if loc_diffs:
        print(f"locations differ in {nfind_loc} of {len(common)} common findings:")
        differs = True
        for line in loc_diffs[:limit]:
            print(f"  {line}")
        if limit is not None and len(loc_diffs) > limit:
            print(f"  ... {len(loc_diffs) - limit} more lines (use --max-lines 0 to see all)")

    # Same set of locations but in another order is a (minor) difference too: reports
    # are meant to be deterministic.
    order = [fp for fp in common
             if [loc_key(x) for x in fa[fp].get("locations") or []]
             != [loc_key(x) for x in fb[fp].get("locations") or []]
             and Counter(loc_key(x) for x in fa[fp].get("locations") or [])
             == Counter(loc_key(x) for x in fb[fp].get("locations") or [])]
    show("same locations, different order", order)
    forder = [f.get("fingerprint") for f in da["findings"]] != \
        [f.get("fingerprint") for f in db["findings"]]
    if forder and fa.keys() == fb.keys():
        print("note: the same findings appear in a different order")
        differs = True

    print("IDENTICAL (ignoring elapsed_ms)" if not differs else "DIFFERENT")
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
