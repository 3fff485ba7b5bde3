#!/usr/bin/env bash
# Allure 3's command line (Node.js, no Java) for `interlock report` and its test, installed
# from the npm registry into .venv/allure (beside the checkout's venv, removed with it).
# `scripts/allure.sh 2` installs Allure 2's (npm allure-commandline, needs Java) into
# .venv/allure2 instead, for `make report-screenshots`.
# Idempotent; without npm (or Java, for Allure 2) it says what to install and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-3}" = 2 ]; then PREFIX=.venv/allure2; PACKAGE=allure-commandline@2; else
    PREFIX=.venv/allure; PACKAGE=allure@3; fi
if [ -x "$PREFIX/node_modules/.bin/allure" ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
    echo "allure: npm not found; install Node.js (apt-get install nodejs npm) for 'interlock report'"
    exit 0
fi
if [ "$PREFIX" = .venv/allure2 ] && ! command -v java >/dev/null 2>&1; then
    echo "allure: java not found; Allure 2 needs it (apt-get install default-jre-headless)"
    exit 0
fi
echo "allure: installing $PACKAGE into $PREFIX (first run only)"
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --silent "$PACKAGE" >/dev/null
"$PREFIX/node_modules/.bin/allure" --version | sed 's/^/allure: version /'
