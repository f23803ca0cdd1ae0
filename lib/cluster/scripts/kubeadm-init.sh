#!/usr/bin/env bash
# Creates the Kubernetes cluster on its first control-plane node with `kubeadm init`
# (FLOTILLA_PHASE create/update), after preparing the node (kubeadm-common.sh); applies the pod
# network (flannel DaemonSet; the per-node CNI configuration is written by each node), makes
# CoreDNS serve cluster names only when the node's resolver is a loopback address (it would loop),
# and waits (bounded) until the node is Ready. Idempotent: a node that is already the control
# plane is not initialised again. Prints, as its last line, JSON with the admin kubeconfig, the CA
# public key hash (for CA-pinned joins) and the kubelet's cgroup driver (the component keeps that
# line secret). read: the kubelet runs and the node is Ready. delete: kubeadm reset (the cluster
# dies with its last control-plane node).
# Environment: see kubeadm-common.sh; CONFIG (kubeadm's InitConfiguration + ClusterConfiguration +
# KubeletConfiguration + KubeProxyConfiguration), CNI (flannel|none), CNI_MANIFEST (flannel's).
set -euo pipefail
export LOG_TAG=kubeadm
# flotilla:include common.sh
# flotilla:include kubeadm-common.sh
: "${FLOTILLA_PHASE:?}" "${VERSION:?}" "${SOURCE:?}" "${NODE_NAME:?}" "${NODE_IP:?}"

admin() { kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

ca_cert_hash() {
    openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1
}

# CoreDNS forwards other names to the node's resolver; a loopback resolver (the lab's 127.0.0.11,
# Docker's embedded DNS) is CoreDNS itself inside a pod: its loop plugin stops it. Then the
# cluster serves its own names only: the Corefile without forward and loop.
fix_coredns() {
    local resolv nameservers corefile fixed
    resolv=$(sed -n 's/^resolvConf: *//p' /var/lib/kubelet/config.yaml 2>/dev/null)
    nameservers=$(awk '$1 == "nameserver" { print $2 }' "${resolv:-/etc/resolv.conf}" 2>/dev/null)
    if [ -n "$nameservers" ] && grep -qv '^127\.' <<<"$nameservers"; then return 0; fi
    corefile=$(admin -n kube-system get configmap coredns -o 'jsonpath={.data.Corefile}')
    grep -q '^ *forward \. ' <<<"$corefile" || return 0
    fixed=$(awk '/^ *forward \. / { skip = 1 } skip { if ($0 ~ /^ *} *$/) skip = 0; next } /^ *loop *$/ { next } { print }' <<<"$corefile")
    grep -q 'kubernetes ' <<<"$fixed" || die "unexpected CoreDNS Corefile from kubeadm: $corefile"
    admin -n kube-system create configmap coredns --from-literal=Corefile="$fixed" --dry-run=client -o yaml | admin replace -f - >/dev/null
    log "CoreDNS: the node's resolver is loopback ($nameservers): serving cluster names only (no forward, no loop)"
}

case "$FLOTILLA_PHASE" in
    create | update)
        prepare_node
        if [ ! -s "$ADMIN_KUBECONFIG" ]; then
            write_config "$KUBEADM_STATE/init.yaml"
            log "kubeadm init (log: $KUBEADM_LOG)"
            (umask 077 && : >>"$KUBEADM_LOG")
            # shellcheck disable=SC2046  # preflight_flags prints zero or one flag
            timeout 900 kubeadm init --config "$KUBEADM_STATE/init.yaml" $(preflight_flags) >>"$KUBEADM_LOG" 2>&1 ||
                kubeadm_die "kubeadm init failed"
            log "kubeadm init done"
        else
            log "$NODE_NAME already runs the control plane"
        fi
        wait_until "$READY_TIMEOUT" "the API server answering on $NODE_NAME" admin get --raw /readyz
        if [ "${CNI:-flannel}" = flannel ]; then
            printf '%s\n' "${CNI_MANIFEST:?}" >"$KUBEADM_STATE/cni.yaml"
            retry 5 3 admin apply -f "$KUBEADM_STATE/cni.yaml" >/dev/null || kubeadm_die "cannot apply the flannel manifest"
        fi
        retry 5 3 fix_coredns
        write_cni_config
        wait_ready
        printf '{"kubeconfig":%s,"caCertHash":%s,"nodeName":%s,"cgroupDriver":%s}\n' \
            "$(json_str "$(cat "$ADMIN_KUBECONFIG")")" "$(json_str "sha256:$(ca_cert_hash)")" \
            "$(json_str "$NODE_NAME")" "$(json_str "$KUBELET_CGROUP_DRIVER")"
        ;;
    read)
        systemctl is-active --quiet kubelet || exit 3
        joined || exit 3
        [ "$(ready_of "$NODE_NAME")" = True ] || exit 3
        ;;
    delete) reset_node ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
