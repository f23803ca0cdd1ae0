#!/usr/bin/env bash
# Runs on a manager and looks after one node of the swarm: its labels and role (create/update),
# whether it is still a Ready member (read), and its orderly removal (delete): demote a manager,
# drain a Ready node and wait (bounded) until no task runs on it, then remove it from the node list,
# so no Down node is left behind. A node that is not Ready (its machine stopped or deleted outside
# Pulumi) is removed at once: Swarm keeps counting a Down node's tasks as running, since the node
# never reports them gone; the same when it goes down while draining. The node itself leaves
# afterwards (its join resource is deleted after this one; a machine that is gone is forgotten).
# Environment: NODE_ID, NODE_NAME, ROLE (manager|worker), LABELS (lines of key=value),
# BOOTSTRAP (true for the first manager: never drained or removed, the swarm dies with it),
# DRAIN_TIMEOUT (seconds).
set -euo pipefail
export LOG_TAG=swarm
# flotilla:include common.sh
# flotilla:include swarm-common.sh
: "${FLOTILLA_PHASE:?}" "${NODE_ID:?}" "${NODE_NAME:?}" "${ROLE:?}" "${BOOTSTRAP:?}" "${DRAIN_TIMEOUT:?}"

node_exists() { docker node inspect "$NODE_ID" >/dev/null 2>&1; }
node_role() { docker node inspect --format '{{.Spec.Role}}' "$NODE_ID"; }
# ready, down, unknown or disconnected, as the managers see it.
node_state() { docker node inspect --format '{{.Status.State}}' "$NODE_ID" 2>/dev/null || echo unknown; }

# Tasks currently running on the node.
running_tasks() {
    docker node ps "$NODE_ID" --format '{{.CurrentState}}' 2>/dev/null | grep -c '^Running' || true
}

case "$FLOTILLA_PHASE" in
    create | update)
        wait_docker
        node_exists || die "node $NODE_NAME ($NODE_ID) is not in the swarm"
        if [ "$(node_role)" != "$ROLE" ]; then
            if [ "$ROLE" = manager ]; then swarm_retry docker node promote "$NODE_ID"; else swarm_retry docker node demote "$NODE_ID"; fi
            log "$NODE_NAME is now a $ROLE"
        fi
        args=()
        while IFS= read -r kv; do
            [ -n "$kv" ] && args+=(--label-add "$kv")
        done <<<"${LABELS:-}"
        swarm_retry docker node update "${args[@]}" --availability active "$NODE_ID"
        printf '{"nodeId":%s,"role":%s}\n' "$(json_str "$NODE_ID")" "$(json_str "$ROLE")"
        ;;
    read)
        docker info >/dev/null 2>&1 || exit 3
        node_exists || exit 3
        [ "$(docker node inspect --format '{{.Status.State}}' "$NODE_ID")" = ready ] || exit 3
        ;;
    delete)
        [ "$BOOTSTRAP" = true ] && exit 0
        wait_docker
        node_exists || { log "$NODE_NAME is not in the swarm any more"; exit 0; }
        if [ "$(node_role)" = manager ]; then
            swarm_retry docker node demote "$NODE_ID" ||
                die "cannot demote $NODE_NAME (removing it would break the managers' quorum?)"
            log "demoted $NODE_NAME"
        fi
        state=$(node_state)
        if [ "$state" = ready ]; then
            swarm_retry docker node update --availability drain "$NODE_ID" || die "cannot drain $NODE_NAME"
            log "draining $NODE_NAME"
            deadline=$((SECONDS + DRAIN_TIMEOUT))
            while [ "$(running_tasks)" -gt 0 ]; do
                state=$(node_state)
                if [ "$state" != ready ]; then
                    log "$NODE_NAME went $state while draining: it will never report its tasks gone"
                    break
                fi
                ((SECONDS < deadline)) || die "$NODE_NAME still runs $(running_tasks) task(s) after ${DRAIN_TIMEOUT}s of draining"
                sleep 2
            done
            [ "$state" != ready ] || log "$NODE_NAME runs no task; removing it"
        else
            log "$NODE_NAME is $state (its machine stopped or gone): removing it without draining"
        fi
        swarm_retry docker node rm --force "$NODE_ID" || die "cannot remove $NODE_NAME from the node list"
        ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
