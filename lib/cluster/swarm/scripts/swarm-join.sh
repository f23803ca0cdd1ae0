#!/usr/bin/env bash
# Joins this node to the swarm (create/update), checks it is a member (read), or leaves (delete).
# Idempotent: a node already in this swarm (it knows one of the managers in MANAGER_ADDRS, itself
# included for the manager that initialised it) is not re-joined; a node in another swarm is an
# error. Joins go to any manager that answers (retried, bounded), and a half-joined node is reset
# before retrying. A locked manager (autolock, restarted) is a member. Prints, as its last line,
# JSON with the node id.
# Environment: ROLE (manager|worker), MANAGER_ADDRS (host:2377 of every manager, space-separated),
# ADVERTISE_ADDR; secret: JOIN_TOKEN.
set -euo pipefail
export LOG_TAG=swarm
# flotilla:include common.sh
# flotilla:include swarm-common.sh
: "${FLOTILLA_PHASE:?}" "${ROLE:?}" "${MANAGER_ADDRS:?}" "${ADVERTISE_ADDR:?}"

member_of_this_swarm() {
    local known addr
    [ "$(swarm_state)" = active ] || return 1
    known=" $(docker info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}') "
    for addr in $MANAGER_ADDRS; do
        [[ "$known" == *" $addr "* ]] && return 0
    done
    return 1
}

# Tries every manager but this node once; true when one let it in.
join_any() {
    local addr
    for addr in $MANAGER_ADDRS; do
        [ "$addr" != "$ADVERTISE_ADDR:2377" ] || continue
        if docker swarm join --token "$JOIN_TOKEN" --advertise-addr "$ADVERTISE_ADDR" \
            --listen-addr "$ADVERTISE_ADDR:2377" "$addr" >/dev/null 2>/tmp/flotilla-join.err; then
            log "joined the swarm through $addr as a $ROLE"
            return 0
        fi
        log "join through $addr failed: $(tail -n 1 /tmp/flotilla-join.err)"
        docker swarm leave --force >/dev/null 2>&1 || true
    done
    return 1
}

case "$FLOTILLA_PHASE" in
    create | update)
        : "${JOIN_TOKEN:?}"
        wait_docker
        if member_of_this_swarm; then
            log "already a member of the swarm"
        else
            state=$(swarm_state)
            [ "$state" != locked ] || die "this manager is locked (autolock, restarted): run 'pulumi up --refresh' to unlock it, or 'docker swarm unlock' on it"
            [ "$state" = inactive ] || [ "$state" = pending ] || [ "$state" = error ] ||
                die "this node is in another swarm (state '$state', managers: $(docker info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}')); make it leave first"
            attempt=1
            until join_any; do
                [ "$attempt" -lt 6 ] || die "could not join the swarm (managers $MANAGER_ADDRS) as a $ROLE after $attempt rounds"
                sleep $((attempt * 3))
                attempt=$((attempt + 1))
            done
            rm -f /tmp/flotilla-join.err
        fi
        printf '{"nodeId":%s}\n' "$(json_str "$(docker info --format '{{.Swarm.NodeID}}')")"
        ;;
    read)
        docker info >/dev/null 2>&1 || exit 3
        [ "$(swarm_state)" = locked ] && exit 0
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
