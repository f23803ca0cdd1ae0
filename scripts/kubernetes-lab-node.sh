#!/usr/bin/env bash
# kubernetes-lab-node.sh: prepares ONE lab machine (a Debian 12 systemd container, see
# lib/hosts/scripts/lab-machine.sh) for kubeadm, as root, inside the machine. Run by
# scripts/kubernetes-lab-proof.sh through `docker exec -i <machine> bash -s < this file`, after
# containerd was installed by lib/runtime/scripts/runtime.sh (Debian's package) and the files
# below were copied in. What each setting is for: docs/kubernetes-lab.md.
#
#   /var/tmp/flotilla-k8s/bin/{kubeadm,kubelet,kubectl}   from scripts/kubernetes-build.sh
#   /var/tmp/flotilla-k8s/images/*.tar                    docker-save tarballs to import
#
# Environment: NODE_CGROUP_ROOT   the machine's own cgroup (/docker/<container id>): the kubelet's
#                                 cgroupRoot, so two machines on one host never share /kubepods
#              NODE_GUARD_CIDRS   the Service and pod networks (space-separated): routed to an
#                                 empty bridge, so that packets for them that no kube-proxy rule or
#                                 flannel route claims are dropped in the machine instead of
#                                 leaving through the default route (to the internet)
#              NODE_TIMEOUT       seconds each bounded step may take (default 300)
# Idempotent: files are rewritten with the same content, images re-imported (no-op), units
# restarted only when they changed.
set -euo pipefail

readonly STAGE=/var/tmp/flotilla-k8s
: "${NODE_CGROUP_ROOT:?NODE_CGROUP_ROOT is required: the cgroup of this machine, /docker/ID}"
: "${NODE_GUARD_CIDRS:?NODE_GUARD_CIDRS is required: the Service and pod networks}"
NODE_TIMEOUT=${NODE_TIMEOUT:-300}

say() { printf '%s node %s: %s\n' "$(date -u +%H:%M:%S)" "$(uname -n)" "$*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}
set -E
trap 'say "ERROR: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)"' ERR
[ "$(id -u)" -eq 0 ] || die "must run as root"
[[ "$NODE_CGROUP_ROOT" =~ ^/[A-Za-z0-9/._-]+$ ]] || die "NODE_CGROUP_ROOT '$NODE_CGROUP_ROOT' is not a cgroup path"
[ -d "/sys/fs/cgroup/cpu$NODE_CGROUP_ROOT" ] ||
    die "cgroup $NODE_CGROUP_ROOT not found under /sys/fs/cgroup/cpu (is the machine created with --cgroupns host?)"

# put PATH MODE: writes stdin to PATH when it differs; prints "changed" when it did.
put() {
    local tmp
    tmp=$(mktemp)
    cat >"$tmp"
    if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
        rm -f "$tmp"
        return 0
    fi
    install -D -m "$2" "$tmp" "$1"
    rm -f "$tmp"
    echo changed
}

# ---- packages -------------------------------------------------------------------------------
# containerd itself comes from runtime.sh. The CNI plugins (bridge, host-local, portmap, loopback)
# come from Debian; kubelet needs mount/losetup (util-linux, mount), kube-proxy's and flannel's
# iptables rules are made by their own images, the machine's iptables is for the portmap plugin.
packages=(containernetworking-plugins iptables conntrack socat ethtool ebtables openssl)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    timeout "$NODE_TIMEOUT" apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive timeout "$NODE_TIMEOUT" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi

# ---- binaries -------------------------------------------------------------------------------
for b in kubeadm kubelet kubectl; do
    [ -x "$STAGE/bin/$b" ] || die "$STAGE/bin/$b is missing (copy it in first)"
    if ! cmp -s "$STAGE/bin/$b" "/usr/local/bin/$b"; then
        install -m 0755 "$STAGE/bin/$b" "/usr/local/bin/$b"
    fi
done

# ---- kernel settings the kubelet wants, without touching the host's ---------------------------
# /proc/sys is read-only in the machine and kernel.* / vm.* are not namespaced: writing them would
# change the HOST. The kubelet (protectKernelDefaults: false) only writes what differs, so files
# holding the wanted values are bind-mounted over the three entries (the kernel is never asked).
# /proc/sys/net IS per network namespace: it is remounted read-write for this machine only
# (the CNI portmap plugin, kube-proxy and kubeadm's preflight checks need it).
changed=$(
    printf '%s\n' "$NODE_CGROUP_ROOT" | put /etc/flotilla/cgroup-root 0644
    printf '%s\n' "$NODE_GUARD_CIDRS" | put /etc/flotilla/guard-cidrs 0644
    put /usr/local/sbin/flotilla-kubelet-prereqs 0755 <<'EOF'
#!/bin/sh
# Written by flotilla's kubernetes-lab-node.sh. Runs before containerd and the kubelet.
set -eu
# The kubelet's cgroupRoot (this machine's own cgroup) must exist in every cgroup v1 hierarchy;
# Docker makes it only in those it uses (not in hugetlb, perf_event, net_cls,net_prio).
root=$(cat /etc/flotilla/cgroup-root)
for d in $(awk '$3 == "cgroup" && $2 ~ "^/sys/fs/cgroup/" { print $2 }' /proc/self/mounts); do
    mkdir -p "$d$root"
done
dir=/run/flotilla-proc-sys
mkdir -p "$dir"
shadow() { # shadow <proc sys path> <value>
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
# Pods' mounts propagate like on a real host (kubelet volume mounts).
mount --make-rshared /
# Service and pod addresses never leave the machine: a connection to a ClusterIP that
# kube-proxy has no rule for (yet) would otherwise follow the default route out of the lab.
# A device route, not a blackhole/unreachable route: local connect() must still succeed so that
# kube-proxy's OUTPUT DNAT can re-route it. The device is a bridge without ports (this kernel
# has no dummy module): what is routed to it goes nowhere. More specific routes (cni0,
# flannel.1) win.
ip link show flt-guard >/dev/null 2>&1 || ip link add flt-guard type bridge
ip link set flt-guard up
for cidr in $(cat /etc/flotilla/guard-cidrs); do ip route replace "$cidr" dev flt-guard; done
EOF
    put /etc/systemd/system/flotilla-kubelet-prereqs.service 0644 <<'EOF'
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
    # The kubelet unit and kubeadm's drop-in, as upstream's packages ship them.
    put /etc/systemd/system/kubelet.service 0644 <<'EOF'
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target containerd.service
After=network-online.target containerd.service flotilla-kubelet-prereqs.service
Requires=flotilla-kubelet-prereqs.service

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=2

[Install]
WantedBy=multi-user.target
EOF
    put /etc/systemd/system/kubelet.service.d/10-kubeadm.conf 0644 <<'EOF'
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
EOF
    # Per-node kubelet settings, applied by kubeadm init/join (patches.directory). The machines
    # share the host's cgroup v1 hierarchy (--cgroupns host): each kubelet gets its own machine's
    # cgroup as cgroupRoot, or both would manage (and clean up) the same /kubepods.
    put /etc/flotilla/kubeadm-patches/kubeletconfiguration+merge.yaml 0644 <<EOF
cgroupRoot: $NODE_CGROUP_ROOT
EOF
)
# kubeadm creates it on control-plane nodes only; a worker's kubelet logs its absence every second.
mkdir -p /etc/kubernetes/manifests
systemctl daemon-reload
systemctl enable --quiet flotilla-kubelet-prereqs.service kubelet.service
if [ -n "$changed" ] || ! systemctl is-active --quiet flotilla-kubelet-prereqs.service; then
    systemctl restart flotilla-kubelet-prereqs.service ||
        die "flotilla-kubelet-prereqs failed: $(journalctl -u flotilla-kubelet-prereqs --no-pager -n 10 2>&1)"
fi
for f in kernel/panic:10 kernel/panic_on_oops:1 vm/overcommit_memory:1 net/ipv4/ip_forward:1 net/bridge/bridge-nf-call-iptables:1; do
    [ "$(cat "/proc/sys/${f%%:*}")" = "${f##*:}" ] || die "/proc/sys/${f%%:*} is not ${f##*:} after flotilla-kubelet-prereqs"
done

# ---- images ---------------------------------------------------------------------------------
# Every image a node runs is imported into containerd's k8s.io namespace (the CRI's): nothing is
# ever pulled (kubeadm's nodeRegistration.imagePullPolicy is Never, pods use imagePullPolicy Never).
systemctl is-active --quiet containerd || die "containerd does not run (install it with runtime.sh first)"
shopt -s nullglob
tars=("$STAGE"/images/*.tar)
[ "${#tars[@]}" -gt 0 ] || die "no image tarballs in $STAGE/images"
for t in "${tars[@]}"; do
    timeout "$NODE_TIMEOUT" ctr -n k8s.io images import "$t" >/dev/null ||
        die "ctr images import $t failed"
done
say "imported ${#tars[@]} images: $(ctr -n k8s.io images ls -q | grep -v '^sha256:' | paste -sd ' ')"
say "ready for kubeadm"
