#!/usr/bin/env bash
# The whole test suite (`npm test`): sets up what it needs, then type-checks (build), lints and runs
# the unit and lab tests. Exits non-zero on any failure.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FLOTILLA_ROOT"

bash scripts/setup.sh
pulumi_env
say "build (type-checks library, program, examples, tests)"
npm run --silent build
say "lint"
npm run --silent lint
if [ "$#" -gt 0 ]; then
    say "tests: $*"
    jest --ci "$@"
    exit 0
fi
say "unit tests"
jest --ci --selectProjects unit
# Lab tests mostly wait (machines booting, Swarm/Kubernetes converging): run them side by side.
# Each lab file has its own subnet, pool and stack names, so files never share a machine.
say "lab tests (${FLOTILLA_LAB_WORKERS:-2} at a time)"
jest --ci --selectProjects lab --maxWorkers="${FLOTILLA_LAB_WORKERS:-2}"
