#!/usr/bin/env bash
# Install the Debian 12 packages crmsync needs to build, run its demo and run
# its tests. Idempotent: does nothing (and needs no network) when they are
# all there. Usage: deploy/deps.sh [--test]
set -euo pipefail

# jq: the demo reads crmsync status --json and get --stamps with it.
pkgs=(build-essential cmake pkgconf
      libzmq3-dev libczmq-dev liblmdb-dev libsodium-dev
      lmdb-utils jq)
if [[ "${1:-}" == "--test" ]]; then
    # cmocka for unit tests, msgpack-c as the reference for our codec,
    # clang and its runtime for the libFuzzer build of the fuzz targets,
    # time and sqlite3 for the seed benchmark (tests/bench/).
    pkgs+=(libcmocka-dev libmsgpack-dev jq clang libclang-rt-14-dev time
           sqlite3)
    # node and npm for the CSV tests against csv-spectrum and papaparse
    # (tests/run.sh installs those npm packages); a machine that already
    # has node and npm on its PATH (e.g. from NodeSource) keeps them.
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        pkgs+=(nodejs npm)
    fi
fi

missing=()
for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    echo "deps: all ${#pkgs[@]} packages present"
    exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=()
if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "deps: run as root (or install sudo)" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
