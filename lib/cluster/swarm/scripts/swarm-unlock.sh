#!/usr/bin/env bash
# Unlocks this manager when autolock locked it (its Docker engine restarted): create/update unlock a
# locked manager with the key on stdin (never in argv or the log) and wait (bounded) until it is
# active; read (read-only: run on every preview and up, the resource has detectDrift, and on
# refresh) reports a locked manager as gone (exit 3), so the up runs update (or, after a refresh,
# create) and unlocks it, and fails when the engine does not answer within 30 s (it cannot tell:
# the up warns and leaves the manager as it is; a refresh fails loudly); delete does nothing.
# Environment: NODE_NAME; secret: UNLOCK_KEY.
set -euo pipefail
export LOG_TAG=swarm
# flotilla:include common.sh
# flotilla:include swarm-common.sh
: "${FLOTILLA_PHASE:?}" "${NODE_NAME:?}"

swarm_active() { [ "$(swarm_state)" = active ]; }

case "$FLOTILLA_PHASE" in
    create | update)
        : "${UNLOCK_KEY:?}"
        wait_docker
        if [ "$(swarm_state)" = locked ]; then
            printf '%s\n' "$UNLOCK_KEY" | docker swarm unlock >/dev/null 2>/tmp/flotilla-unlock.err ||
                die "cannot unlock $NODE_NAME: $(tail -n 1 /tmp/flotilla-unlock.err)"
            rm -f /tmp/flotilla-unlock.err
            wait_until 120 "$NODE_NAME active in the swarm after its unlock" swarm_active
            log "unlocked $NODE_NAME"
        fi
        ;;
    read)
        # The engine may still be starting (the machine just rebooted): a short wait.
        wait_until 30 "the Docker engine of $NODE_NAME answering (cannot tell whether it is locked)" docker info
        [ "$(swarm_state)" != locked ] || exit 3
        ;;
    delete) ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
