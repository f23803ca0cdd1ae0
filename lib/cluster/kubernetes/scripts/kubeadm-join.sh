#!/usr/bin/env bash
# Joins this machine to the kubeadm cluster (FLOTILLA_PHASE create/update) as a worker or, with a
# ControlPlane section in CONFIG, as a control-plane node (stacked etcd, certificates from the
# cluster's kubeadm-certs Secret via the certificate key), after preparing it (kubeadm-common.sh).
# Discovery is CA-pinned (caCertHashes). The bootstrap token and the certificate key come from a
# surviving control-plane node (kubeadm-token.sh) through the secret environment and are written
# into a root-only file only. With API_NAME (no load balancer), the API name resolves to the
# discovery node during the join, then to API_ADDRESS (a control-plane node's own address; on a
# worker the first listed control-plane node's: a changed API_ADDRESS is an update that rewrites
# it). Writes the per-node CNI configuration and waits (bounded) until the node is Ready.
# Idempotent: a machine that is already a node (the control-plane node that ran kubeadm init too)
# is not joined again. Prints, as its last line, JSON with the node name and the kubelet's cgroup
# driver.
# read: the kubelet runs with its kubeconfig. delete: kubeadm reset (after the node resource
# drained and deleted the node and removed its etcd member).
# Environment: see kubeadm-common.sh; CONFIG (JoinConfiguration with the placeholders __TOKEN__,
# __CA_CERT_HASH__, __CERTIFICATE_KEY__, __DISCOVERY_ENDPOINT__), API_ADDRESS (with API_NAME).
# Secret: JOIN (JSON from
# kubeadm-token.sh: token, certificateKey, caCertHash, endpoint).
set -euo pipefail
export LOG_TAG=kubeadm
# flotilla:include common.sh
# flotilla:include kubeadm-common.sh
: "${FLOTILLA_PHASE:?}" "${VERSION:?}" "${SOURCE:?}" "${NODE_NAME:?}" "${NODE_IP:?}"

case "$FLOTILLA_PHASE" in
    create | update)
        : "${JOIN:?JOIN (the join secrets) is required}"
        prepare_node
        if ! joined; then
            # The JSON fields, read without putting them on a command line (used by write_config).
            # shellcheck disable=SC2034
            BOOTSTRAP_TOKEN=$(python3 -c 'import json,os; print(json.loads(os.environ["JOIN"])["token"])')
            # shellcheck disable=SC2034
            CERTIFICATE_KEY=$(python3 -c 'import json,os; print(json.loads(os.environ["JOIN"]).get("certificateKey",""))')
            # shellcheck disable=SC2034
            CA_CERT_HASH=$(python3 -c 'import json,os; print(json.loads(os.environ["JOIN"])["caCertHash"])')
            DISCOVERY_ENDPOINT=$(python3 -c 'import json,os; print(json.loads(os.environ["JOIN"])["endpoint"])')
            write_config "$KUBEADM_STATE/join.yaml"
            # The join reaches the API at the cluster's endpoint (cluster-info): the discovery node.
            api_endpoint_point "${DISCOVERY_ENDPOINT%:*}"
            log "kubeadm join through $DISCOVERY_ENDPOINT (log: $KUBEADM_LOG)"
            (umask 077 && : >>"$KUBEADM_LOG")
            # shellcheck disable=SC2046  # preflight_flags prints zero or one flag
            if ! timeout 900 kubeadm join --config "$KUBEADM_STATE/join.yaml" $(preflight_flags) >>"$KUBEADM_LOG" 2>&1; then
                rm -f "$KUBEADM_STATE/join.yaml"
                kubeadm_die "kubeadm join failed"
            fi
            rm -f "$KUBEADM_STATE/join.yaml"
            log "kubeadm join done"
        else
            log "$NODE_NAME is already a node of the cluster"
        fi
        api_endpoint_point "${API_ADDRESS:-$NODE_IP}"
        write_cni_config
        wait_ready
        node_result
        ;;
    read)
        systemctl is-active --quiet kubelet || exit 3
        joined || exit 3
        ;;
    delete) reset_node ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
