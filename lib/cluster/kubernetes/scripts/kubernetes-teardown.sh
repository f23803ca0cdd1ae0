#!/usr/bin/env bash
# The whole Kubernetes cluster's removal (kubeadm or k3s), run on a control-plane node / server (the
# first listed that answers). The resource depends on every node's, so the engine deletes it first
# when the whole KubernetesCluster goes (destroy, or the component removed): its delete writes the teardown mark (a
# ConfigMap in kube-system, kept in etcd, seen from every control-plane node), and the node deletes
# that follow skip the drains, Node deletes and etcd member removals (pointless when every node
# goes, and harmful: a control-plane node already out of etcd cannot run the next removal); each
# machine then resets (kubeadm) or uninstalls k3s with its join. Create/update removes a mark a destroy that failed half-way
# left, so removing a node later drains it again. Read: always there.
set -euo pipefail
export LOG_TAG=${DISTRIBUTION:?}
# flotilla:include common.sh
: "${FLOTILLA_PHASE:?}"
# The admin kubeconfig names the cluster's API name (no load balancer): make sure it resolves here.
[ ! -x /usr/local/sbin/flotilla-api-endpoint ] || /usr/local/sbin/flotilla-api-endpoint || true

readonly MARK=flotilla-teardown
if [ "$DISTRIBUTION" = k3s ]; then
    readonly ADMIN=/etc/rancher/k3s/k3s.yaml
    kc() { k3s kubectl --request-timeout=30s "$@"; }
else
    readonly ADMIN=/etc/kubernetes/admin.conf
    kc() { kubectl --kubeconfig "$ADMIN" --request-timeout=30s "$@"; }
fi

case "$FLOTILLA_PHASE" in
    create | update)
        [ -s "$ADMIN" ] || die "this machine is not a control-plane node of the cluster (no $ADMIN)"
        wait_until 120 "the API server answering" kc get --raw /readyz
        if kc -n kube-system get configmap "$MARK" >/dev/null 2>&1; then
            retry 5 2 kc -n kube-system delete configmap "$MARK" --ignore-not-found >/dev/null
            log "removed the teardown mark a half-done removal left"
        fi
        ;;
    read) ;;
    delete)
        if [ ! -s "$ADMIN" ] || ! kc get --raw /readyz >/dev/null 2>&1; then
            log "the API does not answer here: no teardown mark (the nodes are removed one by one)"
            exit 0
        fi
        if kc -n kube-system get configmap "$MARK" >/dev/null 2>&1 ||
            retry 3 2 kc -n kube-system create configmap "$MARK" --from-literal=by=flotilla >/dev/null; then
            log "the whole cluster is being removed: nodes reset without draining"
        else
            log "could not write the teardown mark: the nodes are removed one by one"
        fi
        ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
