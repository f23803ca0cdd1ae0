#!/usr/bin/env bash
# Installs and configures a container runtime (Docker Engine or containerd) on one host, as root.
# The same file is delivered two ways: over SSH by RemoteScript (FLOTILLA_PHASE create, update,
# read, delete) for machines that exist, and as a cloud-init user-data part at first boot
# (FLOTILLA_PHASE=create, RUNTIME_IN_CLOUD_INIT=1).
#
# create/update: check the OS (Debian 12, Ubuntu 22.04/24.04), wait (bounded) for cloud-init to
#   finish, then:
#   1. if the installed package already matches the version pin: install nothing, fetch nothing;
#      else (Docker's apt repository: add it) apt-get update and resolve the pin against what apt
#      offers. A pin that matches nothing fails HERE, before anything on the host changed, listing
#      the versions available;
#   2. write the managed configuration files (only those whose content differs);
#   3. install / upgrade / downgrade to the resolved version (apt/dpkg locks waited for, network
#      errors retried with backoff) and hold a pinned version so unattended upgrades leave it alone;
#   4. start the daemon, or restart it when its configuration changed (and the package did not
#      just restart it); verify it answers, has no TCP socket and (docker) the expected live-restore.
#   Prints one JSON line last: runtime, daemon version, package, package version, source.
#   A second run on a host that is as described changes nothing and fetches nothing.
# read:   exit 0 when the runtime is installed as pinned, its daemon runs and the managed files
#         are as described; 3 otherwise (the next up applies it again).
# delete: leaves the runtime installed and configured (removing it would destroy the workloads and
#         their data); prints what it leaves.
#
# Environment:
#   RUNTIME_KIND          docker | containerd
#   RUNTIME_SOURCE        upstream (Docker's apt repository: docker-ce / containerd.io) |
#                         distro (the distribution's docker.io / containerd) | preinstalled (verify only)
#   RUNTIME_VERSION       version pin, or empty for "whatever is installed / the candidate": an
#                         upstream version or its prefix (29.2.1, 1.7) or an exact apt version
#                         (5:29.2.1-1~debian.12~bookworm); the epoch is ignored unless given
#   RUNTIME_APT_URL       base URL of Docker's apt repository (upstream), e.g. https://download.docker.com/linux
#   RUNTIME_FILES         managed files, one per line: "<absolute path> <octal mode> <restart 0|1> <base64>"
#                         (restart 1: a change restarts the daemon)
#   RUNTIME_SECRET_FILES  the same for files holding secrets (their content is never printed)
#   RUNTIME_LIVE_RESTORE  docker: the live-restore setting to verify (true | false)
#   RUNTIME_WAIT_TIMEOUT  seconds each wait may take: cloud-init, the apt/dpkg locks, the daemon
#   RUNTIME_IN_CLOUD_INIT 1 when cloud-init itself runs this (then it must not wait for cloud-init)
#   RUNTIME_OS_RELEASE    the os-release file to read (default /etc/os-release; tests change it)
#   RUNTIME_CGROUP_DRIVER containerd: the cgroup driver its configuration sets (reported in the result)
set -euo pipefail

: "${FLOTILLA_PHASE:?FLOTILLA_PHASE must be create, update, read or delete}"
: "${RUNTIME_KIND:?RUNTIME_KIND must be docker or containerd}"
: "${RUNTIME_SOURCE:?RUNTIME_SOURCE must be upstream, distro or preinstalled}"
RUNTIME_VERSION=${RUNTIME_VERSION:-}
RUNTIME_FILES=${RUNTIME_FILES:-}
RUNTIME_SECRET_FILES=${RUNTIME_SECRET_FILES:-}
RUNTIME_WAIT_TIMEOUT=${RUNTIME_WAIT_TIMEOUT:-600}
RUNTIME_IN_CLOUD_INIT=${RUNTIME_IN_CLOUD_INIT:-0}
RUNTIME_OS_RELEASE=${RUNTIME_OS_RELEASE:-/etc/os-release}

readonly LOG_DIR=/var/log/flotilla
readonly LOG="$LOG_DIR/runtime-$RUNTIME_KIND.log"
readonly STATE_DIR=/var/lib/flotilla
readonly MANIFEST="$STATE_DIR/runtime-$RUNTIME_KIND.files"
readonly KEYRING=/etc/apt/keyrings/docker.asc
readonly APT_SOURCE=/etc/apt/sources.list.d/docker.sources
# Fingerprint of Docker's release signing key (docs.docker.com/engine/install).
readonly DOCKER_KEY_FPR=9DC858229FC7DD38854AE2D88D81803C0EBFCD88
logging=0
log_start=0

say() {
    local line
    line="$(date -u +%H:%M:%S) runtime $RUNTIME_KIND: $*"
    printf '%s\n' "$line" >&2
    if [ "$logging" = 1 ]; then printf '%s\n' "$line" >>"$LOG"; fi
}
die() {
    say "ERROR: $*"
    exit 1
}

# On failure: the last lines of the log (apt's own words), so the error shows what went wrong.
on_exit() {
    local status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 3 ] && [ "$logging" = 1 ]; then
        printf -- '--- last lines of %s on %s:\n' "$LOG" "$(uname -n)" >&2
        tail -n "+$((log_start + 1))" "$LOG" | grep -v '^[0-9:]* runtime [a-z]*: ERROR:' | tail -n 15 >&2 || true
    fi
}
trap on_exit EXIT
# Fail loudly: a command that fails unexpectedly names itself and its line.
set -E
trap 'say "ERROR: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)"' ERR

case "$RUNTIME_KIND" in
    docker) service=docker ;;
    containerd) service=containerd ;;
    *) die "unknown RUNTIME_KIND '$RUNTIME_KIND' (docker or containerd)" ;;
esac
case "$RUNTIME_SOURCE" in
    upstream | distro | preinstalled) ;;
    *) die "unknown RUNTIME_SOURCE '$RUNTIME_SOURCE' (upstream, distro or preinstalled)" ;;
esac

# ---- the OS ---------------------------------------------------------------------------------

os_field() { (
    # shellcheck source=/dev/null
    . "$RUNTIME_OS_RELEASE" && eval "printf '%s' \"\${$1:-}\""
); }

check_os() {
    [ -r "$RUNTIME_OS_RELEASE" ] ||
        die "cannot tell which OS this is ($RUNTIME_OS_RELEASE is missing); supported: Debian 12, Ubuntu 22.04, Ubuntu 24.04"
    os_id=$(os_field ID)
    os_version=$(os_field VERSION_ID)
    os_codename=$(os_field VERSION_CODENAME)
    local pretty
    pretty=$(os_field PRETTY_NAME)
    case "$os_id:$os_version" in
        debian:12 | ubuntu:22.04 | ubuntu:24.04) ;;
        *)
            die "unsupported OS: found '${pretty:-unknown}' (ID=${os_id:-?} VERSION_ID=${os_version:-?}); supported: Debian 12, Ubuntu 22.04, Ubuntu 24.04"
            ;;
    esac
    [ -n "$os_codename" ] || die "$RUNTIME_OS_RELEASE has no VERSION_CODENAME"
}

# ---- waiting --------------------------------------------------------------------------------

# A booting machine runs cloud-init (which may install packages itself): wait until it is done.
wait_cloud_init() {
    if [ "$RUNTIME_IN_CLOUD_INIT" = 1 ]; then
        say "running inside cloud-init: not waiting for it"
        return
    fi
    command -v cloud-init >/dev/null || return 0
    local status=0 state
    timeout "$RUNTIME_WAIT_TIMEOUT" cloud-init status --wait >>"$LOG" 2>&1 || status=$?
    case "$status" in
        0) ;;
        124)
            state=$(cloud-init status 2>/dev/null || true)
            case "$state" in
                *"not run"* | *"not started"*) say "cloud-init has not run on this machine; not waiting for it" ;;
                *) die "cloud-init still running after ${RUNTIME_WAIT_TIMEOUT}s ($state)" ;;
            esac
            ;;
        *) say "warning: cloud-init finished with errors (exit $status); installing anyway" ;;
    esac
}

# Runs apt-get with its output in the log. Waits (bounded) while another process (unattended-upgrades,
# apt-daily, cloud-init) holds an apt/dpkg lock, retries network failures with backoff, repairs an
# interrupted dpkg; otherwise fails.
apt_run() {
    local what=$1
    shift
    local deadline=$((SECONDS + RUNTIME_WAIT_TIMEOUT)) attempt=1 delay=2 status out holder waited=0
    while :; do
        status=0
        out=$(DEBIAN_FRONTEND=noninteractive apt-get -q -y \
            -o DPkg::Lock::Timeout=5 \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "$@" 2>&1) || status=$?
        printf '%s\n' "$out" >>"$LOG"
        if [ "$status" -eq 0 ] && ! grep -qE '^(W|E): (Failed to fetch|Some index files failed)' <<<"$out"; then
            if [ "$waited" = 1 ]; then say "$what: the lock was released; done"; fi
            return 0
        fi
        if grep -qE 'Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock (the )?(administration )?directory|is another process using it' <<<"$out"; then
            holder=$(grep -oE 'held by process [0-9]+( \([^)]*\))?' <<<"$out" | head -n 1 || true)
            ((SECONDS < deadline)) ||
                die "$what: the apt/dpkg lock is still held after ${RUNTIME_WAIT_TIMEOUT}s (${holder:-unknown holder})"
            if [ "$waited" = 0 ]; then
                say "$what: waiting for the apt/dpkg lock (${holder:-held by another process}; at most ${RUNTIME_WAIT_TIMEOUT}s)"
            fi
            waited=1
            sleep 3
            continue
        fi
        if grep -q "dpkg was interrupted" <<<"$out"; then
            say "$what: dpkg was interrupted earlier: running dpkg --configure -a"
            DEBIAN_FRONTEND=noninteractive dpkg --configure -a >>"$LOG" 2>&1 || die "dpkg --configure -a failed"
            continue
        fi
        if grep -qE 'Failed to fetch|Temporary failure resolving|Could not resolve|Could not connect|Connection failed|Connection timed out|Unable to connect|Hash Sum mismatch|Some index files failed|Unable to fetch|Network is unreachable' <<<"$out" &&
            ((attempt < 6)); then
            say "$what: network error (attempt $attempt of 6); retrying in ${delay}s"
            sleep "$delay"
            attempt=$((attempt + 1))
            delay=$((delay * 2))
            continue
        fi
        die "$what: apt-get $1 failed (exit $status)"
    done
}

# ---- packages -------------------------------------------------------------------------------

# The installed version of a package, or nothing.
installed_version() {
    { dpkg-query -W -f='${Status}|${Version}\n' "$1" 2>/dev/null || true; } |
        awk -F'|' '$1 ~ / ok installed$/ { print $2 }'
}

# Versions apt offers for a package, newest first.
available_versions() {
    { apt-cache madison "$1" 2>/dev/null || true; } | awk -F'|' '{ gsub(/ /, "", $2); if (!seen[$2]++) print $2 }'
}

# version_matches VERSION PIN: the exact apt version, or an upstream version or prefix of it
# (1.7 matches 1.7.28-1, 29.2.1 matches 5:29.2.1-1~debian.12~bookworm; 1.6.2 does not match 1.6.20).
version_matches() {
    local v=$1 pin=$2
    [ -n "$pin" ] || return 0
    [ "$v" = "$pin" ] && return 0
    case "$pin" in *:*) return 1 ;; esac
    v=${v#*:}
    [ "$v" = "$pin" ] && return 0
    case "$v" in "$pin".* | "$pin"-* | "$pin"+* | "$pin"~*) return 0 ;; esac
    return 1
}

# Docker's apt repository, as its install guide sets it up (key in /etc/apt/keyrings, deb822 source).
repo_added=0
ensure_docker_repo() {
    : "${RUNTIME_APT_URL:?RUNTIME_APT_URL is needed for the Docker apt repository}"
    local uri="$RUNTIME_APT_URL/$os_id" arch source
    arch=$(dpkg --print-architecture)
    source=$(printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: stable\nArchitectures: %s\nSigned-By: %s\n' \
        "$uri" "$os_codename" "$arch" "$KEYRING")
    if [ -s "$KEYRING" ] && [ -f "$APT_SOURCE" ] && [ "$(cat "$APT_SOURCE")" = "$source" ]; then
        return
    fi
    say "adding Docker's apt repository $uri ($os_codename)"
    if ! command -v curl >/dev/null || ! dpkg-query -W ca-certificates >/dev/null 2>&1; then
        apt_run "apt-get update" update
        apt_run "installing curl and ca-certificates" install --no-install-recommends curl ca-certificates
    fi
    install -m 0755 -d /etc/apt/keyrings
    local key
    key=$(mktemp)
    curl -fsSL --retry 5 --retry-delay 2 --retry-all-errors --connect-timeout 10 --max-time 120 \
        "$uri/gpg" -o "$key" 2>>"$LOG" || die "cannot download Docker's signing key from $uri/gpg"
    if command -v gpg >/dev/null; then
        gpg --show-keys --with-colons "$key" 2>/dev/null | grep -q "^fpr:*$DOCKER_KEY_FPR:" ||
            die "the key at $uri/gpg is not Docker's release key ($DOCKER_KEY_FPR)"
    fi
    install -m 0644 "$key" "$KEYRING"
    rm -f "$key"
    # A source for the same repository in another file would make apt fail ("conflicting values").
    local f
    for f in /etc/apt/sources.list.d/docker.list /etc/apt/sources.list.d/docker-ce.list; do
        if [ -f "$f" ] && grep -qF "$RUNTIME_APT_URL" "$f"; then
            say "replacing $f by $APT_SOURCE"
            rm -f "$f"
        fi
    done
    printf '%s\n' "$source" >"$APT_SOURCE"
    repo_added=1
}

remove_docker_repo() {
    if [ "$repo_added" = 1 ]; then
        rm -f "$APT_SOURCE"
        say "removed Docker's apt repository again (nothing was installed)"
    fi
}

# Sets: main (the package whose version is pinned), pinned (packages taking the same version),
# extra (packages installed at apt's candidate version), binary (the daemon executable).
choose_packages() {
    case "$RUNTIME_KIND:$RUNTIME_SOURCE" in
        docker:upstream) main=docker-ce pinned=(docker-ce docker-ce-cli) extra=(containerd.io) ;;
        docker:*) main=docker.io pinned=(docker.io) extra=() ;;
        containerd:upstream) main=containerd.io pinned=(containerd.io) extra=() ;;
        containerd:*) main=containerd pinned=(containerd) extra=() ;;
    esac
    case "$RUNTIME_KIND" in
        docker) binary=dockerd ;;
        containerd) binary=containerd ;;
    esac
}

source_description() {
    case "$RUNTIME_SOURCE" in
        upstream) printf "Docker's apt repository (%s/%s %s)" "${RUNTIME_APT_URL:-}" "$os_id" "$os_codename" ;;
        *) printf "this machine's apt sources (%s %s)" "$os_id" "$os_codename" ;;
    esac
}

# True when every package is installed and the main one matches the pin: nothing to install.
installed_as_pinned() {
    local v p
    v=$(installed_version "$main")
    [ -n "$v" ] && version_matches "$v" "$RUNTIME_VERSION" || return 1
    for p in "${pinned[@]}" "${extra[@]}"; do
        [ -n "$(installed_version "$p")" ] || return 1
    done
}

# Sets target (the apt version to install), or fails listing what exists. Changes nothing installed.
resolve_version() {
    local versions v
    versions=$(available_versions "$main")
    [ -n "$versions" ] || {
        remove_docker_repo
        die "package $main is not available from $(source_description)"
    }
    target=""
    while IFS= read -r v; do
        if version_matches "$v" "$RUNTIME_VERSION"; then
            target=$v
            break
        fi
    done <<<"$versions"
    if [ -z "$target" ]; then
        remove_docker_repo
        local more=""
        if [ "$(wc -l <<<"$versions")" -gt 12 ]; then more=" ..."; fi
        die "version '$RUNTIME_VERSION' of $main is not available from $(source_description); available: $(head -n 12 <<<"$versions" | paste -sd ' ')$more"
    fi
}

# ---- managed files --------------------------------------------------------------------------

restart_needed=0
files_changed=0

# Writes each listed file whose content or mode differs (atomically: mktemp makes it 0600 until
# it has its content and mode); never prints a content.
write_files() {
    local list=$1 path mode restart data tmp
    [ -n "$list" ] || return 0
    while read -r path mode restart data; do
        [ -n "$path" ] || continue
        case "$path" in
            /*..* | *..*) die "managed file path '$path' contains '..'" ;;
            /*) ;;
            *) die "managed file path '$path' is not absolute" ;;
        esac
        mkdir -p "$(dirname "$path")"
        tmp=$(mktemp "$path.flotilla.XXXXXX")
        if ! printf '%s' "$data" | base64 -d >"$tmp"; then
            rm -f "$tmp"
            die "the content of $path is not valid base64"
        fi
        if [ -f "$path" ] && cmp -s "$tmp" "$path" &&
            [ "$(stat -c %a "$path")" = "$(printf '%o' "$((8#$mode))")" ]; then
            rm -f "$tmp"
            continue
        fi
        chmod "$mode" "$tmp"
        mv -f "$tmp" "$path"
        say "wrote $path"
        files_changed=1
        if [ "$restart" = 1 ]; then restart_needed=1; fi
    done <<<"$list"
}

# Lists "<path> <restart>" of every file described now.
described_files() {
    printf '%s\n%s\n' "$RUNTIME_FILES" "$RUNTIME_SECRET_FILES" | awk 'NF >= 4 { print $1, $3 }'
}

# Removes files an earlier run managed that are no longer described (e.g. a removed credential).
remove_stale_files() {
    [ -f "$MANIFEST" ] || return 0
    local path restart
    while read -r path restart; do
        [ -n "$path" ] || continue
        if ! described_files | awk -v p="$path" '$1 == p { found = 1 } END { exit !found }'; then
            if [ -e "$path" ]; then
                rm -f "$path"
                say "removed $path (no longer described)"
                files_changed=1
                if [ "$restart" = 1 ]; then restart_needed=1; fi
            fi
        fi
    done <"$MANIFEST"
}

apply_files() {
    write_files "$RUNTIME_FILES"
    write_files "$RUNTIME_SECRET_FILES"
    remove_stale_files
    mkdir -p "$STATE_DIR"
    described_files >"$MANIFEST"
}

# True when every described file is there with the described content.
files_as_described() {
    local path mode restart data
    while read -r path mode restart data; do
        [ -n "$path" ] || continue
        [ -f "$path" ] && cmp -s <(printf '%s' "$data" | base64 -d) "$path" || return 1
    done <<<"$(printf '%s\n%s\n' "$RUNTIME_FILES" "$RUNTIME_SECRET_FILES")"
}

# ---- the daemon -----------------------------------------------------------------------------

active_since() {
    systemctl show -p ActiveEnterTimestampMonotonic --value "$service.service" 2>/dev/null || echo 0
}

wait_daemon() {
    local deadline=$((SECONDS + RUNTIME_WAIT_TIMEOUT))
    until daemon_answers; do
        ((SECONDS < deadline)) || die "$service does not answer ${RUNTIME_WAIT_TIMEOUT}s after start: $(systemctl status "$service" --no-pager -n 10 2>&1 | tail -n 10)"
        sleep 1
    done
}

daemon_answers() {
    case "$RUNTIME_KIND" in
        docker) timeout 10 docker info >/dev/null 2>&1 ;;
        containerd) timeout 10 ctr version >/dev/null 2>&1 ;;
    esac
}

daemon_version() {
    case "$RUNTIME_KIND" in
        docker) timeout 10 docker version --format '{{.Server.Version}}' ;;
        containerd) timeout 10 ctr version | awk '/^Server:/ { s = 1 } s && $1 == "Version:" { print $2; exit }' ;;
    esac
}

# No TCP socket: dockerd must not listen on TCP at all (a root-equivalent API without
# authentication); containerd only on loopback (its CRI streaming server does, on a random port).
verify_no_tcp() {
    command -v ss >/dev/null || return 0
    local listeners
    case "$RUNTIME_KIND" in
        docker) listeners=$(ss -Hltnp 2>/dev/null | grep -F 'users:(("dockerd"' || true) ;;
        containerd)
            listeners=$(ss -Hltnp 2>/dev/null | grep -F 'users:(("containerd"' |
                awk '$4 !~ /^(127\.[0-9.]+|\[::1\]):[0-9]+$/' || true)
            ;;
    esac
    if [ -n "$listeners" ]; then
        die "$service listens on TCP ($(awk '{ print $4 }' <<<"$listeners" | paste -sd ' ')): remove the tcp:// host / address options from its unit or configuration"
    fi
}

verify() {
    wait_daemon
    verify_no_tcp
    if [ "$RUNTIME_KIND" = docker ] && [ -n "${RUNTIME_LIVE_RESTORE:-}" ]; then
        local live
        live=$(timeout 10 docker info --format '{{.LiveRestoreEnabled}}')
        [ "$live" = "$RUNTIME_LIVE_RESTORE" ] ||
            die "docker reports live-restore $live, expected $RUNTIME_LIVE_RESTORE (a drop-in or flag overrides /etc/docker/daemon.json?)"
    fi
}

# ---- phases ---------------------------------------------------------------------------------

# The login user (the one sudo ran this script for) joins the docker group: it has password-less
# sudo already, so this grants nothing new, and `DOCKER_HOST=ssh://<user>@<host>` then works with the
# pool's key (the Docker CLI's ssh helper runs `docker system dial-stdio` without sudo).
docker_group() {
    [ "$RUNTIME_KIND" = docker ] || return 0
    local user=${SUDO_USER:-}
    if [ -z "$user" ] || [ "$user" = root ] || ! getent group docker >/dev/null; then return 0; fi
    if id -nG "$user" | tr ' ' '\n' | grep -qx docker; then return 0; fi
    usermod -aG docker "$user"
    say "added $user to the docker group (DOCKER_HOST=ssh://$user@<this host> works)"
}

apply() {
    choose_packages
    wait_cloud_init

    local before_version target="" installed=0 fresh=0 p
    before_version=$(installed_version "$main")
    if [ "$RUNTIME_SOURCE" = preinstalled ]; then
        command -v "$binary" >/dev/null ||
            die "source 'preinstalled' but there is no $binary on this machine: install $RUNTIME_KIND first or choose another source"
        if [ -n "$RUNTIME_VERSION" ]; then
            local have=${before_version:-$("$binary" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+[^ ,]*' | head -n 1)}
            version_matches "$have" "$RUNTIME_VERSION" ||
                die "source 'preinstalled': $RUNTIME_KIND ${have:-of unknown version} is installed, the pin is '$RUNTIME_VERSION'"
        fi
        say "preinstalled $RUNTIME_KIND ${before_version:-}: verifying only"
    elif installed_as_pinned; then
        local matching=""
        if [ -n "$RUNTIME_VERSION" ]; then matching=" and matches the pin '$RUNTIME_VERSION'"; fi
        say "$main $before_version is installed$matching: nothing to install"
    else
        if [ "$RUNTIME_SOURCE" = upstream ]; then ensure_docker_repo; fi
        say "apt-get update"
        apt_run "apt-get update" update
        resolve_version
        installed=1
        if [ -z "$before_version" ]; then fresh=1; fi
    fi

    local since_before
    since_before=$(active_since)
    apply_files
    if [ "$files_changed" = 0 ]; then say "configuration unchanged"; fi

    if [ "$installed" = 1 ]; then
        local args=()
        for p in "${pinned[@]}"; do args+=("$p=$target"); done
        args+=("${extra[@]}")
        say "installing ${args[*]}${before_version:+ (was $main $before_version)}"
        apt_run "installing $main $target" install --no-install-recommends --allow-downgrades \
            --allow-change-held-packages "${args[@]}"
    fi
    if [ -n "$RUNTIME_VERSION" ] && [ "$RUNTIME_SOURCE" != preinstalled ]; then
        for p in "${pinned[@]}"; do
            if ! apt-mark showhold | grep -qx "$p"; then
                apt-mark hold "$p" >>"$LOG"
                say "held $p at its pinned version"
            fi
        done
    fi

    systemctl is-enabled --quiet "$service" 2>/dev/null || systemctl enable "$service" >>"$LOG" 2>&1
    if ! systemctl is-active --quiet "$service"; then
        say "starting $service"
        systemctl start "$service" || die "$service failed to start: $(journalctl -u "$service" --no-pager -n 10 2>&1)"
    elif [ "$restart_needed" = 1 ] || { [ "$installed" = 1 ] && [ "$fresh" = 0 ]; }; then
        if [ "$(active_since)" = "$since_before" ]; then
            say "restarting $service (its configuration or package changed)"
            systemctl restart "$service" || die "$service failed to restart: $(journalctl -u "$service" --no-pager -n 10 2>&1)"
        fi
    fi
    verify
    docker_group

    local version package_version cgroup_driver
    version=$(daemon_version)
    package_version=$(installed_version "$main")
    case "$RUNTIME_KIND" in
        docker) cgroup_driver=$(timeout 10 docker info --format '{{.CgroupDriver}}') ;;
        containerd) cgroup_driver=${RUNTIME_CGROUP_DRIVER:-systemd} ;;
    esac
    say "done in ${SECONDS}s: $RUNTIME_KIND $version${package_version:+ (package $main $package_version)}, cgroup driver $cgroup_driver"
    printf '{"runtime":"%s","version":"%s","package":"%s","packageVersion":"%s","source":"%s","cgroupDriver":"%s"}\n' \
        "$RUNTIME_KIND" "$version" "${package_version:+$main}" "$package_version" "$RUNTIME_SOURCE" "$cgroup_driver"
}

check_present() {
    choose_packages
    command -v "$binary" >/dev/null || exit 3
    systemctl is-active --quiet "$service" || exit 3
    if [ "$RUNTIME_SOURCE" != preinstalled ]; then
        installed_as_pinned || exit 3
    fi
    files_as_described || exit 3
}

check_os
[ "$(id -u)" -eq 0 ] || die "must run as root"
case "$FLOTILLA_PHASE" in
    create | update)
        install -d -m 0700 "$LOG_DIR"
        if [ -f "$LOG" ]; then log_start=$(wc -l <"$LOG"); fi
        logging=1
        printf '=== %s %s: source %s, version pin %s\n' "$(date -u +%FT%TZ)" "$FLOTILLA_PHASE" \
            "$RUNTIME_SOURCE" "${RUNTIME_VERSION:-none}" >>"$LOG"
        apply
        ;;
    read) check_present ;;
    delete)
        say "leaving $RUNTIME_KIND installed and configured on $(uname -n) (its containers and data stay)"
        ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE' (create, update, read or delete)" ;;
esac
