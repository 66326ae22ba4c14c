#!/usr/bin/env bash
# Installs gascli: the Debian libraries it links, a release build, and a `gascli` on your PATH.
#
#   ./install.sh                     # system packages + release build + link into PATH
#   ./install.sh --no-system-deps    # skip apt-get (you installed the libraries yourself)
#   ./install.sh --with-test-tools   # also chromium (report test), slurm-wlm + munge (sharding), postgresql (shared ledger)
#                                    # and a .venv with pyarrow, duckdb, numpy, pillow, scikit-learn and kubernetes
#   ./install.sh --no-build          # skip the release build (the test line needs only the tools)
#   ./install.sh --bin-dir DIR       # where to link gascli (default /usr/local/bin if writable, else ~/.local/bin)
set -euo pipefail
cd "$(dirname "$0")"

SYSTEM_DEPS=1
TEST_TOOLS=0
BUILD=1
BIN_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-system-deps) SYSTEM_DEPS=0 ;;
    --with-test-tools) TEST_TOOLS=1 ;;
    --no-build) BUILD=0 ;;
    --bin-dir) BIN_DIR="$2"; shift ;;
    -h|--help) sed -n '2,9p' "$0" | cut -c3-; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '==> %s\n' "$*" >&2; }

DEBIAN_PACKAGES="libarchive-dev libpng-dev libjpeg-dev zlib1g-dev libzstd-dev pkg-config python3"
# chromium: the report test renders the quickstart report in headless Chromium.
if [ "$TEST_TOOLS" = 1 ]; then DEBIAN_PACKAGES="$DEBIAN_PACKAGES python3-venv chromium"; fi
# slurm-wlm, munge: the sharded-round test starts a one-node Slurm cluster on loopback.
if [ "$TEST_TOOLS" = 1 ]; then DEBIAN_PACKAGES="$DEBIAN_PACKAGES slurm-wlm munge"; fi
# postgresql: the shared-ledger tests start a throwaway server on loopback (hosts/postgres/local-server.sh).
if [ "$TEST_TOOLS" = 1 ]; then DEBIAN_PACKAGES="$DEBIAN_PACKAGES postgresql"; fi

if [ "$SYSTEM_DEPS" = 1 ]; then
  missing=""
  for p in $DEBIAN_PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null || { echo "install.sh: need root or sudo to install:$missing (or rerun with --no-system-deps)" >&2; exit 1; }
      SUDO=sudo
    fi
    say "installing Debian packages:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
  else
    say "Debian packages already installed"
  fi
fi

command -v swift >/dev/null || { echo "install.sh: swift not found; install Swift 6.3 and put it on PATH" >&2; exit 1; }

if [ "$BUILD" = 1 ]; then
  say "building gascli (release)"
  swift build -c release --product gascli
  BUILT="$(swift build -c release --show-bin-path)/gascli"

  mkdir -p bin
  ln -sf "$BUILT" bin/gascli

  if [ -z "$BIN_DIR" ]; then
    if [ -w /usr/local/bin ]; then BIN_DIR=/usr/local/bin; else BIN_DIR="$HOME/.local/bin"; fi
  fi
  mkdir -p "$BIN_DIR"
  ln -sf "$BUILT" "$BIN_DIR/gascli"
fi

if [ "$TEST_TOOLS" = 1 ]; then
  if [ ! -x .venv/bin/python3 ]; then
    say "creating .venv for the test suite's cross-checks"
    python3 -m venv .venv
  fi
  say "installing pyarrow, duckdb, numpy, pillow and scikit-learn into .venv"
  # numpy and pillow: the package host's tests; scikit-learn: metric cross-checks.
  .venv/bin/pip install -q --disable-pip-version-check pyarrow duckdb numpy pillow scikit-learn
  # kubernetes: the rendered Job manifests are checked against the Kubernetes API models.
  .venv/bin/pip install -q --disable-pip-version-check kubernetes
fi

if [ "$BUILD" = 1 ]; then
  say "gascli installed: $BIN_DIR/gascli -> $BUILT (also ./bin/gascli)"
  case ":$PATH:" in
    *":$BIN_DIR:"*) ;;
    *) say "note: $BIN_DIR is not on your PATH; add it, or run ./bin/gascli" ;;
  esac
else
  say "skipped the release build (--no-build); swift test builds what the tests need"
fi
