#!/usr/bin/env python3
"""History-scan benchmark for `keysweep git` (Python 3 standard library only).

Times, in one run and on the same repositories with a warm page cache:

  keysweep     keysweep git REPO --format json -o REPORT            (exit 0/1 = ok)
  cat-file     git -C REPO cat-file --batch-all-objects --batch >/dev/null
               (the floor named by the issue: inflate every object once; sorted by id)
  cat-file-u   the same with --unordered (pack order; git's fastest full read)
  kingfisher   kingfisher scan REPO --no-validate --no-update-check --format json -o REPORT -q
  gitleaks     gitleaks git REPO --no-banner --exit-code 0 -f json -r REPORT

Each command runs under /usr/bin/time (wall, user, sys, peak RSS). Tools whose path is not
given are left out. The order of tools alternates between rounds; medians are reported with
ratios keysweep/cat-file, keysweep/cat-file-u and kingfisher/keysweep.

Usage:
  bench_git.py --keysweep PATH [--kingfisher PATH] [--gitleaks PATH] [--runs N] REPO...
  bench_git.py --keysweep PATH --staged-files 10000 [--runs 21] [--staged-repo DIR]

The second form builds a scratch repository with that many committed files (real text:
numbered lines), stages one modified file, and reports the median wall time of
`keysweep staged` (the pre-commit path) over the runs.

Repositories can be bare or not. Nothing here refers to a particular machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TIME = "/usr/bin/time"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def git_dir(repo: Path) -> Path:
    out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--git-dir"],
                         capture_output=True, text=True, check=True).stdout.strip()
    p = Path(out)
    return p if p.is_absolute() else (repo / p).resolve()


def warm(repo: Path) -> None:
    """Read the object database once so every tool starts from a warm page cache."""
    for root, _dirs, files in os.walk(git_dir(repo) / "objects"):
        for name in files:
            try:
                with open(os.path.join(root, name), "rb") as f:
                    while f.read(1 << 20):
                        pass
            except OSError:
                pass


def describe(repo: Path) -> dict:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                              text=True).stdout.strip()
    counts = dict(line.split(": ", 1) for line in git("count-objects", "-v").splitlines()
                  if ": " in line)
    return {
        "commits": git("rev-list", "--all", "--count"),
        "objects": int(counts.get("count", 0)) + int(counts.get("in-pack", 0)),
        "pack_mib": round(int(counts.get("size-pack", 0)) / 1024, 1),
    }


def timed(cmd: list[str], ok: set[int], stdout=subprocess.DEVNULL, cwd=None) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = [TIME, "-f", "%e %U %S %M", "-o", tf.name, *cmd]
        proc = subprocess.run(full, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd)
        fields = tf.read().split()
    if proc.returncode not in ok or len(fields) < 4:
        log(f"  ! {' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-400:]!r}")
        return {"failed": True}
    wall, user, sys_, rss = fields[-4:]
    return {"wall": float(wall), "cpu": float(user) + float(sys_), "user": float(user),
            "rss_mb": int(rss) / 1024}


def findings(report: Path, tool: str) -> str:
    try:
        text = report.read_text()
    except OSError:
        return "?"
    try:
        if tool == "keysweep":
            data = json.loads(text)
            locs = sum(len(f["locations"]) for f in data["findings"])
            return f"{len(data['findings'])} ({locs} locations, {data['stats']['files_scanned']} blobs)"
        if tool == "kingfisher":
            # JSON lines or one document, depending on the version.
            try:
                data = json.loads(text)
                items = data if isinstance(data, list) else data.get("findings", [])
                return str(len(items))
            except json.JSONDecodeError:
                return str(sum(1 for line in text.splitlines() if line.strip()))
        if tool == "gitleaks":
            return str(len(json.loads(text)))
    except (ValueError, KeyError, TypeError):
        pass
    return "?"


STAGED_ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
              "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}


def staged_env() -> dict:
    env = dict(os.environ, **STAGED_ENV)
    env.pop("GIT_INDEX_FILE", None)
    return env


def build_staged_repo(repo: Path, files: int) -> Path:
    """A repository with `files` committed text files and one modified file staged.

    `repo` must not exist or be an empty directory. Returns `repo`."""
    repo.mkdir(parents=True, exist_ok=True)
    if any(repo.iterdir()):
        raise SystemExit(f"{repo} is not empty")
    env = staged_env()
    git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, env=env,
                                    stdout=subprocess.DEVNULL)
    git("-c", "init.defaultBranch=main", "init", "-q")
    for i in range(files):
        d = repo / f"dir{i % 100:02d}" / f"sub{(i // 100) % 10}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i}.txt").write_text("".join(f"line {j} of file {i}\n" for j in range(20)))
    git("add", "-A")
    git("commit", "-q", "-m", "files")
    target = repo / "dir00" / "sub0" / "file0.txt"
    target.write_text(target.read_text() + "one more line\n")
    git("add", str(target))
    return repo


def staged_bench(keysweep: str, files: int, runs: int, repo: Path | None = None) -> None:
    """Time `keysweep staged` in a scratch repository (or `repo`, built there if it
    does not exist yet; an existing one is reused as it is)."""
    import time
    if repo is None:
        repo = build_staged_repo(Path(tempfile.mkdtemp(prefix="ks-bench-staged-")), files)
    elif not (repo / ".git").exists():
        build_staged_repo(repo, files)
    else:
        log(f"reusing staged repository {repo}")
    env = staged_env()
    cmd = [keysweep, "staged", str(repo), "--format", "json"]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, env=env)  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
        if proc.returncode not in (0, 1):
            die = f"keysweep staged exited {proc.returncode}"
            raise SystemExit(die)
    print(f"keysweep staged, {files} tracked files, 1 staged: median "
          f"{statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms over {runs} runs (wall, process start included)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keysweep", required=True)
    ap.add_argument("--kingfisher")
    ap.add_argument("--gitleaks")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--staged-files", type=int,
                    help="benchmark `keysweep staged` on a scratch repo with this many files")
    ap.add_argument("--staged-repo", type=Path,
                    help="with --staged-files: build the repository here (or reuse it if it "
                         "exists) instead of in a new temporary directory")
    ap.add_argument("repos", nargs="*", type=Path)
    args = ap.parse_args()
    if args.staged_files:
        staged_bench(args.keysweep, args.staged_files, max(args.runs, 5),
                     args.staged_repo.resolve() if args.staged_repo else None)
        return
    if not args.repos:
        ap.error("give repositories to scan, or --staged-files N")

    scratch = Path(tempfile.mkdtemp(prefix="ks-bench-git-"))
    for repo in args.repos:
        repo = repo.resolve()
        info = describe(repo)
        log(f"== {repo}: {info}")
        tools: dict[str, tuple[list[str], set[int], Path | None]] = {}
        report = {t: scratch / f"{t}.json" for t in ("keysweep", "kingfisher", "gitleaks")}
        tools["keysweep"] = ([args.keysweep, "git", str(repo), "--format", "json", "-o",
                              str(report["keysweep"])], {0, 1}, report["keysweep"])
        tools["cat-file"] = (["git", "-C", str(repo), "cat-file", "--batch-all-objects",
                              "--batch"], {0}, None)
        tools["cat-file-u"] = (["git", "-C", str(repo), "cat-file", "--batch-all-objects",
                                "--batch", "--unordered"], {0}, None)
        if args.kingfisher:
            tools["kingfisher"] = ([args.kingfisher, "scan", str(repo), "--no-validate",
                                    "--no-update-check", "--format", "json", "-o",
                                    str(report["kingfisher"]), "-q"], {0, 200, 205},
                                   report["kingfisher"])
        if args.gitleaks:
            tools["gitleaks"] = ([args.gitleaks, "git", str(repo), "--no-banner",
                                  "--exit-code", "0", "-f", "json", "-r",
                                  str(report["gitleaks"])], {0}, report["gitleaks"])
        warm(repo)
        names = list(tools)
        for name in names:  # untimed warm-up (Kingfisher builds its rule cache)
            timed(tools[name][0], tools[name][1], cwd=scratch)
        results: dict[str, list[dict]] = {n: [] for n in names}
        for r in range(args.runs):
            order = names if r % 2 == 0 else list(reversed(names))
            warm(repo)
            for name in order:
                res = timed(tools[name][0], tools[name][1], cwd=scratch)
                if not res.get("failed"):
                    results[name].append(res)
                log(f"  run {r + 1} {name}: {res}")
        load = os.getloadavg()
        med = {n: {k: statistics.median(x[k] for x in v) for k in ("wall", "cpu", "rss_mb")}
               for n, v in results.items() if v}
        print(f"\n### {repo.name}: {info['commits']} commits, {info['objects']} objects, "
              f"{info['pack_mib']} MiB packed; median of {args.runs} runs, load {load[0]:.2f}\n")
        print("| tool | wall s | user+sys s | peak RSS MB | findings |")
        print("|---|---|---|---|---|")
        for n in names:
            if n in med:
                found = findings(tools[n][2], n) if tools[n][2] else "-"
                print(f"| {n} | {med[n]['wall']:.2f} | {med[n]['cpu']:.2f} | "
                      f"{med[n]['rss_mb']:.0f} | {found} |")
        ks = med.get("keysweep")
        if ks:
            print()
            for floor in ("cat-file", "cat-file-u"):
                if floor in med:
                    print(f"- keysweep / {floor} wall: {ks['wall'] / med[floor]['wall']:.2f}x")
            for other in ("kingfisher", "gitleaks"):
                if other in med:
                    print(f"- {other} / keysweep wall: {med[other]['wall'] / ks['wall']:.2f}x")


if __name__ == "__main__":
    main()
