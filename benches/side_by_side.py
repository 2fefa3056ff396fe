#!/usr/bin/env python3
"""Side-by-side timings of several keysweep binaries (before/after a change) against the
same floors, in one run (Python 3 standard library only).

Sections (each runs only when its inputs are given):

(a) directory scan, `--corpus DIR`:
      KS scan DIR --format json -o /dev/null      for every --keysweep NAME=PATH
      rg -uu -c -F NEVERSEEN DIR                    (ripgrep: read and search every file)
      plain_read DIR                                (with --plain-read PATH)
(b) history, `--git-repo REPO` (repeatable):
      KS git REPO --format json -o /dev/null        for every --keysweep NAME=PATH
      git -C REPO cat-file --batch-all-objects --batch --unordered >/dev/null
      kingfisher scan REPO --no-validate --no-update-check --format json -o REPORT -q
                                                    (with --kingfisher PATH)
(c) staged latency, `--staged-repo DIR`:
      KS staged --format json   with DIR as working directory, median of --staged-runs (21).
      DIR is built first if it does not exist (bench_git.build_staged_repo:
      --staged-files committed files, default 10000, one modified file staged).

Method: the page cache is warmed (every corpus file / object file read) before every timed
run; every command gets one untimed warm-up; then --runs rounds (--git-runs for (b)) with the
order of the commands reversed every other round. Wall time is measured around the child,
user+sys CPU and peak RSS come from os.wait4. Medians are printed as Markdown tables with
ratios computed from this run only.

The warm-up run of every keysweep binary writes a real report (to a scratch directory); the
table shows its findings and locations counts, so that differing results are visible next to
the timings (use compare_reports.py for a precise diff).

Example (every path is an argument; nothing refers to a particular machine):

  python3 benches/side_by_side.py --keysweep before=BIN_BEFORE --keysweep after=BIN_AFTER \\
      --corpus CORPUS --plain-read PLAIN_READ --runs 5 \\
      --git-repo CROC.git --git-repo GITGIT.git --git-runs 3 --kingfisher KINGFISHER \\
      --staged-repo STAGED_DIR
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in benches/ from the imports below
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_git  # noqa: E402  (warm, describe, build_staged_repo, staged_env)
import bench_scan  # noqa: E402  (warm_cache, corpus_stats, tool_version)

log = bench_scan.log
die = bench_scan.die


class Cmd:
    """One command line to time, with its results."""

    def __init__(self, name: str, argv: list[str], ok: set[int], kind: str,
                 warm_argv: list[str] | None = None, report: Path | None = None,
                 cwd: Path | None = None, env: dict | None = None):
        self.name = name
        self.argv = argv
        self.ok = ok
        self.kind = kind            # "keysweep", "floor", "other"
        self.warm_argv = warm_argv or argv
        self.report = report        # written by the warm-up run (keysweep) or every run
        self.cwd = cwd
        self.env = env
        self.runs: list[dict] = []
        self.failed = ""
        self.warm_rss_mib: float | None = None  # exact, from /usr/bin/time on the warm-up


def exact_rss_warmup(c: Cmd, scratch: Path) -> dict:
    """The warm-up run, under /usr/bin/time when there is one: its %M is the command's own
    peak RSS, without the harness floor that wait4 carries over from this process."""
    if not os.access(bench_git.TIME, os.X_OK):
        return run_once(c.warm_argv, c.ok, c.cwd or scratch, c.env)
    with tempfile.NamedTemporaryFile("r", suffix=".time", dir=scratch) as tf:
        r = run_once([bench_git.TIME, "-f", "%M", "-o", tf.name, *c.warm_argv], c.ok,
                     c.cwd or scratch, c.env)
        fields = tf.read().split()
        if fields and fields[-1].isdigit():
            c.warm_rss_mib = int(fields[-1]) / 1024
    return r


def run_once(argv: list[str], ok: set[int], cwd: Path, env: dict | None = None) -> dict:
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=err, cwd=cwd, env=env)
        _pid, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
        if p.returncode not in ok:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-1500:]
            raise RuntimeError(f"exited {p.returncode}: {' '.join(argv)}\n{tail}")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime,
            "sys": ru.ru_stime, "rss_mib": ru.ru_maxrss / 1024}


def rss_floor() -> float:
    """A child's max RSS is never below what this process had when it forked."""
    exe = shutil.which("true")
    if not exe:
        return 0.0
    p = subprocess.Popen([exe])
    ru = os.wait4(p.pid, 0)[2]
    p.returncode = 0
    return ru.ru_maxrss / 1024


def keysweep_counts(report: Path | None) -> str:
    if report is None:
        return "-"
    try:
        doc = json.loads(report.read_text())
        locs = sum(len(f.get("locations") or []) for f in doc["findings"])
        st = doc.get("stats") or {}
        return (f"{len(doc['findings'])} / {locs} "
                f"({st.get('files_scanned')} files, {st.get('bytes_scanned')} bytes)")
    except (OSError, ValueError, KeyError, TypeError):
        return "?"


def kingfisher_count(report: Path | None) -> str:
    if report is None or not report.exists():
        return "-"
    out = bench_git.findings(report, "kingfisher")
    try:  # Kingfisher 2.x: metadata.summary.{blobs,bytes}_scanned
        summ = json.loads(report.read_text())["metadata"]["summary"]
        out += f" ({summ['blobs_scanned']} blobs, {summ['bytes_scanned']} bytes)"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return out


def bench(cmds: list[Cmd], rounds: int, warm, scratch: Path) -> None:
    warm()
    for c in cmds:
        try:
            r = exact_rss_warmup(c, scratch)
            log(f"  warm-up {c.name}: {r['wall']:.3f}s, peak RSS {c.warm_rss_mib} MiB")
        except RuntimeError as e:
            c.failed = str(e)
            log(f"  warm-up {c.name} FAILED: {e}")
    live = [c for c in cmds if not c.failed]
    for i in range(rounds):
        order = live if i % 2 == 0 else list(reversed(live))
        for c in order:
            if c.failed:
                continue
            warm()
            try:
                r = run_once(c.argv, c.ok, c.cwd or scratch, c.env)
            except RuntimeError as e:
                c.failed = str(e)
                log(f"  {c.name} FAILED: {e}")
                continue
            c.runs.append(r)
            log(f"  round {i + 1}/{rounds} {c.name}: {r['wall']:.3f}s wall, "
                f"{r['cpu']:.2f}s cpu, {r['rss_mib']:.0f} MiB")


def med(c: Cmd, k: str) -> float:
    return statistics.median(r[k] for r in c.runs)


def fmt(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.2f}"


def exact_rss(c: Cmd) -> str:
    return f"{c.warm_rss_mib:.0f}" if c.warm_rss_mib is not None else "-"


def table(cmds: list[Cmd], counts) -> None:
    print("| command | median wall s | min wall s | median user+sys s | median peak RSS MiB "
          "(wait4) | peak RSS MiB (/usr/bin/time, warm-up) | findings / locations |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for c in cmds:
        if not c.runs:
            print(f"| {c.name} | failed | | | | | {c.failed.splitlines()[0] if c.failed else ''} |")
            continue
        print(f"| {c.name} | {fmt(med(c, 'wall'))} | {fmt(min(r['wall'] for r in c.runs))} | "
              f"{fmt(med(c, 'cpu'))} | {med(c, 'rss_mib'):.0f} | {exact_rss(c)} | {counts(c)} |")
    print()


def ratios(cmds: list[Cmd], floors: list[str], others: list[str]) -> None:
    by = {c.name: c for c in cmds if c.runs}
    ks = [c for c in cmds if c.kind == "keysweep" and c.runs]
    rows = []
    for k in ks:
        for f in floors:
            if f in by:
                rows.append((f"{k.name} / {f}", med(k, "wall") / med(by[f], "wall"),
                             med(k, "cpu") / max(med(by[f], "cpu"), 1e-9)))
        for o in others:
            if o in by:
                rows.append((f"{o} / {k.name}", med(by[o], "wall") / med(k, "wall"),
                             med(by[o], "cpu") / max(med(k, "cpu"), 1e-9)))
    if len(ks) > 1:
        first = ks[0]
        for k in ks[1:]:
            rows.append((f"{k.name} / {first.name}", med(k, "wall") / med(first, "wall"),
                         med(k, "cpu") / max(med(first, "cpu"), 1e-9)))
    if rows:
        print("| ratio (same run) | wall | user+sys |")
        print("|---|---:|---:|")
        for name, w, c in rows:
            print(f"| {name} | {w:.2f}× | {c:.2f}× |")
        print()


def parse_keysweep(specs: list[str]) -> list[tuple[str, str]]:
    out = []
    for s in specs:
        name, sep, path = s.partition("=")
        if not sep or not name or not path:
            die(f"--keysweep wants NAME=PATH, got {s!r}")
        path = os.path.abspath(path)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            die(f"--keysweep {name}: {path} is not an executable file")
        if name in {n for n, _ in out}:
            die(f"--keysweep name {name!r} given twice")
        out.append((name, path))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keysweep", action="append", required=True, metavar="NAME=PATH",
                    help="a keysweep binary (repeatable; the first is the reference for "
                         "binary/binary ratios)")
    ap.add_argument("--corpus", type=Path, help="(a) directory corpus (bench_scan.py corpus)")
    ap.add_argument("--rg", default=None, help="ripgrep binary (default: rg on PATH)")
    ap.add_argument("--plain-read", help="(a) the plain_read example binary (optional)")
    ap.add_argument("--runs", type=int, default=5, help="(a) timed rounds (default 5)")
    ap.add_argument("--git-repo", type=Path, action="append", default=[],
                    help="(b) repository for the history pass (repeatable)")
    ap.add_argument("--git-runs", type=int, help="(b) timed rounds (default: --runs)")
    ap.add_argument("--kingfisher", help="(b) kingfisher binary (optional)")
    ap.add_argument("--staged-repo", type=Path,
                    help="(c) repository for `keysweep staged` (built if it does not exist)")
    ap.add_argument("--staged-files", type=int, default=10000,
                    help="(c) files committed when building --staged-repo (default 10000)")
    ap.add_argument("--staged-runs", type=int, default=21, help="(c) runs (default 21)")
    ap.add_argument("--results", type=Path, help="also write every timing as JSON here")
    a = ap.parse_args()

    binaries = parse_keysweep(a.keysweep)
    git_runs = a.git_runs or a.runs
    if min(a.runs, git_runs, a.staged_runs) < 1:
        die("run counts must be >= 1")
    if not (a.corpus or a.git_repo or a.staged_repo):
        die("nothing to do: give --corpus, --git-repo and/or --staged-repo")
    for n in ("plain_read", "kingfisher", "rg"):
        v = getattr(a, n)
        if v:
            setattr(a, n, os.path.abspath(v) if os.sep in v else (shutil.which(v) or v))

    scratch = Path(tempfile.mkdtemp(prefix="ks-side-by-side-"))
    floor = rss_floor()
    results: dict = {"host": {"system": platform.system(), "machine": platform.machine(),
                              "cpus": os.cpu_count()},
                     "keysweep": dict(binaries), "sections": {}}
    print(f"## keysweep side by side\n")
    print(f"Host: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs. "
          f"Binaries: " + ", ".join(f"{n} ({bench_scan.tool_version('keysweep', p)})"
                                     for n, p in binaries) + ".  ")
    print(f"Peak RSS (wait4) is the median over the timed runs and is never below the harness "
          f"floor of {floor:.0f} MiB (the child inherits this process's high-water mark). The "
          f"other RSS column is the command's own peak, from /usr/bin/time around its "
          f"untimed warm-up run.\n")
    try:
        # ---------------------------------------------------------------- (a)
        if a.corpus:
            corpus = a.corpus.resolve()
            if not corpus.is_dir():
                die(f"{corpus} is not a directory")
            rg = a.rg or shutil.which("rg")
            if not rg:
                die("ripgrep (rg) not found: install it or pass --rg PATH")
            nfiles, nbytes = bench_scan.corpus_stats(corpus)
            cmds = []
            for name, exe in binaries:
                rep = scratch / f"scan-{name}.json"
                base = [exe, "scan", str(corpus), "--format", "json", "-o"]
                cmds.append(Cmd(name, base + [os.devnull], {0, 1}, "keysweep",
                                warm_argv=base + [str(rep)], report=rep))
            # -c: count per file (no line output to speak of); -F: literal; -uu: no ignore
            # files, hidden files included (binary files are still skipped, like keysweep).
            # Exit 1 = no match, which is the expected outcome.
            cmds.append(Cmd("rg", [rg, "-uu", "-c", "-F", "NEVERSEEN", str(corpus)], {0, 1},
                            "floor"))
            if a.plain_read:
                cmds.append(Cmd("plain-read", [a.plain_read, str(corpus)], {0}, "floor"))
            load0 = os.getloadavg()
            log(f"== (a) directory scan of {corpus}: {nfiles} files, {nbytes / 2**20:.1f} MiB")
            bench(cmds, a.runs, lambda: bench_scan.warm_cache(corpus), scratch)
            load1 = os.getloadavg()
            print(f"### (a) directory scan: {nfiles} files, {nbytes / 2**20:.1f} MiB; "
                  f"median of {a.runs}, load {load0[0]:.2f} before, {load1[0]:.2f} after\n")
            table(cmds, lambda c: keysweep_counts(c.report) if c.kind == "keysweep" else "-")
            ratios(cmds, ["rg", "plain-read"], [])
            results["sections"]["scan"] = {c.name: {"argv": c.argv, "runs": c.runs,
                                                    "warmup_rss_mib": c.warm_rss_mib,
                                                    "failed": c.failed} for c in cmds}

        # ---------------------------------------------------------------- (b)
        for repo in a.git_repo:
            repo = repo.resolve()
            info = bench_git.describe(repo)
            cmds = []
            for name, exe in binaries:
                rep = scratch / f"git-{name}.json"
                base = [exe, "git", str(repo), "--format", "json", "-o"]
                cmds.append(Cmd(name, base + [os.devnull], {0, 1}, "keysweep",
                                warm_argv=base + [str(rep)], report=rep))
            cmds.append(Cmd("cat-file-u", ["git", "-C", str(repo), "cat-file",
                                           "--batch-all-objects", "--batch", "--unordered"],
                            {0}, "floor"))
            if a.kingfisher:
                rep = scratch / "git-kingfisher.json"
                cmds.append(Cmd("kingfisher", [a.kingfisher, "scan", str(repo), "--no-validate",
                                               "--no-update-check", "--format", "json", "-o",
                                               str(rep), "-q"], {0, 200, 205}, "other",
                                report=rep))
            load0 = os.getloadavg()
            log(f"== (b) history of {repo}: {info}")
            bench(cmds, git_runs, lambda: bench_git.warm(repo), scratch)
            load1 = os.getloadavg()
            print(f"### (b) history of {repo.name}: {info['commits']} commits, "
                  f"{info['objects']} objects, {info['pack_mib']} MiB packed; median of "
                  f"{git_runs}, load {load0[0]:.2f} before, {load1[0]:.2f} after\n")
            table(cmds, lambda c: keysweep_counts(c.report) if c.kind == "keysweep"
                  else kingfisher_count(c.report) if c.name == "kingfisher" else "-")
            ratios(cmds, ["cat-file-u"], ["kingfisher"])
            results["sections"][f"git:{repo.name}"] = {
                "info": info, **{c.name: {"argv": c.argv, "runs": c.runs,
                                          "warmup_rss_mib": c.warm_rss_mib, "failed": c.failed}
                                 for c in cmds}}

        # ---------------------------------------------------------------- (c)
        if a.staged_repo:
            repo = a.staged_repo.resolve()
            if not (repo / ".git").exists():
                log(f"building {repo} with {a.staged_files} files ...")
                bench_git.build_staged_repo(repo, a.staged_files)
            staged = subprocess.run(["git", "-C", str(repo), "diff", "--cached", "--name-only"],
                                    capture_output=True, text=True).stdout.split()
            tracked = subprocess.run(["git", "-C", str(repo), "ls-files"], capture_output=True,
                                     text=True).stdout.count("\n")
            env = bench_git.staged_env()
            cmds = [Cmd(name, [exe, "staged", "--format", "json"], {0, 1}, "keysweep",
                        cwd=repo, env=env) for name, exe in binaries]
            log(f"== (c) staged in {repo}: {tracked} tracked, {len(staged)} staged")
            bench(cmds, a.staged_runs, lambda: None, scratch)
            print(f"### (c) `keysweep staged`: {tracked} tracked files, {len(staged)} staged; "
                  f"median of {a.staged_runs} (process start included)\n")
            print("| binary | median wall ms | min ms | max ms | median user+sys ms "
                  "| median peak RSS MiB (wait4) | peak RSS MiB (/usr/bin/time, warm-up) |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for c in cmds:
                if not c.runs:
                    print(f"| {c.name} | failed | | | | | |")
                    continue
                w = [r["wall"] * 1000 for r in c.runs]
                print(f"| {c.name} | {statistics.median(w):.1f} | {min(w):.1f} | {max(w):.1f} | "
                      f"{med(c, 'cpu') * 1000:.1f} | {med(c, 'rss_mib'):.0f} | {exact_rss(c)} |")
            print()
            ratios(cmds, [], [])
            results["sections"]["staged"] = {c.name: {"argv": c.argv, "runs": c.runs,
                                                      "warmup_rss_mib": c.warm_rss_mib,
                                                      "failed": c.failed} for c in cmds}
    finally:
        if a.results:
            a.results.write_text(json.dumps(results, indent=2))
        shutil.rmtree(scratch, ignore_errors=True)
    failed = [c for sec in results["sections"].values() for c in sec.values()
              if isinstance(c, dict) and c.get("failed")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
