# shellcheck shell=bash
# Included, not executed: containerd's part of runtime.sh (RUNTIME_KIND=containerd): what differs
# from Docker Engine, as data the installer reads and a few commands it calls. runtime-docker.sh
# is its twin.
RUNTIME_KINDS+=(containerd)

# Sets the kind's data (called by runtime.sh once RUNTIME_KIND is known).
# shellcheck disable=SC2034  # the data is read by runtime.sh
runtime_kind_containerd() {
    service=containerd
    binary=containerd
    # containerd.io from Docker's apt repository, else the distribution's containerd; one package each.
    upstream_main=containerd.io upstream_pinned=(containerd.io) upstream_extra=()
    distro_main=containerd distro_pinned=(containerd) distro_extra=()
}

# Its commands, called by runtime.sh as <kind>_<command>.
containerd_daemon_answers() { timeout 10 ctr version >/dev/null 2>&1; }
containerd_daemon_version() { timeout 10 ctr version | awk '/^Server:/ { s = 1 } s && $1 == "Version:" { print $2; exit }'; }
# containerd listens on loopback only (its CRI streaming server does, on a random port).
containerd_tcp_listeners() {
    ss -Hltnp 2>/dev/null | grep -F 'users:(("containerd"' |
        awk '$4 !~ /^(127\.[0-9.]+|\[::1\]):[0-9]+$/' || true
}
# The driver its configuration sets (TypeScript renders config.toml and says which).
containerd_cgroup_driver() { echo "${RUNTIME_CGROUP_DRIVER:-systemd}"; }
containerd_verify_kind() { :; }
containerd_after_apply() { :; }
