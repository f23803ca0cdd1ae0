#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine, idempotently; seconds when all is there.
#   1. npm dependencies, Node 22 among them (the `node` package from the npm registry)
#   2. shellcheck (the test suite checks every script with it)
#   3. a Docker engine (scripts/docker.sh)
#   4. the Pulumi engine (scripts/engine.sh; built offline once, then cached)
#   5. the lab machine image (lib/hosts/scripts/lab-image.sh; built once, then cached)
#   6. the demo web image (scripts/demo-image.sh)
#   7. the library's dist/ (the root program imports `flotilla` by package name, as users do), when
#      missing or older than any file under lib/
# The Kubernetes build (scripts/kubernetes-build.sh) is the test suite's (scripts/test.sh): the root
# program does not need it.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FLOTILLA_ROOT"
start=$SECONDS

# 1. npm dependencies, when missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
fi
# The repository's own programs (the root program, the lab test programs) load flotilla as users do,
# by package name: node_modules/flotilla is this checkout (its dist/ is what `npm run build` makes).
if [ "$(readlink node_modules/flotilla 2>/dev/null)" != ".." ]; then
    rm -rf node_modules/flotilla
    ln -s .. node_modules/flotilla
fi
node22="$FLOTILLA_ROOT/node_modules/.bin/node"
[ -x "$node22" ] || die "node_modules/.bin/node is missing: the npm 'node' package did not install"
case "$("$node22" --version)" in
    v22.*) ;;
    *) die "node_modules/.bin/node is $("$node22" --version), expected v22" ;;
esac

# 2. Tools: shellcheck (the tests check every script), skopeo (pushes lab images into the lab
#    registry without touching this machine's Docker daemon configuration).
command -v shellcheck >/dev/null || apt_install shellcheck
command -v skopeo >/dev/null || apt_install skopeo

# 3-5.
bash scripts/docker.sh
bash scripts/engine.sh
image=$(bash lib/hosts/scripts/lab-image.sh | tail -n 1)
# 6. The demo web image the root program runs (tiny, built locally from Debian's busybox-static).
demo=$(bash scripts/demo-image.sh v1 | tail -n 1)
# 7. The library as the root program loads it: node_modules/flotilla -> .. -> dist/lib.
stamp=dist/.built
if [ ! -f "$stamp" ] || [ -n "$(find lib package.json tsconfig.json tsconfig.build.json -newer "$stamp" -print -quit)" ]; then
    say "building the library (dist/)"
    rm -rf dist
    "$node22" node_modules/typescript/bin/tsc -p tsconfig.build.json || die "the library does not compile (tsc -p tsconfig.build.json)"
    "$node22" scripts/copy-assets.js >/dev/null
fi
say "setup done in $((SECONDS - start))s (node $("$node22" --version), engine $(cat "$FLOTILLA_CACHE_DIR/engine/current"), lab image $image, demo image $demo)"
