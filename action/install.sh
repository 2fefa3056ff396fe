#!/usr/bin/env bash
# Builds keysweep from the action's own checkout into $KEYSWEEP_ROOT (cached by action.yml).
set -euo pipefail
: "${GITHUB_ACTION_PATH:?}" "${KEYSWEEP_ROOT:?}"
if ! command -v cargo >/dev/null 2>&1; then
  echo "::error title=keysweep::cargo is not on PATH: add a Rust toolchain step (for example dtolnay/rust-toolchain) before keysweep" >&2
  exit 2
fi
cargo install --locked --path "$GITHUB_ACTION_PATH" --root "$KEYSWEEP_ROOT"
"$KEYSWEEP_ROOT/bin/keysweep" --version
