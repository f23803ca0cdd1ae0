#!/usr/bin/env bash
# Provides a Pulumi engine without the internet: the `pulumi` CLI, the Node.js language host and the
# dynamic-provider shim, built from the Go module proxy (see tools/engine/README.md for why these
# versions). Builds once into $FLOTILLA_CACHE_DIR/engine/<versions>/bin; later runs reuse it in
# seconds. A `pulumi` CLI already installed (a user with internet) is used instead when it is at
# least the SDK's version and has its Node.js language host.
# Writes the chosen bin directory to $FLOTILLA_CACHE_DIR/engine/current.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tools="$FLOTILLA_ROOT/tools/engine"
# The SDK version development uses: package.json asks for a range (^3.x, so a user's program keeps
# one copy of @pulumi/pulumi); the lock file pins the exact one the engine must match.
sdk_version=$(sed -n '/"node_modules\/@pulumi\/pulumi": {/{n;s/.*"version": *"\([0-9.]*\)".*/\1/p;}' "$FLOTILLA_ROOT/package-lock.json")
[ -n "$sdk_version" ] || die "cannot read the locked @pulumi/pulumi version from package-lock.json"
cli_version=$(sed -n 's|^require github.com/pulumi/pulumi/pkg/v3 v\([0-9.]*\)$|\1|p' "$tools/cli/go.mod")
host_version=$(sed -n 's|^require github.com/pulumi/pulumi/sdk/v3 v\([0-9.]*\)$|\1|p' "$tools/nodejs-host/go.mod")
if [ -z "$cli_version" ] || [ -z "$host_version" ]; then
    die "cannot read the engine versions from tools/engine/*/go.mod"
fi
[ "$cli_version" = "$sdk_version" ] ||
    die "tools/engine/cli builds pulumi $cli_version but package-lock.json pins @pulumi/pulumi $sdk_version: keep them equal"

mkdir -p "$FLOTILLA_CACHE_DIR/engine"
current="$FLOTILLA_CACHE_DIR/engine/current"

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

# 1. A CLI the user installed.
if [ -z "${FLOTILLA_BUILD_ENGINE:-}" ] && command -v pulumi >/dev/null && [[ "$(command -v pulumi)" != "$FLOTILLA_CACHE_DIR"/* ]]; then
    installed=$(pulumi version 2>/dev/null | sed 's/^v//')
    dir=$(dirname "$(command -v pulumi)")
    if version_ge "$installed" "$sdk_version" &&
        { [ -x "$dir/pulumi-language-nodejs" ] || command -v pulumi-language-nodejs >/dev/null; }; then
        say "engine: using the installed pulumi $installed ($dir)"
        echo "$dir" >"$current"
        exit 0
    fi
    say "engine: ignoring installed pulumi $installed (need >= $sdk_version with pulumi-language-nodejs)"
fi

# 2. The cached build.
key="pulumi-v$cli_version-nodejs-host-v$host_version"
bin="$FLOTILLA_CACHE_DIR/engine/$key/bin"
if [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-nodejs" ] && [ -x "$bin/pulumi-resource-pulumi-nodejs" ] &&
    [ "$("$bin/pulumi" version 2>/dev/null)" = "v$cli_version" ]; then
    say "engine: cached build $key"
    echo "$bin" >"$current"
    exit 0
fi

# 3. Build it.
command -v go >/dev/null || die "Go is needed to build the Pulumi engine offline (or install the pulumi CLI)"
export GOFLAGS="${GOFLAGS:-} -mod=readonly" GOTOOLCHAIN=local
tmp="$FLOTILLA_CACHE_DIR/engine/$key.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/bin"
say "engine: building pulumi v$cli_version from the Go module proxy (several minutes when cold)"
start=$SECONDS
(cd "$tools/cli" && go build -tags osusergo \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$cli_version" \
    -o "$tmp/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) ||
    die "building the pulumi CLI failed (see above)"
say "engine: building pulumi-language-nodejs (sdk v$host_version)"
(cd "$tools/nodejs-host" && go build -o "$tmp/bin/pulumi-language-nodejs" \
    github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs) ||
    die "building the Node.js language host failed (see above)"
# The dynamic-provider shim ships in the SDK module of the same release.
sdk_dir=$(cd "$tools/cli" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$sdk_dir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$tmp/bin/pulumi-resource-pulumi-nodejs"
[ "$("$tmp/bin/pulumi" version)" = "v$cli_version" ] || die "the built pulumi does not report v$cli_version"
rm -rf "$FLOTILLA_CACHE_DIR/engine/$key"
mv "$tmp" "$FLOTILLA_CACHE_DIR/engine/$key"
echo "$bin" >"$current"
say "engine: built $key in $((SECONDS - start))s"
