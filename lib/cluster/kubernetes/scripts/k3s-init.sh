#!/usr/bin/env bash
# The k3s cluster (FLOTILLA_PHASE create/update), run on the first listed server that answers. On a
# server of the cluster (it ran cluster-init before, or joined) it ADOPTS the cluster: nothing is
# installed or reconfigured (its join resource looks after it). Otherwise, when a server answers on
# another server address (OTHER_SERVERS), it refuses (a server new to the cluster joins; it must not
# be listed first); else, in the create phase only, it creates the cluster here (`cluster-init`,
# embedded etcd). Waits (bounded) for the node to be Ready. Prints, as its last line, JSON with the
# cluster token, the admin kubeconfig and the cgroup driver (the component keeps that line secret).
# read: k3s active here and its node Ready. delete: nothing (the cluster goes with its servers: each
# one's join resource removes k3s).
# Environment: see k3s-common.sh (ROLE is server; CONFIG with cluster-init); READY_TIMEOUT
# (seconds); OTHER_SERVERS (host:port of the other servers, space-separated).
set -euo pipefail
export LOG_TAG=k3s
# flotilla:include common.sh
# flotilla:include k3s-common.sh
: "${FLOTILLA_PHASE:?}" "${ROLE:?}" "${VERSION:?}" "${SOURCE:?}" "${CONFIG:?}" "${NODE_NAME:?}"

# True when this machine is a running server of a k3s cluster.
server_member() { systemctl is-active --quiet k3s && [ -s /var/lib/rancher/k3s/server/token ]; }

# The first of OTHER_SERVERS where something listens (a k3s server: the cluster exists), else empty.
answering_server() {
    local a
    for a in ${OTHER_SERVERS:-}; do
        if timeout 5 bash -c "exec 3<>/dev/tcp/${a%:*}/${a##*:}" 2>/dev/null; then
            echo "$a"
            return 0
        fi
    done
}

# This machine's node name (k3s' node-name in its config), else NODE_NAME.
own_node_name() {
    local n
    n=$(sed -n 's/^node-name: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$K3S_CONFIG" 2>/dev/null | head -n 1)
    echo "${n:-$NODE_NAME}"
}

case "$FLOTILLA_PHASE" in
    create | update)
        if server_member; then
            NODE_NAME=$(own_node_name)
            log "$NODE_NAME is a server of the cluster: adopting it (no cluster-init)"
        else
            other=$(answering_server)
            [ -z "$other" ] ||
                die "the cluster already runs (a server answers on $other) but this machine ($(hostname)) is none of its servers: list a server that is in the cluster first (a server new to it joins; cluster-init never runs on a cluster that exists)"
            [ "$FLOTILLA_PHASE" = create ] ||
                die "this machine ($(hostname)) is no server of the cluster and no other server answers (${OTHER_SERVERS:-none}): list a surviving server first"
            k3s_up
        fi
        wait_until 300 "the k3s API answering on $NODE_NAME" "$K3S_BIN" kubectl get --raw /readyz
        wait_node_ready
        [ -s /var/lib/rancher/k3s/server/token ] || k3s_die "k3s wrote no cluster token"
        printf '{"token":%s,"kubeconfig":%s,"cgroupDriver":%s}\n' \
            "$(json_str "$(cat /var/lib/rancher/k3s/server/token)")" \
            "$(json_str "$(cat /etc/rancher/k3s/k3s.yaml)")" \
            "$(json_str "$(k3s_cgroup_driver)")"
        ;;
    read)
        server_member || exit 3
        node_is_ready "$(own_node_name)" || exit 3
        ;;
    delete) log "the cluster goes with its servers (each one's join resource removes k3s)" ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
