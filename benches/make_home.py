#!/usr/bin/env python3
"""Generate a synthetic developer home directory for the sweep benchmark.

    benches/make_home.py OUT --corpus DIR [--copies N] [--repo GIT_DIR]... [--keys N]

OUT gets: N copies of the corpus directory as projects (many small files), clones of each
--repo (history), small repositories whose keys exist only in history, archives (zip, tar.gz,
a zip inside a tar.gz, a jar), PKCS#12 files, dotfiles and shell histories; and a manifest,
OUT/../<name>.planted.json, listing every planted key: where it is, and the last 40 base64
characters of its body (to match any tool's output) and its kind. Keys are generated with
openssl at generation time; nothing is copied from elsewhere.
"""

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path


def openssl(*args, cwd=None):
    subprocess.run(["openssl", *args], check=True, cwd=cwd, capture_output=True)


def new_key(work: Path, i: int) -> str:
    """A fresh private key PEM (alternating EC P-256, Ed25519 and RSA 2048)."""
    path = work / f"k{i}.pem"
    kind = i % 3
    if kind == 0:
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
    elif kind == 1:
        openssl("genpkey", "-algorithm", "ed25519", "-out", str(path))
    else:
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(path))
    return path.read_text()


def body_marker(pem: str) -> str:
    """The last 40 base64 characters of the body: unique to the key (the first ones are the
    ASN.1 header every key of a type shares)."""
    lines = [l for l in pem.splitlines() if l and not l.startswith("-----")]
    return "".join(lines).rstrip("=")[-40:]


def git(*args, cwd):
    env = dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com",
               GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], check=True, cwd=cwd,
                   env=env, capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--corpus", type=Path, required=True, help="a directory of source files")
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--repo", type=Path, action="append", default=[], help="a git repository to clone into the home")
    ap.add_argument("--keys", type=int, default=14, help="keys to generate (11 are planted)")
    args = ap.parse_args()

    out = args.out.resolve()
    if out.exists():
        sys.exit(f"{out} exists; remove it first")
    out.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="make-home-"))
    planted = []
    keys = [new_key(work, i) for i in range(args.keys)]
    next_key = iter(range(args.keys))

    def plant(where: str, how: str) -> str:
        i = next(next_key)
        planted.append({"where": where, "how": how, "marker": body_marker(keys[i])})
        return keys[i]

    # Projects: copies of the corpus.
    for c in range(args.copies):
        shutil.copytree(args.corpus, out / "projects" / f"p{c}", symlinks=True)
    # Keys in plain files.
    (out / ".ssh").mkdir()
    (out / ".ssh" / "id_deploy").write_text(plant(".ssh/id_deploy", "file"))
    (out / "projects" / "p0" / "config").mkdir(exist_ok=True)
    (out / "projects" / "p0" / "config" / "signing.pem").write_text(plant("projects/p0/config/signing.pem", "file"))
    (out / "Downloads").mkdir()
    (out / "Downloads" / "prod-key.txt").write_text("here is the key\n" + plant("Downloads/prod-key.txt", "file"))
    # Shell histories.
    (out / ".bash_history").write_text("ls\nexport JWT_SECRET=4f9c2b7e1a6d3f8c0b5e9a2d7c4f1b8e\ngit status\n")
    (out / ".zsh_history").write_text(": 1700000000:0;ls\n: 1700000001:0;export JWT_SECRET=8a1d6f3c9e2b7a4d0f5c8e1b6a3d9f2c\n")

    # Repositories: clones with real history, and small ones with keys only in history.
    for repo in args.repo:
        name = repo.name.removesuffix(".git")
        git("clone", "-q", str(repo), str(out / "code" / name), cwd=out)
    for r in range(3):
        d = out / "code" / f"service{r}"
        d.mkdir(parents=True)
        git("init", "-q", cwd=d)
        (d / "README.md").write_text(f"service {r}\n")
        (d / "keys").mkdir()
        (d / "keys" / "jwt.pem").write_text(plant(f"code/service{r} history: keys/jwt.pem", "history"))
        git("add", "-A", cwd=d)
        git("commit", "-qm", "add key", cwd=d)
        git("rm", "-q", "keys/jwt.pem", cwd=d)
        git("commit", "-qm", "remove key", cwd=d)
    bare = out / "backups" / "service0.git"
    bare.parent.mkdir(parents=True)
    git("clone", "-q", "--bare", str(out / "code" / "service0"), str(bare), cwd=out)

    # Archives.
    archives = out / "backups"
    sample = sorted(p for p in args.corpus.rglob("*") if p.is_file())[:400]
    with zipfile.ZipFile(archives / "old-project.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for p in sample:
            z.write(p, str(p.relative_to(args.corpus)))
        z.writestr("config/jwt-signing.pem", plant("backups/old-project.zip!config/jwt-signing.pem", "zip"))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("keys/signing.pem", plant("backups/nested.tar.gz!inner.zip!keys/signing.pem", "zip in tar.gz"))
    with tarfile.open(archives / "nested.tar.gz", "w:gz") as t:
        for p in sample[:200]:
            t.add(p, arcname=str(p.relative_to(args.corpus)))
        info = tarfile.TarInfo("inner.zip")
        info.size = inner.getbuffer().nbytes
        inner.seek(0)
        t.addfile(info, inner)
    with zipfile.ZipFile(archives / "app.jar", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        z.writestr("BOOT-INF/classes/jwt.pem", plant("backups/app.jar!BOOT-INF/classes/jwt.pem", "jar"))

    # PKCS#12 with an empty password (as openssl writes it).
    for n, extra in enumerate([[], ["-legacy"]]):
        i = next(next_key)
        (work / "p.pem").write_text(keys[i])
        openssl("req", "-new", "-x509", "-key", "p.pem", "-subj", "/CN=bench", "-days", "1", "-out", "c.pem", cwd=work)
        target = out / ".certs" / f"client{n}.p12"
        target.parent.mkdir(exist_ok=True)
        try:
            openssl("pkcs12", "-export", *extra, "-inkey", "p.pem", "-in", "c.pem", "-passout", "pass:", "-out", str(target), cwd=work)
        except subprocess.CalledProcessError:
            continue  # no legacy provider
        planted.append({"where": f".certs/client{n}.p12", "how": "pkcs12", "marker": body_marker(keys[i])})

    manifest = out.parent / f"{out.name}.planted.json"
    manifest.write_text(json.dumps(planted, indent=1))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and not p.is_symlink())
    files = sum(1 for p in out.rglob("*") if p.is_file())
    print(f"{out}: {files} files, {size / 1e6:.0f} MB, {len(planted)} keys planted; manifest {manifest}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
