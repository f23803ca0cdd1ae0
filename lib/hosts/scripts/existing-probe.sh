#!/usr/bin/env bash
# Checks (FLOTILLA_PHASE=create/update/read) one machine that already exists before flotilla adopts
# it (ExistingHosts): run as root (RemoteScript escalates with `sudo -n`, and says so when the user
# has no password-less sudo), so reaching this line proves SSH, the key and sudo work.
#
# create/update: reads the operating system (/etc/os-release) and the architecture (dpkg, else
#         uname -m), fails naming the machine and what it found when it is not supported (Debian 12,
#         Ubuntu 22.04 or 24.04 on amd64 or arm64), reads /etc/machine-id (the identity of this
#         installation: a re-imaged machine has another one), and prints one JSON line last:
#         {"os":"debian","osVersion":"12","arch":"amd64","machineId":"..."}. Changes nothing.
# read:   exit 0 (the machine answers; one that does not is reported by the connection itself).
# delete: does nothing: flotilla never removes or changes a machine it adopted. Says so.
#
# Environment: MACHINE_NAME (the machine's name in its pool, for messages).
set -euo pipefail

: "${FLOTILLA_PHASE:?FLOTILLA_PHASE must be create, update, read or delete}"
: "${MACHINE_NAME:?}"

export LOG_TAG="existing-probe $MACHINE_NAME"
# flotilla:include common.sh

readonly SUPPORTED="debian 12, ubuntu 22.04, ubuntu 24.04 on amd64 or arm64"

# Prints the Debian name of the machine's architecture.
architecture() {
    local arch
    if command -v dpkg >/dev/null 2>&1; then
        arch=$(timeout 10 dpkg --print-architecture)
    else
        case "$(uname -m)" in
            x86_64) arch=amd64 ;;
            aarch64 | arm64) arch=arm64 ;;
            *) arch=$(uname -m) ;;
        esac
    fi
    printf '%s' "$arch"
}

probe() {
    [ -r /etc/os-release ] || die "machine $MACHINE_NAME: no /etc/os-release, so its operating system is unknown (supported: $SUPPORTED)"
    local os version arch machine_id
    os=$(. /etc/os-release && printf '%s' "${ID:-}")
    version=$(. /etc/os-release && printf '%s' "${VERSION_ID:-}")
    arch=$(architecture)
    case "$os $version" in
        "debian 12" | "ubuntu 22.04" | "ubuntu 24.04") ;;
        *) die "machine $MACHINE_NAME runs ${os:-an unknown system} ${version:-(no VERSION_ID)}: not supported (supported: $SUPPORTED)" ;;
    esac
    case "$arch" in
        amd64 | arm64) ;;
        *) die "machine $MACHINE_NAME has architecture ${arch:-unknown}: not supported (supported: $SUPPORTED)" ;;
    esac
    machine_id=$(tr -d '[:space:]' </etc/machine-id 2>/dev/null || true)
    [[ "$machine_id" =~ ^[0-9a-f]{32}$ ]] ||
        die "machine $MACHINE_NAME: /etc/machine-id is empty or malformed ('$machine_id'); run systemd-machine-id-setup"
    log "$os $version on $arch, machine id $machine_id"
    printf '{"os":%s,"osVersion":%s,"arch":%s,"machineId":%s}\n' \
        "$(json_str "$os")" "$(json_str "$version")" "$(json_str "$arch")" "$(json_str "$machine_id")"
}

case "$FLOTILLA_PHASE" in
    create | update) probe ;;
    read) exit 0 ;;
    delete) log "adopted machine: flotilla leaves it as it is (nothing to undo)" ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE' (create, update, read or delete)" ;;
esac
