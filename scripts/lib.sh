#!/usr/bin/env bash
# Shared by the setup scripts: paths, logging and the environment every Pulumi run uses.
# Sourced, not executed.

# Repository root (this file lives in <root>/scripts).
FLOTILLA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export FLOTILLA_ROOT
# Expensive builds (Pulumi engine, lab image) are cached here and reused when present.
export FLOTILLA_CACHE_DIR="${FLOTILLA_CACHE_DIR:-$HOME/.cache/flotilla}"
# Local state of the root program's stacks (file backend) and the generated stack passphrase.
export FLOTILLA_STATE_DIR="${FLOTILLA_STATE_DIR:-$FLOTILLA_ROOT/.flotilla}"

say() { printf '[flotilla %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf '[flotilla] ERROR: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when root, else through sudo -n.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        die "this step needs root (or password-less sudo): $*"
    fi
}

apt_updated=""
# Installs Debian packages that are missing (apt-get update once per run).
apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
    if [ -z "$apt_updated" ]; then
        say "apt-get update"
        as_root apt-get update -qq >/dev/null
        apt_updated=1
    fi
    say "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The environment of every Pulumi run: Node 22 and the engine first on PATH, local file backend,
# no update checks, no plugin downloads. Requires scripts/engine.sh to have run.
pulumi_env() {
    local engine_bin
    engine_bin=$(cat "$FLOTILLA_CACHE_DIR/engine/current" 2>/dev/null) || die "no Pulumi engine: run scripts/setup.sh"
    export PATH="$FLOTILLA_ROOT/node_modules/.bin:$engine_bin:$PATH"
    export PULUMI_SKIP_UPDATE_CHECK=true
    export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
    export PULUMI_HOME="${PULUMI_HOME:-$FLOTILLA_STATE_DIR/pulumi-home}"
    mkdir -p "$PULUMI_HOME"
}

# Backend and passphrase of the root program's stacks: local files under $FLOTILLA_STATE_DIR and a
# random passphrase generated once (kept 0600), unless the caller set their own.
root_stack_env() {
    mkdir -p "$FLOTILLA_STATE_DIR/backend"
    export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$FLOTILLA_STATE_DIR/backend}"
    if [ -z "${PULUMI_CONFIG_PASSPHRASE+x}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
        local f="$FLOTILLA_STATE_DIR/passphrase"
        if [ ! -s "$f" ]; then
            (umask 077 && head -c 32 /dev/urandom | base64 >"$f")
        fi
        export PULUMI_CONFIG_PASSPHRASE_FILE="$f"
    fi
}
