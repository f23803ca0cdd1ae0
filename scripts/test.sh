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
say "tests"
jest --ci "$@"
