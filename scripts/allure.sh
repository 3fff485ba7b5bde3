#!/usr/bin/env bash
# Allure 3's command line (Node.js, no Java) for `interlock report` and its test, installed
# from the npm registry into .venv/allure (beside the checkout's venv, removed with it).
# Idempotent; without npm it says what to install and exits 0 (the report test then says so).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=.venv/allure
if [ -x "$PREFIX/node_modules/.bin/allure" ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
    echo "allure: npm not found; install Node.js (apt-get install nodejs npm) for 'interlock report'"
    exit 0
fi
echo "allure: installing Allure 3's command line into $PREFIX (first run only)"
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --silent allure@3 >/dev/null
"$PREFIX/node_modules/.bin/allure" --version | sed 's/^/allure: version /'
