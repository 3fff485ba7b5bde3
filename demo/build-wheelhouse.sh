#!/usr/bin/env bash
# Fill demo/wheels/ with every wheel in requirements.txt, on the host, so that the image
# builds without network access:  demo/build-wheelhouse.sh && docker build demo/
#
# The wheels must fit the image's Python, CPU and C library. Defaults fit python:3.11-slim
# (CPython 3.11, Debian 12 = glibc 2.36) on x86-64. For another base image set, for example:
#   PY_VERSION=3.12 ARCH=aarch64 GLIBC_MINOR=36 demo/build-wheelhouse.sh
# PIP_INDEX_URL and the other PIP_* variables are honoured as pip always does.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
arch="${ARCH:-x86_64}"
wheels="$here/wheels"

# pip takes the platform tags literally, so list every manylinux tag this glibc runs.
platforms=()
for ((minor = ${GLIBC_MINOR:-36}; minor >= 17; minor--)); do
    platforms+=(--platform "manylinux_2_${minor}_${arch}")
done
platforms+=(--platform "manylinux2014_${arch}")

mkdir -p "$wheels"
"$python" -m pip download --disable-pip-version-check --quiet \
    --dest "$wheels" --only-binary=:all: --implementation cp \
    --python-version "${PY_VERSION:-3.11}" "${platforms[@]}" \
    --requirement "$here/requirements.txt"
echo "demo: $(find "$wheels" -name '*.whl' | wc -l) wheels in $wheels"
