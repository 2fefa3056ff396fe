#!/usr/bin/env bash
# Build every fuzz target on the stable toolchain (libFuzzer with SanitizerCoverage, no
# sanitizer: the flags cargo-fuzz passes with `-s none`) and run each on a corpus seeded from
# the project's own test inputs and rule examples.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     default: 10 seconds, every target
#
# Exit status is non-zero when a target crashes; the crashing input is left in
# fuzz/artifacts/TARGET/. Corpora grow in fuzz/corpus/TARGET/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(scan container pkcs12 jwks jwt rules encoding settings archive shards)
fi

export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps RUSTFLAGS off build scripts and proc macros (as cargo-fuzz does).
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --locked --manifest-path fuzz/Cargo.toml --target-dir fuzz/target \
  --target "$host" --bins
bin="fuzz/target/$host/release"

seed() {
  local target="$1" dir="fuzz/corpus/$1"
  mkdir -p "$dir"
  case "$target" in
    scan | encoding) cp tests/data/jose/* rules/*.toml "$dir"/ ;;
    jwks) cp tests/data/jose/*.json "$dir"/ ;;
    jwt) cp tests/data/jose/*.txt "$dir"/ ;;
    rules) cp rules/*.toml "$dir"/ ;;
    settings) cp keysweep.toml .keysweepignore "$dir"/ ;;
    container) printf '\x30\x82\x01\x00\x02\x01\x03' >"$dir/der-seed" ;;
    archive) python3 - "$dir" <<'PY' ;;
# Seeds: a zip holding a tar.gz, a jar and a .gz; a tar, a tar.gz, a .gz, an empty zip.
import gzip, io, sys, tarfile, zipfile
out = sys.argv[1]
def tar(members, mode="w"):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode, format=tarfile.GNU_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
def zip_(members, method=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return buffer.getvalue()
pem = b"# config\nsigning_key = placeholder\n" * 4
long = "d/" * 60 + "k.pem"
plain_tar = tar([("keys/k.pem", pem), (long, pem), ("README", b"hello")])
tgz = tar([("keys/k.pem", pem)], "w:gz")
jar = zip_([("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"), ("app.pem", pem)], zipfile.ZIP_STORED)
seeds = {
    "nested.zip": zip_([("inner.tgz", tgz), ("lib/app.jar", jar), ("x.env.gz", gzip.compress(b"KEY=1"))]),
    "plain.tar": plain_tar,
    "seed.tgz": tgz,
    "seed.gz": gzip.compress(pem),
    "empty.zip": zip_([]),
}
for name, data in seeds.items():
    open(f"{out}/{name}", "wb").write(data)
PY
    pkcs12) seed_pkcs12 "$dir" ;;
    shards) seed_shards "$dir" ;;
  esac
}

# A shard report (header, finding, update, summary) and a repository list.
seed_shards() {
  local dir="$1"
  cat >"$dir/shard.jsonl" <<'JSONL'
{"type":"header","tool":{"name":"keysweep","version":"0"},"mode":"repos","shard":{"index":1,"count":2},"list":{"digest":"sha256:ab","repositories":3},"repositories":["a","b"]}
{"type":"finding","rule":"secret/hmac","title":"t","severity":"high","fingerprint":"fp1","secret":"ab","key":null,"jwt":null,"verification":{"status":"unverified"},"locations":[{"source":"git","path":"a/x.js","context":"code","line":1,"column":2,"end_line":1,"end_column":9,"format":"js","commit":"c1","author":null,"date":null}],"sealed":"v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
{"type":"update","fingerprint":"fp1","severity":"critical","verification":{"status":"signs-token"},"locations":[]}
{"type":"summary","completed":true,"skipped":[{"path":"b","reason":"clone failed"}],"stats":{"files_scanned":4},"shard":{"index":1,"count":2},"list":{"digest":"sha256:ab","repositories":3},"repositories":[{"name":"a","status":"scanned"}]}
JSONL
  printf '# org\n/srv/a\nhttps://h/org/b.git org/b\ngit@host:c/d.git\n' >"$dir/list.txt"
}

# PKCS#12 seeds written by openssl: unencrypted without a MAC (the fuzzer can reach every bag),
# and the encrypted, MAC-protected and legacy shapes. Without openssl the corpus starts empty.
seed_pkcs12() {
  local dir="$1" tmp
  command -v openssl >/dev/null || return 0
  compgen -G "$dir/*.p12" >/dev/null && return 0 # seeded on an earlier run
  tmp="$(mktemp -d)"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/key.pem" 2>/dev/null
  openssl req -x509 -new -key "$tmp/key.pem" -subj /CN=seed -days 1 -out "$tmp/cert.pem" 2>/dev/null
  local export=(openssl pkcs12 -export -inkey "$tmp/key.pem" -in "$tmp/cert.pem" -passout pass:)
  "${export[@]}" -keypbe NONE -certpbe NONE -nomac -out "$dir/plain-nomac.p12" 2>/dev/null || true
  "${export[@]}" -nomac -out "$dir/pbes2-nomac.p12" 2>/dev/null || true
  "${export[@]}" -out "$dir/pbes2.p12" 2>/dev/null || true
  "${export[@]}" -legacy -nomac -out "$dir/legacy-nomac.p12" 2>/dev/null || true
  rm -rf "$tmp"
}

status=0
for target in "${targets[@]}"; do
  seed "$target"
  mkdir -p "fuzz/artifacts/$target"
  echo "fuzz: $target for ${seconds}s"
  if ! "$bin/$target" "fuzz/corpus/$target" \
    -artifact_prefix="fuzz/artifacts/$target/" -max_total_time="$seconds" \
    -max_len=262144 -rss_limit_mb=2048 -print_final_stats=1 2>"fuzz/target/$target.log"; then
    echo "fuzz: $target FAILED (see fuzz/target/$target.log and fuzz/artifacts/$target/)"
    tail -30 "fuzz/target/$target.log"
    status=1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "fuzz/target/$target.log" | sed "s/^/fuzz: $target /" || true
done
exit "$status"
