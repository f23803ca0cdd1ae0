#!/usr/bin/env bash
# The whole swarm's removal, run on a manager (the first listed that answers). The resource depends
# on every node's, so the engine deletes it first when the whole SwarmCluster goes (destroy, or the
# component removed): its delete writes the teardown mark (a swarm config, replicated to every
# manager), and the node deletes that follow skip the drains (pointless when every node goes) and
# the removals (each node leaves with its join). Create/update removes a mark a destroy that failed
# half-way left, so removing a node later drains it again. Read: always there.
set -euo pipefail
export LOG_TAG=swarm
# flotilla:include common.sh
# flotilla:include swarm-common.sh
: "${FLOTILLA_PHASE:?}"

case "$FLOTILLA_PHASE" in
    create | update)
        wait_docker
        if tearing_down; then
            swarm_retry docker config rm "$TEARDOWN_MARK"
            log "removed the teardown mark a half-done removal left"
        fi
        ;;
    read) ;;
    delete)
        if ! docker info >/dev/null 2>&1 || [ "$(swarm_state)" != active ]; then
            log "this manager is not active in the swarm: no teardown mark (the nodes are drained one by one)"
            exit 0
        fi
        if tearing_down || printf 'flotilla' | docker config create "$TEARDOWN_MARK" - >/dev/null; then
            log "the whole swarm is being removed: nodes leave without draining"
        else
            log "could not write the teardown mark: the nodes are drained one by one"
        fi
        ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
