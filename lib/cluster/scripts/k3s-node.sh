#!/usr/bin/env bash
# Runs on a server and looks after one node of the k3s cluster: its labels and taints, uncordoned
# (create/update), whether it is still Ready (read), and its orderly removal (delete): a server is
# refused when the etcd members left Ready would be no quorum of the smaller cluster; the node is
# cordoned, drained (bounded: `kubectl drain --ignore-daemonsets --delete-emptydir-data`) and
# deleted from the node list (k3s then removes its etcd member). A node that is not Ready (its
# machine stopped or gone) is drained with --force and deleted even when its pods never report
# gone. The first server is never removed (the cluster dies with it). The node itself uninstalls
# k3s afterwards (its join resource is deleted after this one).
# Environment: NODE_NAME, ROLE (server|agent), LABELS (lines of key=value), TAINTS (lines of
# key=value:Effect), BOOTSTRAP (true for the first server), DRAIN_TIMEOUT (seconds).
set -euo pipefail
export LOG_TAG=k3s
# flotilla:include common.sh
: "${FLOTILLA_PHASE:?}" "${NODE_NAME:?}" "${ROLE:?}" "${BOOTSTRAP:?}" "${DRAIN_TIMEOUT:?}"

kc() { k3s kubectl "$@"; }
node_exists() { kc get node "$NODE_NAME" >/dev/null 2>&1; }
ready_status() { kc get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || echo Unknown; }

# Refuses to remove a server when the etcd members left would not form a quorum.
check_quorum() {
    local members others=0 total=0 m
    members=$(kc get nodes -l node-role.kubernetes.io/etcd=true -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
    while IFS= read -r m; do
        [ -n "$m" ] || continue
        total=$((total + 1))
        if [ "$m" != "$NODE_NAME" ] && [ "$(ready_status "$m")" = True ]; then others=$((others + 1)); fi
    done <<<"$members"
    local after=$((total - 1))
    local quorum=$((after / 2 + 1))
    [ "$others" -ge "$quorum" ] ||
        die "removing server $NODE_NAME would break etcd quorum: $others of the $after members left are Ready, $quorum needed; bring the stopped servers back first"
    log "etcd quorum kept: $others of $after members left are Ready ($quorum needed)"
}

case "$FLOTILLA_PHASE" in
    create | update)
        wait_until 120 "node $NODE_NAME registered" kc get node "$NODE_NAME"
        labels=()
        while IFS= read -r kv; do [ -n "$kv" ] && labels+=("$kv"); done <<<"${LABELS:-}"
        if [ "${#labels[@]}" -gt 0 ]; then retry 5 2 kc label --overwrite node "$NODE_NAME" "${labels[@]}" >/dev/null; fi
        taints=()
        while IFS= read -r t; do [ -n "$t" ] && taints+=("$t"); done <<<"${TAINTS:-}"
        if [ "${#taints[@]}" -gt 0 ]; then retry 5 2 kc taint --overwrite node "$NODE_NAME" "${taints[@]}" >/dev/null; fi
        retry 5 2 kc uncordon "$NODE_NAME" >/dev/null
        printf '{"nodeName":%s,"role":%s}\n' "$(json_str "$NODE_NAME")" "$(json_str "$ROLE")"
        ;;
    read)
        node_exists || exit 3
        [ "$(ready_status "$NODE_NAME")" = True ] || exit 3
        ;;
    delete)
        [ "$BOOTSTRAP" = true ] && exit 0
        node_exists || { log "$NODE_NAME is not in the cluster any more"; exit 0; }
        [ "$ROLE" != server ] || check_quorum
        retry 5 2 kc cordon "$NODE_NAME" >/dev/null || die "cannot cordon $NODE_NAME"
        if [ "$(ready_status "$NODE_NAME")" = True ]; then
            log "draining $NODE_NAME (at most ${DRAIN_TIMEOUT}s)"
            kc drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${DRAIN_TIMEOUT}s" >&2 ||
                die "$NODE_NAME could not be drained within ${DRAIN_TIMEOUT}s (a PodDisruptionBudget?); it stays cordoned"
        else
            log "$NODE_NAME is not Ready (its machine stopped or gone): draining without waiting for its pods"
            kc drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --force --disable-eviction \
                --grace-period=0 --timeout=60s >&2 || log "$NODE_NAME: drain incomplete; deleting it anyway"
        fi
        retry 5 2 kc delete node "$NODE_NAME" >/dev/null || die "cannot delete node $NODE_NAME"
        log "deleted node $NODE_NAME"
        ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
