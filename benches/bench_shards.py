#!/usr/bin/env python3
"""Sharded org sweep benchmark: `keysweep git --repos LIST --shard I/N` vs one unsharded run.

Python 3 standard library only. Nothing here refers to a particular machine: every path is
an argument.

Usage:
  bench_shards.py LIST --keysweep BIN [--shards 4] [--runs 1] [--out DIR] [--per-repo]
                  [--projection-repos 10000] [--projection-workers 100]
  bench_shards.py LIST --clone-from TSV [--url-base https://github.com/]
  bench_shards.py LIST --inventory TSV

LIST is a `keysweep git --repos` list file: one `LOCATION [NAME]` per line, `#` comments,
relative locations resolved against the list's directory.

The first form measures. Per run (the order alternates between runs: even runs start with
the unsharded run, odd runs with the shards):
  1. pre-reads every local repository's object database (warm page cache for everyone);
  2. `BIN git --repos LIST --format jsonl -o DIR/runR/all.jsonl` (the unsharded run);
  3. `BIN git --repos LIST --shard I/N --format jsonl -o DIR/runR/shard-I.jsonl`, I = 1..N,
     one after the other;
  4. `BIN merge DIR/runR/shard-*.jsonl --format json -o DIR/runR/merged.json` and
     `BIN merge DIR/runR/all.jsonl --format json -o DIR/runR/all.json`.
Each process is measured with os.wait4: user + sys CPU and ru_maxrss (Linux: KiB; the peak
RSS of that process) and wall time. keysweep exit codes 0 (clean) and 1 (findings) are
success; anything else stops the benchmark.

Checks (a failed check makes the exit status 1):
  - every shard file starts with a header naming its shard and the list digest, ends with a
    completed summary; all digests agree; the shards' repositories are disjoint, cover the
    list, and each sits in shard sha256(name)[:8] (big-endian) % N + 1;
  - the findings agree: replaying `finding`/`update` records, the union of the shard files
    has the same fingerprints with the same location sets as the unsharded file, and the
    two merged JSON reports have the same fingerprints, locations, rule, severity and
    verification status, and the same skipped entries.
With --per-repo every repository is also run alone (a one-line list) to get the spread of
per-repository cost, used for a resampled projection of the slowest worker.

Prints a Markdown table per run, the ratio total shard CPU / unsharded CPU, the largest
shard's peak RSS and the projection for --projection-repos repositories on
--projection-workers workers with its arithmetic. Raw figures go to DIR/bench_shards.json.

`--clone-from TSV` makes the corpus: `git clone --bare --quiet URL_BASE+NAME` for every row
of TSV (columns: name, head commit, ...) into LIST's directory as OWNER+NAME.git, and writes
LIST. `--inventory TSV` writes name, HEAD commit, commit count of HEAD, refs and object
database size (KiB) for every repository of LIST.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

URL_PREFIXES = ("https://", "http://", "ssh://", "git://", "file://")
LOC_KEYS = ("source", "path", "line", "column", "end_line", "end_column", "format",
            "commit", "blob", "commits")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the repository list

def is_url(location: str) -> bool:
    if location.startswith(URL_PREFIXES):
        return True
    head = location.split(":", 1)[0]
    return ":" in location and "@" in head and "/" not in head


def default_name(location: str) -> str:
    if is_url(location):
        rest = location.split("://", 1)[-1]
        if "://" not in location:  # user@host:path
            rest = rest.split("@", 1)[1].replace(":", "/", 1)
        rest = rest.split("@", 1)[-1]
        return rest.rstrip("/").removesuffix(".git")
    return Path(location.rstrip("/")).name.removesuffix(".git")


def read_list(path: Path) -> list[dict]:
    """The list's entries: name, location and (for local ones) the resolved path."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        location = parts[0]
        name = parts[1].strip() if len(parts) > 1 else default_name(location)
        local = None if is_url(location) else (path.parent / location).resolve()
        entries.append({"name": name, "location": location, "path": local})
    return entries


def expected_shard(name: str, count: int) -> int:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def git_dir(repo: Path) -> Path:
    return repo / ".git" if (repo / ".git").exists() else repo


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(git_dir(repo)), *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def pre_read(entries: list[dict]) -> tuple[int, float]:
    """Read every local repository's object database and refs once (warm page cache)."""
    start, total = time.monotonic(), 0
    for entry in entries:
        if entry["path"] is None:
            continue
        for root, _dirs, files in os.walk(git_dir(entry["path"])):
            for name in files:
                try:
                    with open(os.path.join(root, name), "rb") as f:
                        while chunk := f.read(1 << 20):
                            total += len(chunk)
                except OSError:
                    pass
    return total, time.monotonic() - start


# ---------------------------------------------------------------- corpus helpers

def clone_corpus(list_path: Path, tsv: Path, url_base: str) -> int:
    into = list_path.parent
    into.mkdir(parents=True, exist_ok=True)
    lines = []
    for row in tsv.read_text(encoding="utf-8").splitlines():
        if not row.strip() or row.startswith(("#", "name\t")):
            continue
        name, commit = row.split("\t")[:2]
        target = into / (name.replace("/", "+") + ".git")
        if not target.exists():
            log(f"clone {name}")
            done = subprocess.run(["git", "clone", "--bare", "--quiet", url_base + name,
                                   str(target)])
            if done.returncode != 0:
                log(f"  ! clone of {name} failed; left out of the list")
                continue
        head = git(target, "rev-parse", "HEAD")
        if head != commit:
            log(f"  note: {name} HEAD is {head}, the inventory recorded {commit}")
        lines.append(f"{target.name} {name}")
    list_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log(f"wrote {list_path} ({len(lines)} repositories)")
    return 0


def inventory(list_path: Path, tsv: Path) -> int:
    rows = ["name\thead\tcommits\trefs\tobjects_kib"]
    for entry in read_list(list_path):
        repo = entry["path"]
        if repo is None:
            continue
        size = sum(f.stat().st_size for f in (git_dir(repo) / "objects").rglob("*")
                   if f.is_file())
        refs = len(git(repo, "for-each-ref", "--format=%(refname)").splitlines())
        rows.append("\t".join([entry["name"], git(repo, "rev-parse", "HEAD"),
                               git(repo, "rev-list", "--count", "HEAD"), str(refs),
                               str(size // 1024)]))
    tsv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    log(f"wrote {tsv} ({len(rows) - 1} repositories)")
    return 0


# ---------------------------------------------------------------- measuring

# A small launcher process: fork/exec the command, wait4 it, write wall, user, sys, peak RSS
# and exit code. Not measured from this script directly because a child's ru_maxrss starts
# from the memory of the process that forked it (here it grows with the parsed reports).
LAUNCHER = """
import os, sys, time
start = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write("%r %r %r %d %d" % (time.monotonic() - start, ru.ru_utime, ru.ru_stime,
                                  ru.ru_maxrss, os.waitstatus_to_exitcode(status)))
"""


def measure(cmd: list[str], label: str, env: dict | None = None, quiet: bool = False) -> dict:
    """Run cmd through the launcher: wall, user, sys, peak RSS (KiB), exit code, stderr."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as figures:
        subprocess.run([sys.executable, "-S", "-c", LAUNCHER, figures.name, *cmd],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                       env=env, check=True)
        wall, user, sys_, rss, code = figures.read().split()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    code = int(code)
    if code not in (0, 1):
        log(f"  ! {label}: `{' '.join(cmd)}` exited {code}:\n{stderr[-2000:]}")
        raise SystemExit(2)
    result = {"label": label, "wall_s": float(wall), "user_s": float(user),
              "sys_s": float(sys_), "cpu_s": float(user) + float(sys_), "maxrss_kib": int(rss),
              "exit": code, "load1_before": load, "load1_after": os.getloadavg()[0],
              "stderr_notes": [line for line in stderr.splitlines()
                               if "warning: skipped" not in line][:20]}
    if not quiet:
        log(f"  {label}: wall {result['wall_s']:.2f} s, cpu {result['cpu_s']:.2f} s, "
            f"rss {result['maxrss_kib'] / 1024:.0f} MiB, exit {code}, load {load:.2f}")
    return result


def read_jsonl(path: Path) -> dict:
    """Header, summary and the findings (fingerprint -> record, updates applied)."""
    header, summary, findings = None, None, {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            kind = record.get("type")
            if kind == "header":
                header = record
            elif kind == "summary":
                summary = record
            elif kind == "finding":
                findings[record["fingerprint"]] = record
            elif kind == "update":
                known = findings.setdefault(record["fingerprint"], {})
                known.update({k: v for k, v in record.items() if k != "type"})
    return {"header": header, "summary": summary, "findings": findings}


def loc_key(location: dict) -> tuple:
    return tuple(location.get(k) for k in LOC_KEYS)


def show_loc(key: tuple) -> str:
    d = dict(zip(LOC_KEYS, key))
    text = f"{d['path']}:{d['line']}:{d['column']} [{d['format']}]"
    return text + (f" commit {d['commit'][:12]}" if d.get("commit") else "")


def location_sets(findings: dict) -> dict:
    return {fp: {loc_key(loc) for loc in f.get("locations", [])} for fp, f in findings.items()}


def compare_findings(left: dict, right: dict, lname: str, rname: str,
                     members: tuple = ()) -> list[str]:
    """Differences between two fingerprint -> finding maps, one line each."""
    out = []
    for fp in sorted(left.keys() - right.keys()):
        locs = sorted(show_loc(loc_key(x)) for x in left[fp].get("locations", []))
        out.append(f"only in {lname}: {fp} {left[fp].get('rule')} at {locs[:3]}")
    for fp in sorted(right.keys() - left.keys()):
        locs = sorted(show_loc(loc_key(x)) for x in right[fp].get("locations", []))
        out.append(f"only in {rname}: {fp} {right[fp].get('rule')} at {locs[:3]}")
    lsets, rsets = location_sets(left), location_sets(right)
    for fp in sorted(left.keys() & right.keys()):
        for key in sorted(lsets[fp] - rsets[fp], key=str):
            out.append(f"{fp}: location only in {lname}: {show_loc(key)}")
        for key in sorted(rsets[fp] - lsets[fp], key=str):
            out.append(f"{fp}: location only in {rname}: {show_loc(key)}")
        for member in members:
            lv, rv = left[fp].get(member), right[fp].get(member)
            if member == "verification":
                lv, rv = (lv or {}).get("status"), (rv or {}).get("status")
            if lv != rv:
                out.append(f"{fp}: {member} {lname}={lv!r} {rname}={rv!r}")
    return out


def check_shards(entries: list[dict], all_file: dict, shard_files: list[dict],
                 count: int) -> list[str]:
    """Header/summary/assignment checks; returns the problems found."""
    problems = []
    names = {e["name"] for e in entries}
    digests = set()
    seen: dict[str, int] = {}
    for index, data in enumerate([all_file] + shard_files):
        header, summary = data["header"], data["summary"]
        what = "unsharded" if index == 0 else f"shard {index}/{count}"
        want = {"index": 1, "count": 1} if index == 0 else {"index": index, "count": count}
        if header is None or header.get("shard") != want:
            problems.append(f"{what}: header {header and header.get('shard')} != {want}")
            continue
        digests.add((header.get("list") or {}).get("digest"))
        if summary is None or summary.get("completed") is not True:
            problems.append(f"{what}: no completed summary record")
        if index == 0:
            if set(header.get("repositories", [])) != names:
                problems.append("unsharded: header repositories differ from the list")
            continue
        for name in header.get("repositories", []):
            if name in seen:
                problems.append(f"{name} in shard {seen[name]} and shard {index}")
            seen[name] = index
            if expected_shard(name, count) != index:
                problems.append(f"{name} in shard {index}, sha256 rule says "
                                f"{expected_shard(name, count)}")
    if len(digests) != 1:
        problems.append(f"list digests differ: {sorted(map(str, digests))}")
    if set(seen) != names:
        problems.append(f"shards miss {sorted(names - set(seen))}, "
                        f"extra {sorted(set(seen) - names)}")
    return problems


def repo_status(data: dict) -> dict:
    summary = data["summary"] or {}
    return {r.get("name"): (r.get("status"), r.get("reason"))
            for r in summary.get("repositories", [])}


def skipped_set(doc: dict) -> set:
    return {(s.get("path"), s.get("reason")) for s in doc.get("skipped", [])}


def one_run(args, entries: list[dict], run: int, outdir: Path) -> dict:
    outdir.mkdir(parents=True, exist_ok=True)
    for stale in outdir.glob("*.json*"):
        stale.unlink()
    read_bytes, read_s = pre_read(entries)
    log(f"run {run + 1}: pre-read {read_bytes / 2**20:.0f} MiB in {read_s:.1f} s")
    base = [args.keysweep, "git", "--repos", str(args.list), *args.extra, "--format", "jsonl"]
    unsharded = lambda: measure([*base, "-o", str(outdir / "all.jsonl")], "unsharded", args.env)
    shard = lambda i: measure([*base, "--shard", f"{i}/{args.shards}", "-o",
                               str(outdir / f"shard-{i}.jsonl")], f"shard {i}/{args.shards}",
                              args.env)
    result: dict = {"run": run + 1, "pre_read_bytes": read_bytes, "pre_read_s": read_s}
    if run % 2 == 0:
        result["unsharded"] = unsharded()
        result["shards"] = [shard(i) for i in range(1, args.shards + 1)]
    else:
        result["shards"] = [shard(i) for i in range(1, args.shards + 1)]
        result["unsharded"] = unsharded()
    shard_paths = [str(outdir / f"shard-{i}.jsonl") for i in range(1, args.shards + 1)]
    merge = [args.keysweep, "merge"]
    result["merge_shards"] = measure([*merge, *shard_paths, "--format", "json", "-o",
                                      str(outdir / "merged.json")], "merge shards", args.env)
    result["merge_unsharded"] = measure([*merge, str(outdir / "all.jsonl"), "--format", "json",
                                         "-o", str(outdir / "all.json")], "merge unsharded",
                                        args.env)
    all_file = read_jsonl(outdir / "all.jsonl")
    shard_files = [read_jsonl(Path(p)) for p in shard_paths]
    for i, (data, m) in enumerate(zip(shard_files, result["shards"])):
        m["repositories"] = len((data["header"] or {}).get("repositories", []))
        m["findings_in_file"] = len(data["findings"])
        m["stats"] = (data["summary"] or {}).get("stats")
    result["unsharded"]["repositories"] = len(entries)
    result["unsharded"]["findings_in_file"] = len(all_file["findings"])
    result["unsharded"]["stats"] = (all_file["summary"] or {}).get("stats")
    problems = check_shards(entries, all_file, shard_files, args.shards)
    union: dict = {}
    for data in shard_files:
        for fp, finding in data["findings"].items():
            known = union.setdefault(fp, {**finding, "locations": []})
            known["locations"] = known["locations"] + finding.get("locations", [])
    jsonl_diff = compare_findings(all_file["findings"], union, "unsharded.jsonl", "shards.jsonl")
    statuses = {}
    for data in shard_files:
        statuses.update(repo_status(data))
    if statuses != repo_status(all_file):
        jsonl_diff.append(f"repository statuses differ: unsharded {repo_status(all_file)} "
                          f"shards {statuses}")
    merged = json.loads((outdir / "merged.json").read_text(encoding="utf-8"))
    alone = json.loads((outdir / "all.json").read_text(encoding="utf-8"))
    by_fp = lambda doc: {f["fingerprint"]: f for f in doc.get("findings", [])}
    merge_diff = compare_findings(by_fp(alone), by_fp(merged), "all.json", "merged.json",
                                  ("rule", "severity", "verification"))
    if skipped_set(alone) != skipped_set(merged):
        only_all = sorted(skipped_set(alone) - skipped_set(merged))
        only_merged = sorted(skipped_set(merged) - skipped_set(alone))
        merge_diff.append(f"skipped only in all.json: {only_all}; "
                          f"only in merged.json: {only_merged}")
    result.update({
        "problems": problems, "jsonl_differences": jsonl_diff, "merge_differences": merge_diff,
        "findings": len(by_fp(merged)),
        "locations": sum(len(f.get("locations", [])) for f in merged.get("findings", [])),
        "findings_unsharded": len(by_fp(alone)),
        "locations_unsharded": sum(len(f.get("locations", [])) for f in alone.get("findings", [])),
        "skipped": len(skipped_set(merged)),
    })
    return result


def per_repo(args, entries: list[dict], outdir: Path) -> list[dict]:
    """Every repository alone (a one-line list next to the original, so paths resolve)."""
    results = []
    pre_read(entries)
    for entry in entries:
        with tempfile.NamedTemporaryFile("w", dir=args.list.parent, suffix=".list",
                                         prefix=".bench-one-", delete=False) as one:
            one.write(f"{entry['location']} {entry['name']}\n")
        try:
            m = measure([args.keysweep, "git", "--repos", one.name, *args.extra, "--format",
                         "jsonl", "-o", str(outdir / "one.jsonl")], entry["name"], args.env)
        finally:
            os.unlink(one.name)
        results.append(m)
    return results


# ---------------------------------------------------------------- reporting

def row(name: str, m: dict) -> str:
    return (f"| {name} | {m.get('repositories', '')} | {m['wall_s']:.2f} | {m['user_s']:.2f} "
            f"| {m['sys_s']:.2f} | {m['cpu_s']:.2f} | {m['maxrss_kib'] / 1024:.0f} "
            f"| {m.get('findings_in_file', '')} | {m['exit']} | {m['load1_before']:.2f} |")


def print_run(r: dict) -> None:
    print(f"\n### Run {r['run']}\n")
    print("| part | repos | wall s | user s | sys s | CPU s | peak RSS MiB | findings | exit "
          "| load1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(row("unsharded", r["unsharded"]))
    for i, m in enumerate(r["shards"], 1):
        print(row(f"shard {i}/{len(r['shards'])}", m))
    t = r["totals"]
    print(f"| **shards total** | {t['repositories']} | {t['wall_s']:.2f} | {t['user_s']:.2f} "
          f"| {t['sys_s']:.2f} | {t['cpu_s']:.2f} | max {t['maxrss_kib'] / 1024:.0f} | | | |")
    print(row("merge (shards)", r["merge_shards"]))
    print(f"\nCPU ratio, shards / unsharded: {t['cpu_s']:.2f} / {r['unsharded']['cpu_s']:.2f} = "
          f"**{r['cpu_ratio']:.3f}** ({(r['cpu_ratio'] - 1) * 100:+.1f}%); wall ratio "
          f"{r['wall_ratio']:.3f}. Largest shard peak RSS: **{t['maxrss_kib'] / 1024:.0f} MiB** "
          f"(shard {t['largest_shard']}); unsharded {r['unsharded']['maxrss_kib'] / 1024:.0f} MiB.")
    print(f"Findings: merged {r['findings']} ({r['locations']} locations), unsharded "
          f"{r['findings_unsharded']} ({r['locations_unsharded']} locations); skipped "
          f"{r['skipped']}.")
    for line in r["merge_shards"]["stderr_notes"]:
        if "not verified across shards" in line:
            print(f"Merge said: {line.strip()}")
    for label in ("problems", "jsonl_differences", "merge_differences"):
        items = r[label]
        print(f"{label.replace('_', ' ').capitalize()}: {'none' if not items else len(items)}")
        for item in items[:40]:
            print(f"  - {item}")


def projection(args, runs: list[dict], singles: list[dict] | None, cores: int) -> dict:
    """Project a repos_total sweep on `workers` workers from the measured shard runs."""
    repos = runs[0]["totals"]["repositories"]
    cpu = statistics.median(r["totals"]["cpu_s"] for r in runs)
    wall = statistics.median(r["totals"]["wall_s"] for r in runs)
    per_worker = -(-args.projection_repos // args.projection_workers)
    p = {"measured_repos": repos, "runs": len(runs), "shard_cpu_s": cpu, "shard_wall_s": wall,
         "shard_maxrss_kib": max(r["totals"]["maxrss_kib"] for r in runs),
         "cpu_per_repo_s": cpu / repos, "wall_per_repo_s": wall / repos,
         "repos_total": args.projection_repos, "workers": args.projection_workers,
         "repos_per_worker": per_worker, "cores_here": cores}
    p["worker_wall_s"] = per_worker * p["wall_per_repo_s"]
    p["total_cpu_s"] = args.projection_repos * p["cpu_per_repo_s"]
    # Hash sharding: a worker's repository count is Binomial(repos_total, 1/workers).
    sd = (args.projection_repos * (1 / args.projection_workers)
          * (1 - 1 / args.projection_workers)) ** 0.5
    p["repos_sd"] = sd
    p["busiest_repos"] = per_worker + 2.5 * sd  # ~expected max of 100 normals: mean + 2.5 sd
    p["busiest_wall_s"] = p["busiest_repos"] * p["wall_per_repo_s"]
    if singles:
        walls = [m["wall_s"] for m in singles]
        rng = random.Random(12)
        spans = []
        for _ in range(200):
            load = [0.0] * args.projection_workers
            for _ in range(args.projection_repos):
                load[rng.randrange(args.projection_workers)] += rng.choice(walls)
            spans.append(max(load))
        spans.sort()
        p["resampled_makespan_median_s"] = spans[len(spans) // 2]
        p["resampled_makespan_p95_s"] = spans[int(len(spans) * 0.95)]
        p["single_wall_sum_s"] = sum(walls)
        p["single_wall_max_s"] = max(walls)
        p["single_wall_median_s"] = statistics.median(walls)
        largest = max(singles, key=lambda m: m["maxrss_kib"])
        p["single_maxrss_kib"], p["single_maxrss_repo"] = largest["maxrss_kib"], largest["label"]
    return p


def print_projection(p: dict) -> None:
    print(f"\n### Projection: {p['repos_total']:,} repositories on {p['workers']} workers\n")
    print(f"- Measured (median of {p['runs']} run(s)): the {p['measured_repos']} repositories took "
          f"{p['shard_cpu_s']:.2f} s CPU and {p['shard_wall_s']:.2f} s wall summed over the "
          f"shards, so per repository {p['shard_cpu_s']:.2f} / {p['measured_repos']} = "
          f"{p['cpu_per_repo_s']:.3f} s CPU and {p['shard_wall_s']:.2f} / {p['measured_repos']} = "
          f"{p['wall_per_repo_s']:.3f} s wall.")
    print(f"- {p['repos_total']:,} / {p['workers']} = {p['repos_per_worker']} repositories per "
          f"worker: {p['repos_per_worker']} x {p['wall_per_repo_s']:.3f} s = "
          f"**{p['worker_wall_s']:.0f} s ({p['worker_wall_s'] / 60:.1f} min)** per worker, "
          f"all workers in parallel.")
    print(f"- Hash split: a worker's count is Binomial({p['repos_total']}, 1/{p['workers']}), "
          f"sd {p['repos_sd']:.1f}; the busiest of {p['workers']} gets about "
          f"{p['repos_per_worker']} + 2.5 x {p['repos_sd']:.1f} = {p['busiest_repos']:.0f}: "
          f"{p['busiest_repos']:.0f} x {p['wall_per_repo_s']:.3f} s = "
          f"{p['busiest_wall_s']:.0f} s ({p['busiest_wall_s'] / 60:.1f} min).")
    if "resampled_makespan_median_s" in p:
        print(f"- Size spread (every repository run alone: median "
              f"{p['single_wall_median_s']:.2f} s, max {p['single_wall_max_s']:.2f} s, sum {p['single_wall_sum_s']:.1f} s): "
              f"{p['repos_total']:,} repositories drawn from these walls, spread at random over "
              f"{p['workers']} workers, 200 draws: slowest worker median "
              f"{p['resampled_makespan_median_s']:.0f} s, p95 "
              f"{p['resampled_makespan_p95_s']:.0f} s.")
    if "single_maxrss_kib" in p:
        print(f"- Memory: the largest repository alone peaks at "
              f"{p['single_maxrss_kib'] / 1024:.0f} MiB ({p['single_maxrss_repo']}); the largest "
              f"shard here at {p['shard_maxrss_kib'] / 1024:.0f} MiB.")
    print(f"- Total CPU: {p['repos_total']:,} x {p['cpu_per_repo_s']:.3f} s = "
          f"{p['total_cpu_s']:.0f} s ({p['total_cpu_s'] / 3600:.1f} CPU-hours), plus one "
          f"merge job.")
    print(f"- Assumptions: each worker like this machine ({p['cores_here']} cores, shared with "
          f"other work: the load is in the table) and repositories like these (local bare "
          f"clones, page cache warm); clone time, runner start-up, artifact upload and "
          f"download are not included; the merge job is measured separately above.")


def totals(r: dict) -> None:
    shards = r["shards"]
    largest = max(range(len(shards)), key=lambda i: shards[i]["maxrss_kib"])
    r["totals"] = {k: sum(m[k] for m in shards) for k in ("wall_s", "user_s", "sys_s", "cpu_s")}
    r["totals"].update({"repositories": sum(m.get("repositories", 0) for m in shards),
                        "maxrss_kib": shards[largest]["maxrss_kib"],
                        "largest_shard": largest + 1})
    r["cpu_ratio"] = r["totals"]["cpu_s"] / r["unsharded"]["cpu_s"]
    r["wall_ratio"] = r["totals"]["wall_s"] / r["unsharded"]["wall_s"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("list", type=Path, help="keysweep --repos list file")
    ap.add_argument("--keysweep", help="path to the keysweep binary")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--out", type=Path, help="output directory (default: a new temp dir)")
    ap.add_argument("--per-repo", action="store_true",
                    help="also run every repository alone (per-repository spread)")
    ap.add_argument("--projection-repos", type=int, default=10000)
    ap.add_argument("--projection-workers", type=int, default=100)
    ap.add_argument("--no-shard-key", action="store_true",
                    help="leave KEYSWEEP_SHARD_KEY unset (default: a random key for every run, "
                         "so merge verifies secrets and tokens across shards)")
    ap.add_argument("--extra", action="append", default=[],
                    help="an extra argument for every `keysweep git` run (repeatable)")
    ap.add_argument("--clone-from", type=Path, help="make the corpus from this TSV")
    ap.add_argument("--url-base", default="https://github.com/")
    ap.add_argument("--inventory", type=Path, help="write this TSV for the list and exit")
    args = ap.parse_args()
    if args.clone_from:
        return clone_corpus(args.list, args.clone_from, args.url_base)
    args.list = args.list.resolve()
    if args.inventory:
        return inventory(args.list, args.inventory)
    if not args.keysweep:
        ap.error("--keysweep is required to measure")
    args.keysweep = str(Path(args.keysweep).resolve())
    entries = read_list(args.list)
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-shards-"))
    out.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    args.env = dict(os.environ)
    args.env.pop("KEYSWEEP_SHARD_KEY", None)
    if not args.no_shard_key:
        args.env["KEYSWEEP_SHARD_KEY"] = secrets.token_hex(32)
    floor = measure(["true"], "floor", quiet=True)["maxrss_kib"]
    log(f"{len(entries)} repositories, {args.shards} shards, {args.runs} run(s), out {out}, "
        f"{cores} cores, load {os.getloadavg()}")
    runs = []
    for run in range(args.runs):
        r = one_run(args, entries, run, out / f"run{run + 1}")
        totals(r)
        runs.append(r)
    singles = per_repo(args, entries, out) if args.per_repo else None
    proj = projection(args, runs, singles, cores)
    print(f"## keysweep shards: {len(entries)} repositories, {args.shards} shards, "
          f"{cores} cores, load average at start {runs[0]['unsharded']['load1_before']:.2f}")
    print(f"\nKEYSWEEP_SHARD_KEY {'unset' if args.no_shard_key else 'set (random)'}; peak RSS "
          f"floor of the launcher (`true`): {floor / 1024:.1f} MiB.")
    for r in runs:
        print_run(r)
    ratios = [r["cpu_ratio"] for r in runs]
    print(f"\nCPU ratio over runs: {', '.join(f'{x:.3f}' for x in ratios)}; median "
          f"{statistics.median(ratios):.3f} (target within 10%: 0.90-1.10).")
    print_projection(proj)
    raw = {"list": str(args.list), "keysweep": args.keysweep, "shards": args.shards,
           "cores": cores, "shard_key": not args.no_shard_key, "rss_floor_kib": floor,
           "runs": runs, "per_repo": singles, "projection": proj}
    (out / "bench_shards.json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    log(f"raw figures: {out / 'bench_shards.json'}")
    bad = any(r["problems"] or r["jsonl_differences"] or r["merge_differences"] for r in runs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
