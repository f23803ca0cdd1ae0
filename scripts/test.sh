#!/usr/bin/env bash
# The whole test suite (`npm test`): sets up what it needs, then type-checks (build), lints, builds
# the API reference (typedoc, failing on any warning) and runs the unit and lab tests. Exits non-zero on any failure. Ends with a table of its phases and times.
#
# The Kubernetes build (binaries, images, node bundle from the Go module proxy: about 18 min cold,
# then cached in $FLOTILLA_CACHE_DIR/kubernetes) starts in the background, under `nice`, right after
# set-up: the build, lint, unit tests and the Swarm and host lab files run meanwhile, and the lab
# files that need it run last (test/sequencer.js) and wait on its lock if it is not done yet.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FLOTILLA_ROOT"

phases=()
suite_start=$SECONDS
t0=$SECONDS
mark() { phases+=("$(printf '%-34s %6ss' "$1" "$((SECONDS - t0))")"); t0=$SECONDS; }
table() {
    say "test phases:"
    printf '  %s\n' "${phases[@]}" >&2
    say "tests took $((SECONDS - suite_start))s"
}

bash scripts/setup.sh
mark "setup"

k8s_log="$FLOTILLA_STATE_DIR/kubernetes-build.log"
mkdir -p "$FLOTILLA_STATE_DIR"
k8s_start=$SECONDS
FLOTILLA_GO_JOBS="${FLOTILLA_GO_JOBS:-2}" nice -n 19 bash scripts/kubernetes-build.sh >"$k8s_log" 2>&1 &
k8s_pid=$!
k8s_done=""
# Reports the background build once: its time, or its log's tail when it failed.
k8s_wait() {
    [ -n "$k8s_done" ] && return 0
    k8s_done=1
    if wait "$k8s_pid"; then
        phases+=("$(printf '%-34s %6ss' "kubernetes build (background)" "$((SECONDS - k8s_start))")")
        say "kubernetes build: $(tail -n 1 "$k8s_log") ($((SECONDS - k8s_start))s)"
    else
        say "kubernetes build failed; the tail of $k8s_log:"
        tail -n 40 "$k8s_log" >&2
        return 1
    fi
}
on_exit() {
    local rc=$?
    if [ -z "$k8s_done" ]; then kill "$k8s_pid" 2>/dev/null || true; fi
    # The phases so far, on success and on failure alike.
    if [ "$rc" -ne 0 ]; then phases+=("$(printf '%-34s %6ss  FAILED (%s)' "(the phase after the last above)" "$((SECONDS - t0))" "$rc")"); fi
    table
}
trap on_exit EXIT

pulumi_env
say "build (type-checks library, program, examples, tests)"
npm run --silent build
mark "build"
say "lint"
npm run --silent lint
mark "lint"
say "api reference (typedoc: every public name documented, no warning)"
npm run --silent docs
mark "api reference"
if [ "$#" -gt 0 ]; then
    say "tests: $*"
    jest --ci "$@"
    exit 0
fi
say "unit tests"
jest --ci --selectProjects unit
mark "unit tests"
# Lab tests mostly wait (machines booting, Swarm/Kubernetes converging): run them side by side.
# Each lab file has its own subnet, pool and stack names, so files never share a machine.
say "lab tests (${FLOTILLA_LAB_WORKERS:-2} at a time; the Kubernetes files last)"
jest --ci --selectProjects lab --maxWorkers="${FLOTILLA_LAB_WORKERS:-2}"
mark "lab tests"
k8s_wait
