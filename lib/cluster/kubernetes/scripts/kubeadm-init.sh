#!/usr/bin/env bash
# The kubeadm cluster (FLOTILLA_PHASE create/update), run on the first listed control-plane node
# that answers. On a control-plane node of the cluster (it ran init before, or joined it) it ADOPTS
# the cluster: no kubeadm init. Otherwise, when an API server answers on another control-plane
# address (OTHER_APIS), it refuses (a node new to the cluster joins; it must not be listed first);
# else, in the create phase only, it creates the cluster with `kubeadm init` on this node (after
# preparing it, kubeadm-common.sh; API_NAME, when set, resolving to this node first). Then it applies
# the pod network (flannel DaemonSet; the per-node CNI configuration is written by each node), makes
# CoreDNS serve cluster names only when the node's resolver is a loopback address (it would loop),
# and waits (bounded) until the node is Ready. Prints, as its last line, JSON with the admin
# kubeconfig, the CA public key hash (for CA-pinned joins) and the kubelet's cgroup driver (the
# component keeps that line secret). read: a control-plane node's kubelet runs, its node Ready.
# delete: nothing (the cluster goes with its control-plane nodes: each one's join resource resets it).
# Environment: see kubeadm-common.sh; CONFIG (kubeadm's InitConfiguration + ClusterConfiguration +
# KubeletConfiguration + KubeProxyConfiguration of the first listed node: NODE_NAME, NODE_IP),
# CNI (flannel|none), CNI_MANIFEST (flannel's), OTHER_APIS (host:port of the other control-plane
# nodes' API servers, space-separated).
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

# True when this machine is a control-plane node (kubeadm init or a control-plane join ran here).
control_plane_member() { [ -s "$ADMIN_KUBECONFIG" ] && [ -f /etc/kubernetes/manifests/kube-apiserver.yaml ]; }

# The first of OTHER_APIS where something listens (an API server: the cluster exists), else empty.
answering_api() {
    local a
    for a in ${OTHER_APIS:-}; do
        if timeout 5 bash -c "exec 3<>/dev/tcp/${a%:*}/${a##*:}" 2>/dev/null; then
            echo "$a"
            return 0
        fi
    done
}

case "$FLOTILLA_PHASE" in
    create | update)
        prepare_node
        if control_plane_member; then
            NODE_NAME=$(kubelet_node_name)
            [ -n "$NODE_NAME" ] || kubeadm_die "this control-plane machine has no kubelet client certificate (/var/lib/kubelet/pki/kubelet-client-current.pem)"
            log "$NODE_NAME is a control-plane node of the cluster: adopting it (no kubeadm init)"
            [ ! -x "$API_ENDPOINT_HELPER" ] || "$API_ENDPOINT_HELPER" || log "could not restore the API name in /etc/hosts"
        else
            other=$(answering_api)
            [ -z "$other" ] ||
                die "the cluster already runs (an API server answers on $other) but this machine ($(hostname)) is none of its control-plane nodes: list a control-plane node that is in the cluster first (a node new to it joins; kubeadm init never runs on a cluster that exists)"
            [ "$FLOTILLA_PHASE" = create ] ||
                die "this machine ($(hostname)) is no control-plane node of the cluster and no other control-plane node answers (${OTHER_APIS:-none}): list a surviving control-plane node first"
            ip -4 -o addr show | grep -qF " $NODE_IP/" ||
                die "kubeadm init must run on $NODE_NAME ($NODE_IP): this machine ($(hostname)) has no such address (did $NODE_NAME not answer?)"
            api_endpoint_point "$NODE_IP"
            write_config "$KUBEADM_STATE/init.yaml"
            log "kubeadm init (log: $KUBEADM_LOG)"
            (umask 077 && : >>"$KUBEADM_LOG")
            # shellcheck disable=SC2046  # preflight_flags prints zero or one flag
            timeout 900 kubeadm init --config "$KUBEADM_STATE/init.yaml" $(preflight_flags) >>"$KUBEADM_LOG" 2>&1 ||
                kubeadm_die "kubeadm init failed"
            log "kubeadm init done"
        fi
        wait_until "$READY_TIMEOUT" "the API server answering on $NODE_NAME" admin get --raw /readyz
        # kubeadm init makes a default bootstrap token (valid 24 h, printed in its log); every join
        # gets its own (kubeadm-token.sh): delete it, by its id.
        for t in $(kubeadm token list --kubeconfig "$ADMIN_KUBECONFIG" 2>/dev/null | awk '/default bootstrap token generated by/ { print $1 }'); do
            retry 3 2 kubeadm token delete --kubeconfig "$ADMIN_KUBECONFIG" "${t%%.*}" >/dev/null || log "could not delete kubeadm init's default token"
        done
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
        control_plane_member || exit 3
        [ "$(ready_of "$(kubelet_node_name)")" = True ] || exit 3
        ;;
    delete) log "the cluster goes with its control-plane nodes (each one is reset by its join's delete)" ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
