#!/usr/bin/env bash
# Creates (FLOTILLA_PHASE=create), checks (read: exit 0 present, 3 gone) or removes
# (FLOTILLA_PHASE=delete) a lab pool's bridge network on the local Docker engine. Idempotent: an existing network with the same subnet is kept; one with
# another subnet is an error (never silently reused).
#
# Environment: NETWORK_NAME, NETWORK_SUBNET, NETWORK_GATEWAY, NETWORK_POOL.
set -euo pipefail

: "${FLOTILLA_PHASE:?FLOTILLA_PHASE must be create, read or delete}"
: "${NETWORK_NAME:?}" "${NETWORK_SUBNET:?}" "${NETWORK_GATEWAY:?}" "${NETWORK_POOL:?}"

export LOG_TAG="lab-network $NETWORK_NAME"
# flotilla:include common.sh

command -v docker >/dev/null || die "the docker CLI is not installed on this machine"
timeout 20 docker version >/dev/null 2>&1 || die "no Docker engine answers (docker version failed): start dockerd"

create() {
    local current
    if current=$(docker network inspect --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$NETWORK_NAME" 2>/dev/null); then
        [ "$current" = "$NETWORK_SUBNET" ] ||
            die "a network named $NETWORK_NAME already exists with subnet '$current', not $NETWORK_SUBNET"
        log "exists with subnet $NETWORK_SUBNET"
    else
        docker network create \
            --driver bridge \
            --subnet "$NETWORK_SUBNET" \
            --gateway "$NETWORK_GATEWAY" \
            --label "flotilla.pool=$NETWORK_POOL" \
            "$NETWORK_NAME" >/dev/null
        log "created with subnet $NETWORK_SUBNET"
    fi
    docker network inspect --format '{{.Id}}' "$NETWORK_NAME"
}

delete() {
    if docker network inspect "$NETWORK_NAME" >/dev/null 2>&1; then
        local attached
        attached=$(docker network inspect --format '{{range .Containers}}{{.Name}} {{end}}' "$NETWORK_NAME")
        [ -z "${attached// /}" ] || die "still attached to it: $attached"
        docker network rm "$NETWORK_NAME" >/dev/null
        log "removed"
    else
        log "already gone"
    fi
}

check_present() {
    docker network inspect "$NETWORK_NAME" >/dev/null 2>&1 || exit 3
}

case "$FLOTILLA_PHASE" in
    create) create ;;
    read) check_present ;;
    delete) delete ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE' (create, read or delete)" ;;
esac
