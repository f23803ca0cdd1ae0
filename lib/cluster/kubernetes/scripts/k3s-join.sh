#!/usr/bin/env bash
# Joins this node to the k3s cluster as a server (embedded etcd member; the server that ran
# cluster-init too, a no-op) or an agent
# (create/update), checks it (read: k3s active and the node Ready), or removes k3s (delete: after
# the node resource drained and deleted it). Idempotent: a node already running this version and
# configuration is left alone. Waits (bounded) for the node to be Ready. Prints, as its last line,
# JSON with the node name and the cgroup driver.
# Environment: see k3s-common.sh (CONFIG names the server to join through with `server:`, the first
# listed other than the node; a member is not restarted when only that changes); READY_TIMEOUT;
# secret: CLUSTER_TOKEN.
set -euo pipefail
export LOG_TAG=k3s
# flotilla:include common.sh
# flotilla:include k3s-common.sh
: "${FLOTILLA_PHASE:?}" "${ROLE:?}" "${VERSION:?}" "${SOURCE:?}" "${CONFIG:?}" "${NODE_NAME:?}"

case "$FLOTILLA_PHASE" in
    create | update)
        : "${CLUSTER_TOKEN:?}"
        k3s_up
        wait_node_ready
        printf '{"nodeName":%s,"cgroupDriver":%s}\n' "$(json_str "$NODE_NAME")" "$(json_str "$(k3s_cgroup_driver)")"
        ;;
    read)
        systemctl is-active --quiet "$(k3s_unit)" || exit 3
        node_is_ready "$NODE_NAME" || exit 3
        ;;
    delete) k3s_remove ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
