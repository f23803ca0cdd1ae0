# shellcheck shell=bash
# Included, not executed: node bookkeeping shared by k3s-node.sh and kubeadm-node.sh. The including
# script includes common.sh, defines `kc` (kubectl with its cluster's admin credentials) and sets
# NODE_NAME, LABELS, TAINTS and DRAIN_TIMEOUT.

# True when the whole cluster is being removed (the mark kubernetes-teardown.sh writes).
torn_down() { kc -n kube-system get configmap flotilla-teardown >/dev/null 2>&1; }
node_exists() { kc get node "$NODE_NAME" >/dev/null 2>&1; }
ready_status() { kc get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || echo Unknown; }

# Refuses to remove NODE_NAME when the etcd members left Ready would not form a quorum of the
# smaller cluster. check_quorum SELECTOR NOUN NOUNS: the label selector of the etcd members' nodes,
# and what they are called (one, many) in the messages.
check_quorum() {
    local selector=$1 noun=$2 nouns=$3 members others=0 total=0 m
    members=$(kc get nodes -l "$selector" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
    while IFS= read -r m; do
        [ -n "$m" ] || continue
        total=$((total + 1))
        if [ "$m" != "$NODE_NAME" ] && [ "$(ready_status "$m")" = True ]; then others=$((others + 1)); fi
    done <<<"$members"
    local after=$((total - 1))
    local quorum=$((after / 2 + 1))
    [ "$others" -ge "$quorum" ] ||
        die "removing $noun $NODE_NAME would break etcd quorum: $others of the $after members left are Ready, $quorum needed; bring the stopped $nouns back first"
    log "etcd quorum kept: $others of $after members left are Ready ($quorum needed)"
}

# True when NODE_NAME is the only node with the label selector $1 (the last etcd member: the
# cluster goes with it).
last_member() {
    local members
    members=$(kc get nodes -l "$1" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}') || return 1
    [ "$members" = "$NODE_NAME" ]
}

# create/update: waits for the node to register, sets its labels and taints, uncordons it.
node_apply_metadata() {
    local labels=() taints=() kv t
    wait_until 120 "node $NODE_NAME registered" kc get node "$NODE_NAME"
    while IFS= read -r kv; do [ -n "$kv" ] && labels+=("$kv"); done <<<"${LABELS:-}"
    if [ "${#labels[@]}" -gt 0 ]; then retry 5 2 kc label --overwrite node "$NODE_NAME" "${labels[@]}" >/dev/null; fi
    while IFS= read -r t; do [ -n "$t" ] && taints+=("$t"); done <<<"${TAINTS:-}"
    if [ "${#taints[@]}" -gt 0 ]; then retry 5 2 kc taint --overwrite node "$NODE_NAME" "${taints[@]}" >/dev/null; fi
    retry 5 2 kc uncordon "$NODE_NAME" >/dev/null
}

# True when the kubelet of node $1 answers on its port (10250) at the node's InternalIP, as the API
# lists it. A machine deleted moments ago is still Ready for the node monitor's grace period (40 s by
# default): its kubelet's port is what tells it is gone.
kubelet_answers() {
    local ip
    ip=$(kc get node "$1" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}' 2>/dev/null) || return 1
    [ -n "$ip" ] || return 1
    local try
    for try in 1 2 3; do
        if timeout 5 bash -c "exec 3<>/dev/tcp/$ip/10250" 2>/dev/null; then return 0; fi
        [ "$try" -eq 3 ] || sleep 2
    done
    return 1
}

# delete: cordons, drains (bounded; a node that is not Ready, or whose kubelet does not answer, is
# drained with --force: its pods never report gone) and deletes the node from the node list.
node_remove() {
    retry 5 2 kc cordon "$NODE_NAME" >/dev/null || die "cannot cordon $NODE_NAME"
    local ready
    ready=$(ready_status "$NODE_NAME")
    if [ "$ready" = True ] && ! kubelet_answers "$NODE_NAME"; then
        log "$NODE_NAME is listed Ready but its kubelet does not answer on port 10250: taken for gone"
        ready=Gone
    fi
    if [ "$ready" = True ]; then
        log "draining $NODE_NAME (at most ${DRAIN_TIMEOUT}s)"
        kc drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${DRAIN_TIMEOUT}s" >&2 ||
            die "$NODE_NAME could not be drained within ${DRAIN_TIMEOUT}s (a PodDisruptionBudget?); it stays cordoned"
    else
        log "$NODE_NAME is not Ready ($ready: its machine stopped or gone): draining without waiting for its pods"
        kc drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --force --disable-eviction \
            --grace-period=0 --timeout=60s >&2 || log "$NODE_NAME: drain incomplete; deleting it anyway"
    fi
    retry 5 2 kc delete node "$NODE_NAME" >/dev/null || die "cannot delete node $NODE_NAME"
    log "deleted node $NODE_NAME"
}
