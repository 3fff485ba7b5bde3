#!/usr/bin/env bash
# Fill <context>/wheels/ with every wheel in <context>/requirements.txt, on the host, so that
# images build without network access:
#
#   demo/build-wheelhouse.sh                       the demo services' image (demo/)
#   demo/build-wheelhouse.sh demo environment/images/postgres environment/images/nats
#   docker build demo/
#
# A context whose wheels/ already holds what its requirements.txt asks for (same file as at
# the last fill) is skipped without asking the index, so a second run works offline.
#
# The wheels must fit the image's Python, CPU and C library. Defaults fit python:3.11-slim
# (CPython 3.11, Debian 12 = glibc 2.36) on x86-64. For another base image set, for example:
#   PY_VERSION=3.12 ARCH=aarch64 GLIBC_MINOR=36 demo/build-wheelhouse.sh
# PIP_INDEX_URL and the other PIP_* variables are honoured as pip always does.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
arch="${ARCH:-x86_64}"
py_version="${PY_VERSION:-3.11}"

# pip takes the platform tags literally, so list every manylinux tag this glibc runs.
platforms=()
for ((minor = ${GLIBC_MINOR:-36}; minor >= 17; minor--)); do
    platforms+=(--platform "manylinux_2_${minor}_${arch}")
done
platforms+=(--platform "manylinux2014_${arch}")

fill() {
    local context="$1"
    local wheels="$context/wheels"
    local stamp="$wheels/.filled-for"
    [ -f "$context/requirements.txt" ] || { echo "wheelhouse: no $context/requirements.txt" >&2; exit 1; }
    # The stamp records the requirements and the target the wheels were fetched for.
    local want
    want="$(cat "$context/requirements.txt"; echo "# $py_version $arch ${GLIBC_MINOR:-36}")"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        echo "wheelhouse: $context: up to date ($(find "$wheels" -name '*.whl' | wc -l) wheels)"
        return
    fi
    mkdir -p "$wheels"
    "$python" -m pip download --disable-pip-version-check --quiet \
        --dest "$wheels" --only-binary=:all: --implementation cp \
        --python-version "$py_version" "${platforms[@]}" \
        --requirement "$context/requirements.txt"
    printf '%s' "$want" >"$stamp"
    echo "wheelhouse: $context: $(find "$wheels" -name '*.whl' | wc -l) wheels in $wheels"
}

if [ $# -eq 0 ]; then
    set -- "$here"
fi
for context in "$@"; do
    fill "$(cd "$context" && pwd)"
done
