#!/usr/bin/env python3
"""Pre-commit hook latency (Python 3 standard library only).

Builds (or reuses) a repository with N committed files and one modified file staged (the same
repository as `bench_git.py --staged-files`), installs the hook with `keysweep install-hook`,
and times, alternating, over --runs runs each:

  hook      the installed hook script, run from the work tree with GIT_INDEX_FILE set, as
            `git commit` runs it (the whole hook: sh + keysweep staged + the hint logic)
  staged    `keysweep staged` alone (its share of the hook)
  commit    `git commit -q -m x` with the hook, undone with `git reset --soft HEAD~1`
  no-verify `git commit -q --no-verify -m x`, undone the same way (commit minus hook = the
            hook as git experiences it)

  bench_hook.py --keysweep target/release/keysweep [--files 10000] [--runs 21] [--repo DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_git import build_staged_repo, staged_env  # noqa: E402


def timed(cmd: list[str], repo: Path, env: dict, ok=(0,)) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=repo, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in ok:
        raise SystemExit(f"{cmd} exited {proc.returncode}: {proc.stderr.decode()}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keysweep", required=True)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--repo", type=Path, help="build the repository here, or reuse it")
    args = ap.parse_args()
    keysweep = str(Path(args.keysweep).resolve())
    repo = args.repo.resolve() if args.repo else Path(tempfile.mkdtemp(prefix="ks-bench-hook-"))
    if not (repo / ".git").exists():
        build_staged_repo(repo, args.files)
    env = staged_env()
    subprocess.run([keysweep, "install-hook", str(repo)], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    hook = subprocess.run(["git", "rev-parse", "--git-path", "hooks/pre-commit"], cwd=repo,
                          env=env, check=True, capture_output=True, text=True).stdout.strip()
    hook_env = dict(env, GIT_INDEX_FILE=str(repo / ".git" / "index"))
    cases = {
        "hook": ([str(repo / hook)], hook_env),
        "staged": ([keysweep, "staged"], hook_env),
        "commit": (["git", "commit", "-q", "-m", "x"], env),
        "no-verify": (["git", "commit", "-q", "--no-verify", "-m", "x"], env),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for name, (cmd, cmd_env) in cases.items():  # warm-up
        timed(cmd, repo, cmd_env)
        if name in ("commit", "no-verify"):
            timed(["git", "reset", "-q", "--soft", "HEAD~1"], repo, env)
    for _ in range(args.runs):
        for name, (cmd, cmd_env) in cases.items():
            times[name].append(timed(cmd, repo, cmd_env))
            if name in ("commit", "no-verify"):
                timed(["git", "reset", "-q", "--soft", "HEAD~1"], repo, env)
    med = {name: statistics.median(ts) * 1000 for name, ts in times.items()}
    print(f"{args.files} tracked files, 1 staged, {args.runs} runs, {os.cpu_count()} CPUs "
          f"(wall, process start included)")
    print("| case | median ms | min ms | max ms |")
    print("|---|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {med[name]:.1f} | {min(ts) * 1000:.1f} | {max(ts) * 1000:.1f} |")
    print(f"keysweep staged share of the hook: {med['staged'] / med['hook'] * 100:.0f}%; "
          f"git commit with the hook minus --no-verify: {med['commit'] - med['no-verify']:.1f} ms")


if __name__ == "__main__":
    main()
