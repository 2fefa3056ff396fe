#!/usr/bin/env python3
"""Score normalised findings (run.py's findings.tsv) against hand labels (labels.tsv).

Usage:
    score.py FINDINGS_TSV [--labels labels.tsv] [--tools a,b] [--trees TREES_DIR]
             [--unlabelled OUT_TSV] [--per-repo] [--fp]

Label rows (tab-separated, `#` lines are comments):

    repo  path  line  end_line  value_hash  label  class  note

`label` is TP or FP. A finding takes the label of the row at its repo, path and line whose
value_hash equals its own; failing that, of the rows at that location if they all agree (tools
hash different spans of the same secret, e.g. a PEM block against its first line). Rows whose
value_hash is `-` are true findings added by hand (grep) that no tool needs to have reported.

Precision is by location: a tool's location (repo, path, line) is true when one of its findings
there is TP. Recall is against the union of true findings of every tool plus the hand-added ones,
where TP rows of one file whose line ranges overlap are one true finding (a PEM key reported at its
BEGIN line by one tool and at its body by another is found by both).
"""

import argparse
import collections
import os
import sys

TOOL_ORDER = ["keysweep", "kingfisher", "gitleaks", "gitleaks-nogeneric"]


def read_tsv(path):
    rows = []
    with open(path, encoding="utf-8") as fh:
        header = None
        for line in fh:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
                continue
            cols += [""] * (len(header) - len(cols))
            rows.append(dict(zip(header, cols)))
    return rows


class Labels:
    """Label rows indexed by location, and the true findings they define."""

    def __init__(self, rows):
        self.rows = rows
        self.by_loc = collections.defaultdict(list)
        for i, r in enumerate(rows):
            r["line"], r["end_line"] = int(r["line"]), int(r["end_line"] or r["line"])
            r["id"] = i
            self.by_loc[(r["repo"], r["path"], r["line"])].append(r)
        self.unit = self._units()

    def _units(self):
        """Union TP rows of one file whose line ranges overlap into true findings."""
        parent = list(range(len(self.rows)))

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        per_file = collections.defaultdict(list)
        for r in self.rows:
            if r["label"] == "TP":
                per_file[(r["repo"], r["path"])].append(r)
        for rows in per_file.values():
            rows.sort(key=lambda r: (r["line"], r["end_line"]))
            end, head = -1, None
            for r in rows:
                if head is not None and r["line"] <= end:
                    parent[find(r["id"])] = find(head["id"])
                    end = max(end, r["end_line"])
                else:
                    head, end = r, r["end_line"]
        return {r["id"]: find(r["id"]) for r in self.rows if r["label"] == "TP"}

    def lookup(self, f):
        """The label row for a finding, or None when it is unlabelled or ambiguous."""
        rows = self.by_loc.get((f["repo"], f["path"], int(f["line"])), [])
        exact = [r for r in rows if r["value_hash"] == f["value_hash"]]
        if exact:
            return exact[0]
        if rows and len({r["label"] for r in rows}) == 1:
            return rows[0]
        return None


def tool_sort(tools):
    def key(t):
        base = t.split("@")[0]
        return (TOOL_ORDER.index(base) if base in TOOL_ORDER else 99, t)
    return sorted(tools, key=key)


def unit_class(labels, unit_id):
    classes = {labels.rows[i]["class"] for i, u in labels.unit.items() if u == unit_id}
    for c in ("private-key", "private-jwk", "jwt", "hmac-secret"):
        if c in classes:
            return c
    return sorted(classes)[0] if classes else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("findings")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--labels", default=os.path.join(here, "labels.tsv"))
    ap.add_argument("--repos", default=os.path.join(here, "repos.tsv"),
                    help="the corpus (repos.tsv): every tree is counted, found or not")
    ap.add_argument("--tools", help="comma-separated tools to report (default: all present)")
    ap.add_argument("--trees", help="print the source line of each unlabelled finding")
    ap.add_argument("--unlabelled", help="write skeleton label rows for unlabelled findings here")
    ap.add_argument("--per-repo", action="store_true", help="a table per repository")
    ap.add_argument("--fp", action="store_true", help="list every FP location per tool")
    ap.add_argument("--missed", metavar="TOOL",
                    help="list the true findings another tool (or grep) found and TOOL did not")
    args = ap.parse_args()

    labels = Labels(read_tsv(args.labels))
    findings = read_tsv(args.findings)
    tools = tool_sort(args.tools.split(",") if args.tools else {f["tool"] for f in findings})
    findings = [f for f in findings if f["tool"] in tools]
    repos = sorted({f["repo"] for f in findings} | {r["repo"] for r in labels.rows}
                   | {r["tree"] for r in read_tsv(args.repos)})

    # Per tool and location: TP/FP/unlabelled; units found.
    loc_state = collections.defaultdict(dict)  # tool -> loc -> "TP"/"FP"/"?"
    found = collections.defaultdict(set)  # tool -> unit ids
    fps = collections.defaultdict(list)
    unlabelled = {}
    for f in findings:
        loc = (f["repo"], f["path"], int(f["line"]))
        row = labels.lookup(f)
        state = row["label"] if row else "?"
        if row is None:
            unlabelled[(loc, f["value_hash"])] = f
        elif state == "TP":
            found[f["tool"]].add(labels.unit[row["id"]])
        elif state == "FP":
            fps[f["tool"]].append((loc, f["rule"], row["class"], row["note"]))
        prev = loc_state[f["tool"]].get(loc)
        if prev != "TP":
            loc_state[f["tool"]][loc] = state if prev in (None, "?") or state == "TP" else prev

    all_units = set(labels.unit.values())
    unit_classes = {u: unit_class(labels, u) for u in all_units}

    def table(repo_filter, title):
        print(f"\n## {title}")
        print(f"{'tool':28} {'locs':>5} {'TP':>5} {'FP':>4} {'unl':>4} {'precision':>9} "
              f"{'found':>5} {'truth':>5} {'recall':>7}")
        units = {u for u in all_units if repo_filter(labels.rows[u]["repo"])}
        for tool in tools:
            states = [s for loc, s in loc_state[tool].items() if repo_filter(loc[0])]
            tp, fp, unl = states.count("TP"), states.count("FP"), states.count("?")
            prec = f"{100 * tp / (tp + fp):.1f}%" if tp + fp else "-"
            hit = found[tool] & units
            rec = f"{100 * len(hit) / len(units):.1f}%" if units else "-"
            print(f"{tool:28} {len(states):5} {tp:5} {fp:4} {unl:4} {prec:>9} {len(hit):5} "
                  f"{len(units):5} {rec:>7}")

    if args.per_repo:
        for repo in repos:
            table(lambda r, repo=repo: r == repo, repo)
    table(lambda r: True, f"total ({len(repos)} repositories)")

    print("\n## recall by class (true findings found / all)")
    classes = sorted(set(unit_classes.values()))
    print(f"{'tool':28} " + " ".join(f"{c:>18}" for c in classes))
    for tool in tools:
        cells = []
        for c in classes:
            us = {u for u in all_units if unit_classes[u] == c}
            cells.append(f"{len(found[tool] & us)}/{len(us)}")
        print(f"{tool:28} " + " ".join(f"{x:>18}" for x in cells))

    if args.missed:
        others = set().union(*(found[t] for t in tools if t != args.missed))
        print(f"\n## true findings {args.missed} missed (found by another tool: *)")
        for u in sorted(all_units - found[args.missed], key=lambda u: (unit_classes[u], u)):
            row = labels.rows[u]
            mark = "*" if u in others else " "
            print(f"  {mark} {unit_classes[u]:12} {row['repo']} {row['path']}:{row['line']} "
                  f"{row.get('note', '')}")

    if args.fp:
        for tool in tools:
            if not fps[tool]:
                continue
            print(f"\n## FP findings of {tool} by class")
            by_class = collections.defaultdict(list)
            for loc, rule, cls, note in fps[tool]:
                by_class[cls].append((loc, rule, note))
            for cls, items in sorted(by_class.items(), key=lambda kv: -len(kv[1])):
                print(f"- {cls}: {len(items)}")
                for (repo, path, line), rule, note in sorted(items):
                    print(f"    {repo} {path}:{line} {rule} {note}")

    if unlabelled:
        print(f"\n{len(unlabelled)} unlabelled findings", file=sys.stderr)
        for (loc, h), f in sorted(unlabelled.items()):
            text = ""
            if args.trees:
                try:
                    with open(os.path.join(args.trees, loc[0], loc[1]), encoding="utf-8",
                              errors="replace") as fh:
                        text = fh.read().split("\n")[loc[2] - 1].strip()[:160]
                except (OSError, IndexError):
                    text = "<unreadable>"
            print(f"  ? {f['tool']} {loc[0]} {loc[1]}:{loc[2]} {f['rule']} {h} {text}",
                  file=sys.stderr)
        if args.unlabelled:
            with open(args.unlabelled, "w", encoding="utf-8") as fh:
                fh.write("repo\tpath\tline\tend_line\tvalue_hash\tlabel\tclass\tnote\ttool\trule\n")
                for (loc, h), f in sorted(unlabelled.items()):
                    fh.write("\t".join([loc[0], loc[1], str(loc[2]), f["end_line"], h, "?", "",
                                        "", f["tool"], f["rule"]]) + "\n")


if __name__ == "__main__":
    main()
