#!/usr/bin/env bash
# Runs on a control-plane node (any other than the node itself that answers; itself when it is the
# only one) and looks after one node of the kubeadm cluster: its labels and taints, uncordoned
# (create/update), whether it is still Ready (read), and its orderly removal (delete): a
# control-plane node is refused when the etcd members left Ready would be no quorum of the smaller
# cluster; the node is cordoned, drained (bounded: `kubectl drain --ignore-daemonsets
# --delete-emptydir-data`), deleted from the node list, and a control-plane node's etcd member
# removed (etcd's v3 JSON gateway, with the API server's etcd client certificate). A node that is not
# Ready (its machine stopped or gone) is drained with --force and deleted even when its pods never
# report gone. The first control-plane node is removed like any other; the last one is left alone
# (the cluster goes with it), and so is every node once the teardown mark is there (the whole
# cluster is being removed: kubernetes-teardown.sh). The machine itself runs `kubeadm reset` afterwards (its join resource
# is deleted after this one).
# Environment: NODE_NAME, ROLE (control-plane|worker), LABELS (lines of key=value), TAINTS (lines of
# key=value:Effect), DRAIN_TIMEOUT (seconds).
set -euo pipefail
export LOG_TAG=kubeadm
# flotilla:include common.sh
: "${FLOTILLA_PHASE:?}" "${NODE_NAME:?}" "${ROLE:?}" "${DRAIN_TIMEOUT:?}"
# The admin kubeconfig names the cluster's API name (no load balancer): make sure it resolves here.
[ ! -x /usr/local/sbin/flotilla-api-endpoint ] || /usr/local/sbin/flotilla-api-endpoint || true

kc() { kubectl --kubeconfig /etc/kubernetes/admin.conf --request-timeout=30s "$@"; }
# flotilla:include kubernetes-node-common.sh

# etcd's v3 API through its JSON gateway on this control-plane node: etcd PATH JSON-BODY.
etcd_api() {
    python3 - "$1" "$2" <<'PY'
import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile="/etc/kubernetes/pki/etcd/ca.crt")
ctx.load_cert_chain("/etc/kubernetes/pki/apiserver-etcd-client.crt", "/etc/kubernetes/pki/apiserver-etcd-client.key")
ctx.check_hostname = False
req = urllib.request.Request("https://127.0.0.1:2379" + sys.argv[1], data=sys.argv[2].encode(), method="POST")
print(urllib.request.urlopen(req, context=ctx, timeout=20).read().decode())
PY
}

# The etcd member id of the node (etcd members are named after their node by kubeadm), or empty.
etcd_member_id() {
    etcd_api /v3/cluster/member/list '{}' | python3 -c '
import json, sys
for m in json.load(sys.stdin).get("members", []):
    if m.get("name") == sys.argv[1]:
        print(m["ID"])' "$NODE_NAME"
}

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
            log "the whole cluster is being removed (teardown mark): $NODE_NAME is not drained or removed, its machine resets"
            exit 0
        fi
        if [ "$ROLE" = control-plane ] && last_member node-role.kubernetes.io/control-plane; then
            log "$NODE_NAME is the last control-plane node: the cluster goes with it, nothing to remove"
            exit 0
        fi
        if node_exists; then
            [ "$ROLE" != control-plane ] || check_quorum node-role.kubernetes.io/control-plane "control-plane node" "control-plane machines"
            node_remove
        else
            log "$NODE_NAME is not in the node list any more"
        fi
        if [ "$ROLE" = control-plane ]; then
            id=$(retry 5 2 etcd_member_id) || die "cannot list the etcd members"
            if [ -n "$id" ]; then
                retry 5 2 etcd_api /v3/cluster/member/remove "{\"ID\":\"$id\"}" >/dev/null || die "cannot remove etcd member $NODE_NAME ($id)"
                log "removed etcd member $NODE_NAME ($id)"
            else
                log "$NODE_NAME is no etcd member (any more)"
            fi
        fi
        ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
