#!/usr/bin/env bash
# Runs on a server and looks after one node of the k3s cluster: its labels and taints, uncordoned
# (create/update), whether it is still Ready (read), and its orderly removal (delete): a server is
# refused when the etcd members left Ready would be no quorum of the smaller cluster; the node is
# cordoned, drained (bounded: `kubectl drain --ignore-daemonsets --delete-emptydir-data`) and
# deleted from the node list (k3s then removes its etcd member). A node that is not Ready (its
# machine stopped or gone) is drained with --force and deleted even when its pods never report
# gone. The first server is removed like any other; the last one is left alone (the cluster goes
# with it), and so is every node once the teardown mark is there (kubernetes-teardown.sh). The node itself uninstalls k3s afterwards (its join resource is deleted after this one).
# Runs on a server other than the node itself (itself when it is the only server).
# Environment: NODE_NAME, ROLE (server|agent), LABELS (lines of key=value), TAINTS (lines of
# key=value:Effect), DRAIN_TIMEOUT (seconds).
set -euo pipefail
export LOG_TAG=k3s
# flotilla:include common.sh
: "${FLOTILLA_PHASE:?}" "${NODE_NAME:?}" "${ROLE:?}" "${DRAIN_TIMEOUT:?}"

kc() { k3s kubectl "$@"; }
# flotilla:include kubernetes-node-common.sh

case "$FLOTILLA_PHASE" in
    create | update)
        node_apply_metadata
        printf '{"nodeName":%s,"role":%s}\n' "$(json_str "$NODE_NAME")" "$(json_str "$ROLE")"
        ;;
    read)
        node_exists || exit 3
        [ "$(ready_status "$NODE_NAME")" = True ] || exit 3
        ;;
    delete)
        if torn_down; then
            log "the whole cluster is being removed (teardown mark): $NODE_NAME is not drained or removed, k3s is uninstalled from it"
            exit 0
        fi
        if [ "$ROLE" = server ] && last_member node-role.kubernetes.io/etcd=true; then
            log "$NODE_NAME is the last server: the cluster goes with it, nothing to remove"
            exit 0
        fi
        node_exists || { log "$NODE_NAME is not in the cluster any more"; exit 0; }
        [ "$ROLE" != server ] || check_quorum node-role.kubernetes.io/etcd=true "server" "servers"
        node_remove
        ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
