#!/usr/bin/env bash
# Creates the k3s cluster on its first server (FLOTILLA_PHASE create/update: `cluster-init`,
# embedded etcd), checks it (read: k3s active and the node Ready) or removes k3s (delete: the
# cluster dies with its first server). Idempotent: a server already running this version and
# configuration is left as it is. Waits (bounded) for the node to be Ready. Prints, as its last
# line, JSON with the cluster token, the admin kubeconfig and the cgroup driver (the component
# keeps that line secret).
# Environment: see k3s-common.sh (ROLE is server); READY_TIMEOUT (seconds).
set -euo pipefail
export LOG_TAG=k3s
# flotilla:include common.sh
# flotilla:include k3s-common.sh
: "${FLOTILLA_PHASE:?}" "${ROLE:?}" "${VERSION:?}" "${SOURCE:?}" "${CONFIG:?}" "${NODE_NAME:?}"

case "$FLOTILLA_PHASE" in
    create | update)
        k3s_up
        wait_until 300 "the k3s API answering on $NODE_NAME" "$K3S_BIN" kubectl get --raw /readyz
        wait_node_ready
        [ -s /var/lib/rancher/k3s/server/token ] || k3s_die "k3s wrote no cluster token"
        printf '{"token":%s,"kubeconfig":%s,"cgroupDriver":%s}\n' \
            "$(json_str "$(cat /var/lib/rancher/k3s/server/token)")" \
            "$(json_str "$(cat /etc/rancher/k3s/k3s.yaml)")" \
            "$(json_str "$(k3s_cgroup_driver)")"
        ;;
    read)
        systemctl is-active --quiet k3s || exit 3
        node_is_ready "$NODE_NAME" || exit 3
        ;;
    delete) k3s_remove ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
