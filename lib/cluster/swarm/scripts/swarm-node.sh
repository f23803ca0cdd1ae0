#!/usr/bin/env bash
# Runs on a manager (never the node itself while another manager exists) and looks after one node
# of the swarm: its labels and role (create/update), whether it is still a Ready member (read), and
# its orderly removal (delete): demote a manager, drain a Ready node and wait (bounded) until no
# task runs on it, then remove it from the node list, so no Down node is left behind. A node that
# is not Ready (its machine stopped or deleted outside Pulumi) is removed at once: Swarm keeps
# counting a Down node's tasks as running, since the node never reports them gone; the same when it
# goes down while draining. When the whole swarm is being removed (the teardown mark is there),
# nothing is drained or removed: every node leaves with its join resource, deleted after this one
# (a machine that is gone is forgotten). The manager that initialised the swarm is like any other.
# Environment: NODE_ID, NODE_NAME, ROLE (manager|worker), LABELS (lines of key=value),
# DRAIN_TIMEOUT (seconds).
set -euo pipefail
export LOG_TAG=swarm
# flotilla:include common.sh
# flotilla:include swarm-common.sh
: "${FLOTILLA_PHASE:?}" "${NODE_ID:?}" "${NODE_NAME:?}" "${ROLE:?}" "${DRAIN_TIMEOUT:?}"

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
        [ "$(swarm_state)" != locked ] || die "this manager is locked (autolock, restarted): run 'pulumi up --refresh' to unlock it, or 'docker swarm unlock' on it"
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
        # A manager that cannot see the swarm (locked, restarted under autolock) cannot tell: kept.
        [ "$(swarm_state)" = active ] || exit 0
        node_exists || exit 3
        [ "$(docker node inspect --format '{{.Status.State}}' "$NODE_ID")" = ready ] || exit 3
        ;;
    delete)
        wait_docker
        if tearing_down; then
            log "the whole swarm is being removed: $NODE_NAME is neither drained nor removed (it leaves with its join)"
            exit 0
        fi
        [ "$(swarm_state)" = active ] || { log "this manager is in no swarm any more (state $(swarm_state)): nothing to remove"; exit 0; }
        node_exists || { log "$NODE_NAME is not in the swarm any more"; exit 0; }
        if [ "$(docker info --format '{{.Swarm.NodeID}}')" = "$NODE_ID" ]; then
            log "$NODE_NAME is the only manager left: the swarm goes with it (it leaves with its join)"
            exit 0
        fi
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
