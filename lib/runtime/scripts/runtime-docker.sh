# shellcheck shell=bash
# Included, not executed: Docker Engine's part of runtime.sh (RUNTIME_KIND=docker): what differs
# from containerd, as data the installer reads and a few commands it calls. runtime-containerd.sh
# is its twin; a new kind is one more such file and one more include line in runtime.sh.
RUNTIME_KINDS+=(docker)

# Sets the kind's data (called by runtime.sh once RUNTIME_KIND is known).
# shellcheck disable=SC2034  # the data is read by runtime.sh
runtime_kind_docker() {
    service=docker
    binary=dockerd
    # The package whose version is pinned, the packages taking the same version, the packages
    # installed at apt's candidate version: from Docker's apt repository, else the distribution's.
    upstream_main=docker-ce upstream_pinned=(docker-ce docker-ce-cli) upstream_extra=(containerd.io)
    distro_main=docker.io distro_pinned=(docker.io) distro_extra=()
}

# Its commands, called by runtime.sh as <kind>_<command>.
docker_daemon_answers() { timeout 10 docker info >/dev/null 2>&1; }
docker_daemon_version() { timeout 10 docker version --format '{{.Server.Version}}'; }
# dockerd must not listen on TCP at all (a root-equivalent API without authentication).
docker_tcp_listeners() { ss -Hltnp 2>/dev/null | grep -F 'users:(("dockerd"' || true; }
docker_cgroup_driver() { timeout 10 docker info --format '{{.CgroupDriver}}'; }

# The live-restore setting the daemon reports is the one configured.
docker_verify_kind() {
    [ -n "${RUNTIME_LIVE_RESTORE:-}" ] || return 0
    local live
    live=$(timeout 10 docker info --format '{{.LiveRestoreEnabled}}')
    [ "$live" = "$RUNTIME_LIVE_RESTORE" ] ||
        die "docker reports live-restore $live, expected $RUNTIME_LIVE_RESTORE (a drop-in or flag overrides /etc/docker/daemon.json?)"
}

# The login user (the one sudo ran this script for) joins the docker group: it has password-less
# sudo already, so this grants nothing new, and `DOCKER_HOST=ssh://<user>@<host>` then works with
# the pool's key (the Docker CLI's ssh helper runs `docker system dial-stdio` without sudo).
docker_after_apply() {
    local user=${SUDO_USER:-}
    if [ -z "$user" ] || [ "$user" = root ] || ! getent group docker >/dev/null; then return 0; fi
    if id -nG "$user" | tr ' ' '\n' | grep -qx docker; then return 0; fi
    usermod -aG docker "$user"
    log "added $user to the docker group (DOCKER_HOST=ssh://$user@<this host> works)"
}
