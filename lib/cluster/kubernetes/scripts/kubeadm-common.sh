# shellcheck shell=bash
# Included, not executed: readScript() puts it in place of the "# flotilla:include kubeadm-common.sh"
# line of the kubeadm scripts beside it (after common.sh).
# Prepares a node for kubeadm (idempotent) and holds the helpers the kubeadm scripts share.
#
# Environment of the including script:
#   VERSION          Kubernetes version, e.g. v1.37.2
#   SOURCE           packages (pkgs.k8s.io apt repository, pinned) | bundle (the node bundle image)
#   BUNDLE_IMAGE     bundle: <registry host[:port]>/<path>:<tag> of a FROM-scratch image holding
#                    /kubeadm, /kubelet, /kubectl at its root
#   PACKAGES_URL     packages: base URL of the apt repository (default https://pkgs.k8s.io/core:/stable:)
#   SANDBOX_IMAGE    the pause image the CRI runs pods with (<imageRepository>/pause:<tag>)
#   CNI_BIN_DIR      where the CNI plugins are (/usr/lib/cni: Debian's; /opt/cni/bin: kubernetes-cni)
#   GUARD_CIDRS      the Service and pod networks (space-separated), routed to an empty bridge
#                    inside a container machine (see docs/kubernetes-lab.md, failure 5)
#   NODE_NAME, NODE_IP
#   API_NAME         the cluster's controlPlaneEndpoint name when no apiEndpoint is given (every node
#                    resolves it through a line flotilla manages in /etc/hosts), else unset
#   READY_TIMEOUT    seconds each bounded wait may take (default 300)
# Secret: CRI_CONFIG (containerd's CRI plugin section with the registry credentials, placeholders
#   __SYSTEMD_CGROUP__, __IN_CONTAINER__), BUNDLE_AUTH (curl config line `user = "name:password"`
#   for the bundle's registry, or empty).

readonly KUBEADM_STATE=/etc/flotilla/kubeadm
readonly KUBEADM_PATCHES=/etc/flotilla/kubeadm-patches
readonly KUBEADM_LOG=/var/log/flotilla-kubeadm.log
readonly CRI_DROPIN=/etc/containerd/conf.d/50-flotilla-kubeadm.toml
readonly KUBELET_KUBECONFIG=/etc/kubernetes/kubelet.conf
# shellcheck disable=SC2034  # used by the including scripts
readonly ADMIN_KUBECONFIG=/etc/kubernetes/admin.conf
READY_TIMEOUT=${READY_TIMEOUT:-300}

# Dies with the message and the tail of the kubelet's journal and kubeadm's log.
kubeadm_die() {
    log "ERROR: $*"
    {
        echo "--- last lines of $KUBEADM_LOG:"
        tail -n 25 "$KUBEADM_LOG" 2>/dev/null || true
        echo "--- last lines of journalctl -u kubelet:"
        journalctl -u kubelet --no-pager -n 20 2>/dev/null || true
    } | sed 's/--token [^ ]*/--token <hidden>/g; s/--certificate-key [^ ]*/--certificate-key <hidden>/g' >&2
    exit 1
}

# True inside a container machine (the lab): the in-machine workarounds apply there only.
in_container() { systemd-detect-virt --container --quiet 2>/dev/null; }

# put PATH MODE: writes stdin to PATH when it differs; returns 0 when it changed.
put() {
    local tmp
    tmp=$(mktemp)
    cat >"$tmp"
    if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
        rm -f "$tmp"
        return 1
    fi
    install -D -m "$2" "$tmp" "$1"
    rm -f "$tmp"
    return 0
}

# apt_install (lock waited for, network errors retried).
# flotilla:include apt.sh

# The cgroup of this machine (/docker/<id>) when it is a container sharing the host's cgroup v1 tree.
machine_cgroup() {
    sed -n 's#^[0-9]*:[^:]*:\(/docker/[0-9a-f]\{64\}\).*#\1#p' /proc/1/cgroup | head -n 1
}

cgroup_v1() { [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ]; }

# ---- binaries ---------------------------------------------------------------------------------

installed_version() { "$1" version -o short 2>/dev/null || "$1" --version 2>/dev/null | awk '{ print $2 }'; }

binaries_current() {
    [ -x /usr/local/bin/kubeadm ] || [ -x /usr/bin/kubeadm ] || return 1
    [ "$(kubeadm version -o short 2>/dev/null)" = "$VERSION" ] || return 1
    [ "$(kubelet --version 2>/dev/null | awk '{ print $2 }')" = "$VERSION" ] || return 1
}

# The node bundle: a FROM-scratch image in a private registry, fetched over the registry's v2 API
# with curl (credentials from a root-only config file, never on a command line), its layers
# unpacked, the three binaries installed in /usr/local/bin.
install_from_bundle() {
    : "${BUNDLE_IMAGE:?BUNDLE_IMAGE is required with SOURCE=bundle}"
    local registry rest repo tag scheme work auth=() digests d
    registry=${BUNDLE_IMAGE%%/*}
    rest=${BUNDLE_IMAGE#*/}
    repo=${rest%:*}
    tag=${rest##*:}
    # Plain HTTP only for a registry the runtime layer lists as insecure with an http:// host.
    scheme=https
    if grep -qsF "[host.\"http://$registry\"]" "/etc/containerd/certs.d/$registry/hosts.toml"; then scheme=http; fi
    work=$(mktemp -d)
    chmod 700 "$work"
    if [ -n "${BUNDLE_AUTH:-}" ]; then
        (umask 077 && printf '%s\n' "$BUNDLE_AUTH" >"$work/auth")
        auth=(-K "$work/auth")
    fi
    log "fetching the node bundle $BUNDLE_IMAGE ($scheme)"
    retry 5 3 curl -fsS --connect-timeout 10 --max-time 60 "${auth[@]}" \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
        -o "$work/manifest.json" "$scheme://$registry/v2/$repo/manifests/$tag" ||
        { rm -rf "$work"; die "cannot read the manifest of $BUNDLE_IMAGE"; }
    digests=$(python3 -c 'import json,sys; print("\n".join(l["digest"] for l in json.load(open(sys.argv[1]))["layers"]))' "$work/manifest.json") ||
        { rm -rf "$work"; die "$BUNDLE_IMAGE: not an image manifest with layers"; }
    mkdir -p "$work/root"
    for d in $digests; do
        retry 3 3 curl -fsSL --connect-timeout 10 --max-time 600 "${auth[@]}" -o "$work/layer" "$scheme://$registry/v2/$repo/blobs/$d" ||
            { rm -rf "$work"; die "cannot fetch layer $d of $BUNDLE_IMAGE"; }
        [ "sha256:$(sha256sum "$work/layer" | cut -d' ' -f1)" = "$d" ] || { rm -rf "$work"; die "layer $d of $BUNDLE_IMAGE: digest mismatch"; }
        tar -C "$work/root" -xf "$work/layer" || { rm -rf "$work"; die "cannot unpack layer $d of $BUNDLE_IMAGE"; }
    done
    for b in kubeadm kubelet kubectl; do
        [ -f "$work/root/$b" ] || { rm -rf "$work"; die "$BUNDLE_IMAGE has no /$b"; }
        install -m 0755 "$work/root/$b" "/usr/local/bin/$b"
    done
    rm -rf "$work"
    # The kubelet unit and kubeadm's drop-in, as upstream's packages ship them.
    put /etc/systemd/system/kubelet.service 0644 <<'EOF' || true
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target containerd.service
After=network-online.target containerd.service flotilla-kubelet-prereqs.service

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=2

[Install]
WantedBy=multi-user.target
EOF
    put /etc/systemd/system/kubelet.service.d/10-kubeadm.conf 0644 <<'EOF' || true
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
EOF
}

# Upstream's apt repository (pkgs.k8s.io), one minor version per repository, the packages pinned
# to VERSION and held.
install_from_packages() {
    local minor=${VERSION#v} url keyring=/etc/apt/keyrings/kubernetes-apt-keyring.gpg list=/etc/apt/sources.list.d/kubernetes.list
    minor=${minor%.*}
    url="${PACKAGES_URL:-https://pkgs.k8s.io/core:/stable:}/v$minor/deb/"
    apt_install ca-certificates curl gpg
    if [ ! -s "$keyring" ] || ! grep -qsF "$url" "$list"; then
        install -d -m 0755 /etc/apt/keyrings
        retry 4 3 curl -fsSL --max-time 60 -o /tmp/flotilla-k8s-release.key "${url}Release.key" || die "cannot download ${url}Release.key"
        gpg --batch --yes --dearmor -o "$keyring" /tmp/flotilla-k8s-release.key
        rm -f /tmp/flotilla-k8s-release.key
        printf 'deb [signed-by=%s] %s /\n' "$keyring" "$url" >"$list"
    fi
    local pin
    pin=$(retry 3 5 timeout 600 apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null && apt-cache madison kubeadm |
        awk -v v="${VERSION#v}" '$3 ~ "^"v"-" { print $3; exit }')
    [ -n "$pin" ] || die "kubeadm ${VERSION#v} is not in $url (apt-cache madison kubeadm lists: $(apt-cache madison kubeadm | awk '{ print $3 }' | head -n 8 | paste -sd ' '))"
    apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive retry 3 5 timeout 900 apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends --allow-downgrades "kubelet=$pin" "kubeadm=$pin" "kubectl=$pin" kubernetes-cni >/dev/null ||
        die "apt-get install kubelet/kubeadm/kubectl $pin failed"
    apt-mark hold kubelet kubeadm kubectl >/dev/null
}

# ---- node preparation -------------------------------------------------------------------------

# Kernel settings: on a VM the usual modules and sysctls; in a container machine the workarounds
# of docs/kubernetes-lab.md (shadowed /proc/sys entries, /proc/sys/net read-write, the kubelet's
# cgroupRoot in every v1 hierarchy, guard routes for the Service and pod networks), re-applied at
# every boot by a oneshot unit ordered before containerd and the kubelet.
prepare_kernel() {
    if ! in_container; then
        swapoff -a || true
        sed -i.flotilla '/\sswap\s/s/^\([^#]\)/#\1/' /etc/fstab || true
        printf 'overlay\nbr_netfilter\n' | put /etc/modules-load.d/flotilla-kubernetes.conf 0644 || true
        modprobe overlay || true
        modprobe br_netfilter || true
        printf 'net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n' |
            put /etc/sysctl.d/90-flotilla-kubernetes.conf 0644 || true
        sysctl -q --system >/dev/null || die "sysctl --system failed"
        return 0
    fi
    local cgroup changed=1
    cgroup=$(machine_cgroup)
    [ -n "$cgroup" ] || die "this container machine's cgroup (/docker/<id>) is not in /proc/1/cgroup (is it created with --cgroupns host?)"
    [ -c /dev/kmsg ] || die "/dev/kmsg is missing: the kubelet needs it (a LabHostPool needs kubernetes: true)"
    printf '%s\n' "$cgroup" | put /etc/flotilla/cgroup-root 0644 && changed=0
    printf '%s\n' "${GUARD_CIDRS:?}" | put /etc/flotilla/guard-cidrs 0644 && changed=0
    put /usr/local/sbin/flotilla-kubelet-prereqs 0755 <<'EOF' && changed=0
#!/bin/sh
# Written by flotilla (KubernetesCluster, kubeadm), container machines only. Runs before
# containerd and the kubelet; see docs/kubernetes-lab.md for each setting.
set -eu
root=$(cat /etc/flotilla/cgroup-root)
for d in $(awk '$3 == "cgroup" && $2 ~ "^/sys/fs/cgroup/" { print $2 }' /proc/self/mounts); do
    mkdir -p "$d$root"
done
dir=/run/flotilla-proc-sys
mkdir -p "$dir"
shadow() {
    f="$dir/$(echo "$1" | tr / .)"
    echo "$2" >"$f"
    if ! grep -q " $1 " /proc/self/mounts; then mount --bind "$f" "$1"; fi
}
shadow /proc/sys/kernel/panic 10
shadow /proc/sys/kernel/panic_on_oops 1
shadow /proc/sys/vm/overcommit_memory 1
if ! grep -q ' /proc/sys/net proc rw' /proc/self/mounts; then
    mount --bind /proc/sys/net /proc/sys/net
    mount -o remount,bind,rw /proc/sys/net
fi
echo 1 >/proc/sys/net/ipv4/ip_forward
echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
echo 1 >/proc/sys/net/bridge/bridge-nf-call-ip6tables
mount --make-rshared /
ip link show flt-guard >/dev/null 2>&1 || ip link add flt-guard type bridge
ip link set flt-guard up
for cidr in $(cat /etc/flotilla/guard-cidrs); do ip route replace "$cidr" dev flt-guard; done
EOF
    put /etc/systemd/system/flotilla-kubelet-prereqs.service 0644 <<'EOF' && changed=0
[Unit]
Description=flotilla lab: kernel settings for the kubelet (shadowed /proc/sys entries, rw /proc/sys/net)
DefaultDependencies=no
After=local-fs.target
Before=containerd.service kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/flotilla-kubelet-prereqs

[Install]
WantedBy=multi-user.target
EOF
    systemctl daemon-reload
    systemctl enable --quiet flotilla-kubelet-prereqs.service
    if [ "$changed" = 0 ] || ! systemctl is-active --quiet flotilla-kubelet-prereqs.service; then
        systemctl restart flotilla-kubelet-prereqs.service ||
            die "flotilla-kubelet-prereqs failed: $(journalctl -u flotilla-kubelet-prereqs --no-pager -n 10 2>&1)"
    fi
    local f
    for f in kernel/panic:10 kernel/panic_on_oops:1 vm/overcommit_memory:1 net/ipv4/ip_forward:1 net/bridge/bridge-nf-call-iptables:1; do
        [ "$(cat "/proc/sys/${f%%:*}")" = "${f##*:}" ] || die "/proc/sys/${f%%:*} is not ${f##*:} after flotilla-kubelet-prereqs"
    done
}

# containerd's CRI section for Kubernetes (a drop-in imported by the runtime layer's config.toml):
# sandbox image, registry credentials, cgroup driver; containerd restarted when it changed.
prepare_cri() {
    local systemd=true restrict=false
    if in_container; then
        systemd=false
        restrict=true
    fi
    grep -qsF '/etc/containerd/conf.d/' /etc/containerd/config.toml ||
        die "/etc/containerd/config.toml does not import /etc/containerd/conf.d/*.toml: install containerd with flotilla's Containerd (the runtime layer) first"
    local config=${CRI_CONFIG:?}
    config=${config//__SYSTEMD_CGROUP__/$systemd}
    config=${config//__IN_CONTAINER__/$restrict}
    if printf '%s\n' "$config" | (umask 077 && put "$CRI_DROPIN" 0600); then
        log "containerd: CRI settings for Kubernetes written; restarting containerd"
        systemctl restart containerd || die "containerd did not restart: $(journalctl -u containerd --no-pager -n 15 2>&1)"
    fi
    wait_until 120 "containerd answering after its restart" ctr version
    if [ "$systemd" = true ]; then KUBELET_CGROUP_DRIVER=systemd; else KUBELET_CGROUP_DRIVER=cgroupfs; fi
}

# Per-node kubelet settings, applied by kubeadm init/join (patches.directory).
prepare_patches() {
    local lines=("cgroupDriver: $KUBELET_CGROUP_DRIVER")
    if in_container; then lines+=("cgroupRoot: $(cat /etc/flotilla/cgroup-root)"); fi
    if cgroup_v1; then lines+=("failCgroupV1: false"); fi
    printf '%s\n' "${lines[@]}" | put "$KUBEADM_PATCHES/kubeletconfiguration+merge.yaml" 0644 || true
}

# Everything a node needs before kubeadm init/join; idempotent.
prepare_node() {
    [ "$(id -u)" -eq 0 ] || die "must run as root"
    systemctl is-active --quiet containerd || die "containerd does not run: install it with flotilla's Containerd (the runtime layer) first"
    local base=(iptables conntrack socat ethtool ebtables python3 curl)
    if [ "$SOURCE" = bundle ]; then base+=(containernetworking-plugins); fi
    apt_install "${base[@]}"
    prepare_kernel
    if ! binaries_current; then
        case "$SOURCE" in
            bundle) install_from_bundle ;;
            packages) install_from_packages ;;
            *) die "unknown SOURCE '$SOURCE' (packages or bundle)" ;;
        esac
        binaries_current || die "kubeadm/kubelet are not $VERSION after the install: $(kubeadm version -o short 2>&1) / $(kubelet --version 2>&1)"
        log "kubeadm, kubelet and kubectl $VERSION installed ($SOURCE)"
    fi
    prepare_cri
    prepare_patches
    mkdir -p /etc/kubernetes/manifests "$KUBEADM_STATE"
    chmod 700 "$KUBEADM_STATE"
    systemctl daemon-reload
    systemctl enable --quiet kubelet.service
}

# kubeadm's flags for this machine: cgroup v1 hosts fail SystemVerification (kubelet >= 1.35),
# which failCgroupV1: false then allows.
preflight_flags() {
    if cgroup_v1; then echo "--ignore-preflight-errors=SystemVerification"; fi
}

# Writes the kubeadm configuration CONFIG with the secret placeholders replaced to $1 (root only).
write_config() {
    local config=${CONFIG:?}
    config=${config//__TOKEN__/${BOOTSTRAP_TOKEN:-}}
    config=${config//__CA_CERT_HASH__/${CA_CERT_HASH:-}}
    config=${config//__CERTIFICATE_KEY__/${CERTIFICATE_KEY:-}}
    config=${config//__DISCOVERY_ENDPOINT__/${DISCOVERY_ENDPOINT:-}}
    (umask 077 && printf '%s\n' "$config" >"$1")
}

# True when this machine is a node of a cluster (kubeadm ran: the kubelet has its kubeconfig).
joined() { [ -s "$KUBELET_KUBECONFIG" ]; }

kubelet_kubectl() { kubectl --kubeconfig "$KUBELET_KUBECONFIG" "$@"; }
ready_of() { kubelet_kubectl get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null; }

# The per-node CNI configuration on the node's pod subnet, as flannel's CNI plugin would write it
# (that plugin cannot be had here, see docs/kubernetes-lab.md): bridge cni0 + host-local + portmap.
write_cni_config() {
    [ "${CNI:-flannel}" = flannel ] || return 0
    local cidr deadline=$((SECONDS + READY_TIMEOUT))
    until cidr=$(kubelet_kubectl get node "$NODE_NAME" -o 'jsonpath={.spec.podCIDR}' 2>/dev/null) && [ -n "$cidr" ]; do
        ((SECONDS < deadline)) || kubeadm_die "node $NODE_NAME got no podCIDR within ${READY_TIMEOUT}s"
        sleep 2
    done
    put /etc/cni/net.d/10-flotilla-pods.conflist 0644 <<EOF || true
{
  "cniVersion": "1.0.0",
  "name": "flotilla-pods",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
      "hairpinMode": true, "mtu": ${CNI_MTU:-1450},
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$cidr" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
}

wait_ready() {
    local deadline=$((SECONDS + READY_TIMEOUT))
    until [ "$(ready_of "$NODE_NAME")" = True ]; do
        ((SECONDS < deadline)) || kubeadm_die "node $NODE_NAME not Ready within ${READY_TIMEOUT}s"
        sleep 2
    done
    log "node $NODE_NAME is Ready"
}

# ---- the API name (controlPlaneEndpoint without a load balancer) --------------------------------

readonly API_ENDPOINT_STATE=/etc/flotilla/api-endpoint
readonly API_ENDPOINT_HELPER=/usr/local/sbin/flotilla-api-endpoint
readonly API_ENDPOINT_UNIT=/etc/systemd/system/flotilla-api-endpoint.service

# api_endpoint_point ADDRESS: API_NAME resolves to ADDRESS on this machine, through a marked line of
# /etc/hosts (written in place: in a container machine it is a bind mount) that a oneshot unit
# restores at every boot (Docker and cloud-init may rewrite /etc/hosts), also in the hosts files of
# the host-network pods (kube-proxy's is a copy made when the pod started). No-op without API_NAME.
api_endpoint_point() {
    [ -n "${API_NAME:-}" ] || return 0
    local address=$1 changed=1
    [ -n "$address" ] || die "no address for the API name $API_NAME"
    printf '%s %s\n' "$address" "$API_NAME" | put "$API_ENDPOINT_STATE" 0644 && changed=0
    put "$API_ENDPOINT_HELPER" 0755 <<'EOF' && changed=0
#!/bin/sh
# Written by flotilla (KubernetesCluster, kubeadm): the cluster's API name in /etc/hosts (and in the
# host-network pods' copies of it), from /etc/flotilla/api-endpoint ("address name").
set -eu
state=/etc/flotilla/api-endpoint
mark='# flotilla-api-endpoint'
[ -s "$state" ] || exit 0
line="$(cat "$state") $mark"
for f in /etc/hosts /var/lib/kubelet/pods/*/etc-hosts; do
    [ -f "$f" ] || continue
    if [ "$f" != /etc/hosts ] && ! grep -qF "$mark" "$f"; then continue; fi
    if grep -qxF "$line" "$f" && [ "$(grep -cF "$mark" "$f")" = 1 ]; then continue; fi
    rest=$(grep -vF "$mark" "$f" || true)
    # In place (not a rename): a bind-mounted file keeps its inode.
    printf '%s\n%s\n' "$rest" "$line" >"$f"
done
EOF
    put "$API_ENDPOINT_UNIT" 0644 <<'EOF' && changed=0
[Unit]
Description=flotilla: the Kubernetes API name in /etc/hosts (KubernetesCluster, kubeadm)
DefaultDependencies=no
After=local-fs.target cloud-init.service
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/flotilla-api-endpoint

[Install]
WantedBy=multi-user.target
EOF
    if [ "$changed" = 0 ]; then
        systemctl daemon-reload
        systemctl enable --quiet flotilla-api-endpoint.service
    fi
    "$API_ENDPOINT_HELPER" || die "cannot write $API_NAME into /etc/hosts"
    getent hosts "$API_NAME" | grep -q "^$address " || die "$API_NAME does not resolve to $address after writing /etc/hosts: $(getent hosts "$API_NAME" || echo nothing)"
    [ "$changed" = 1 ] || log "$API_NAME resolves to $address on this machine"
}

# Removes the API name line, its unit and helper (the machine leaves the cluster).
api_endpoint_remove() {
    [ -e "$API_ENDPOINT_STATE" ] || [ -e "$API_ENDPOINT_HELPER" ] || return 0
    systemctl disable --quiet flotilla-api-endpoint.service >/dev/null 2>&1 || true
    rm -f "$API_ENDPOINT_UNIT" "$API_ENDPOINT_HELPER" "$API_ENDPOINT_STATE"
    systemctl daemon-reload || true
    if grep -qF '# flotilla-api-endpoint' /etc/hosts; then
        local rest
        rest=$(grep -vF '# flotilla-api-endpoint' /etc/hosts || true)
        printf '%s\n' "$rest" >/etc/hosts
    fi
}

# This machine's node name when it is a node (its kubelet's client certificate), else empty.
kubelet_node_name() {
    openssl x509 -noout -subject -in /var/lib/kubelet/pki/kubelet-client-current.pem 2>/dev/null |
        sed -n 's/.*CN *= *system:node:\([^,/]*\).*/\1/p'
}

# Leaves the cluster on this machine: kubeadm reset (the etcd member, if any, was removed by the
# node resource on a surviving control-plane node), CNI state and the kubelet stopped.
reset_node() {
    if command -v kubeadm >/dev/null && { joined || [ -d /etc/kubernetes/manifests ]; }; then
        timeout 300 kubeadm reset -f --skip-phases=remove-etcd-member >>"$KUBEADM_LOG" 2>&1 || log "kubeadm reset reported errors (see $KUBEADM_LOG)"
    fi
    systemctl disable --now kubelet >/dev/null 2>&1 || true
    rm -f /etc/cni/net.d/10-flotilla-pods.conflist
    ip link delete cni0 >/dev/null 2>&1 || true
    ip link delete flannel.1 >/dev/null 2>&1 || true
    rm -rf "$KUBEADM_STATE"
    api_endpoint_remove
    log "left the cluster (kubeadm reset)"
}

# The result line of init/join: node name and the kubelet's cgroup driver.
node_result() {
    printf '{"nodeName":%s,"cgroupDriver":%s}\n' "$(json_str "$NODE_NAME")" "$(json_str "${KUBELET_CGROUP_DRIVER:-systemd}")"
}
