#!/usr/bin/env bash
# Runs on a control-plane node (the first listed one, else any other that answers) for one node
# about to join (the control-plane node that ran kubeadm init gets its secrets too, unused): a fresh bootstrap token (TTL 2 h) and, for a control-plane join, the control-plane
# certificates uploaded again with a new certificate key (kubeadm deletes them after 2 h). So a
# later join (a scale-up, a replaced machine) never depends on what `kubeadm init` made, nor on the
# first node. Prints, as its last line, JSON with the token, the certificate key, the CA public key
# hash and this node's API address for discovery (the component keeps that line secret).
# read: always present (what it made expires by itself). delete: nothing.
# Environment: ROLE (control-plane|worker), NODE_NAME (of the node that will join).
set -euo pipefail
export LOG_TAG=kubeadm
# flotilla:include common.sh
: "${FLOTILLA_PHASE:?}" "${ROLE:?}" "${NODE_NAME:?}"

readonly ADMIN=/etc/kubernetes/admin.conf
# The admin kubeconfig names the cluster's API name (no load balancer): make sure it resolves here
# (the line is restored at boot too; this covers a machine restarted moments ago).
[ ! -x /usr/local/sbin/flotilla-api-endpoint ] || /usr/local/sbin/flotilla-api-endpoint || true

case "$FLOTILLA_PHASE" in
    create | update)
        [ -s "$ADMIN" ] || die "this machine is not a control-plane node of the cluster (no $ADMIN)"
        wait_until 120 "the API server answering" kubectl --kubeconfig "$ADMIN" get --raw /readyz
        token=$(retry 5 3 kubeadm token create --kubeconfig "$ADMIN" --ttl 2h0m0s --description "flotilla: join of $NODE_NAME" 2>/dev/null | tail -n 1)
        [[ "$token" =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || die "kubeadm token create printed no token"
        key=""
        if [ "$ROLE" = control-plane ]; then
            key=$(retry 5 3 kubeadm init phase upload-certs --upload-certs --kubeconfig "$ADMIN" 2>/dev/null | tail -n 1)
            [[ "$key" =~ ^[0-9a-f]{64}$ ]] || die "kubeadm init phase upload-certs printed no certificate key"
        fi
        hash=$(openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)
        endpoint=$(sed -n 's/^ *- --advertise-address=//p' /etc/kubernetes/manifests/kube-apiserver.yaml | head -n 1)
        port=$(sed -n 's/^ *- --secure-port=//p' /etc/kubernetes/manifests/kube-apiserver.yaml | head -n 1)
        [ -n "$endpoint" ] || die "no --advertise-address in /etc/kubernetes/manifests/kube-apiserver.yaml"
        log "join secrets for $NODE_NAME ($ROLE) made on this node"
        printf '{"token":%s,"certificateKey":%s,"caCertHash":%s,"endpoint":%s}\n' "$(json_str "$token")" "$(json_str "$key")" \
            "$(json_str "sha256:$hash")" "$(json_str "$endpoint:${port:-6443}")"
        ;;
    read | delete) exit 0 ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
