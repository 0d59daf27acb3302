#!/usr/bin/env bash
# Install the locked dependencies into .venv: scripts/install.sh [--dev].
# uv installs exactly what uv.lock holds; without uv on the PATH it is fetched into .venv-tools/
# first. Nothing is done when uv.lock, pyproject.toml, the Python and --dev are unchanged since the
# last install (.venv/.installed-stamp). INSTALLER=pip installs from pyproject.toml's pins with pip
# instead (no lock file needed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
UV_VERSION=0.13.9
extras=()
[ "${1:-}" = "--dev" ] && extras=(--extra dev)

if [ "${INSTALLER:-uv}" = "pip" ]; then
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  if [ ${#extras[@]} -gt 0 ]; then
    .venv/bin/python -m pip install --quiet -e '.[dev]'
  else
    .venv/bin/python -m pip install --quiet -e .
  fi
  exit 0
fi

# Skip the install when the lock, the pins and the Python are those installed last time, with the
# dev tools if asked for (a dev install serves the demo too: the demo does not remove the tools).
stamp_file=.venv/.installed-stamp
stamp=$({ cat uv.lock pyproject.toml; "$PYTHON" --version; } | sha256sum | cut -d' ' -f1)
installed=$(cat "$stamp_file" 2>/dev/null || true)
if [ -x .venv/bin/python ] && { [ "$installed" = "$stamp dev" ] || [ "$installed" = "$stamp${extras[*]:+ dev}" ]; }; then
  exit 0
fi

if command -v uv >/dev/null 2>&1; then
  UV=uv
else
  if [ ! -x .venv-tools/bin/uv ]; then
    "$PYTHON" -m venv .venv-tools
    .venv-tools/bin/python -m pip install --quiet "uv==$UV_VERSION"
  fi
  UV=.venv-tools/bin/uv
fi
# --locked: refuse a uv.lock that no longer matches pyproject.toml rather than re-resolve silently.
"$UV" sync --quiet --locked --python "$PYTHON" "${extras[@]}"
echo "$stamp${extras[*]:+ dev}" >"$stamp_file"
