#!/usr/bin/env bash
# Joins this node to the swarm (create/update), checks it is a member (read), or leaves (delete).
# Idempotent: a node already in this swarm (it knows the manager at JOIN_ADDR) is not re-joined; a
# node in another swarm is an error. Joins are retried (bounded) and a half-joined node is reset
# before retrying. Prints, as its last line, JSON with the node id.
# Environment: ROLE (manager|worker), JOIN_ADDR (host:2377 of the first manager), ADVERTISE_ADDR;
# secret: JOIN_TOKEN.
set -euo pipefail
export LOG_TAG=swarm
# flotilla:include common.sh
# flotilla:include swarm-common.sh
: "${FLOTILLA_PHASE:?}" "${ROLE:?}" "${JOIN_ADDR:?}" "${ADVERTISE_ADDR:?}"

member_of_this_swarm() {
    [ "$(swarm_state)" = active ] &&
        docker info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}' | grep -qw -- "$JOIN_ADDR"
}

case "$FLOTILLA_PHASE" in
    create | update)
        : "${JOIN_TOKEN:?}"
        wait_docker
        if member_of_this_swarm; then
            log "already a member of the swarm at $JOIN_ADDR"
        else
            state=$(swarm_state)
            [ "$state" = inactive ] || [ "$state" = pending ] || [ "$state" = error ] ||
                die "this node is in another swarm (state '$state', managers: $(docker info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}')); make it leave first"
            attempt=1
            until docker swarm join --token "$JOIN_TOKEN" --advertise-addr "$ADVERTISE_ADDR" \
                --listen-addr "$ADVERTISE_ADDR:2377" "$JOIN_ADDR" >/dev/null 2>/tmp/flotilla-join.err; do
                log "join attempt $attempt failed: $(tail -n 1 /tmp/flotilla-join.err)"
                [ "$attempt" -lt 6 ] || die "could not join the swarm at $JOIN_ADDR as a $ROLE after $attempt attempts"
                docker swarm leave --force >/dev/null 2>&1 || true
                sleep $((attempt * 3))
                attempt=$((attempt + 1))
            done
            rm -f /tmp/flotilla-join.err
            log "joined the swarm at $JOIN_ADDR as a $ROLE"
        fi
        printf '{"nodeId":%s}\n' "$(json_str "$(docker info --format '{{.Swarm.NodeID}}')")"
        ;;
    read)
        docker info >/dev/null 2>&1 || exit 3
        member_of_this_swarm || exit 3
        ;;
    delete)
        if docker info >/dev/null 2>&1 && [ "$(swarm_state)" != inactive ]; then
            docker swarm leave --force >/dev/null
            log "left the swarm"
        fi
        ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
