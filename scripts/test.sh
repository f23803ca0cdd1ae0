#!/usr/bin/env bash
# The whole test suite (`npm test`): sets up what it needs, then type-checks (build), lints and runs
# the unit and lab tests. Exits non-zero on any failure.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FLOTILLA_ROOT"

bash scripts/setup.sh
# The Kubernetes binaries, images and node bundle the kubeadm lab tests push into a LabRegistry:
# built once from the Go module proxy (25-37 min cold), then cached in $FLOTILLA_CACHE_DIR/kubernetes.
# Nothing else runs meanwhile, so Go may use both cores (FLOTILLA_GO_JOBS=2 unless set).
k8s_start=$SECONDS
k8s=$(FLOTILLA_GO_JOBS="${FLOTILLA_GO_JOBS:-2}" bash scripts/kubernetes-build.sh | tail -n 1)
say "kubernetes build: $k8s ($((SECONDS - k8s_start))s)"
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
