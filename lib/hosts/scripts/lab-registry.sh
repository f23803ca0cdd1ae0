#!/usr/bin/env bash
# A private image registry on this machine, like a company's: Debian's `docker-registry` package
# (the CNCF Distribution registry, v2 API) on plain HTTP, port REGISTRY_PORT, with htpasswd (bcrypt)
# authentication for one user. Run as root by RemoteScript, one phase per FLOTILLA_PHASE:
#
# create, update: installs docker-registry, apache2-utils (htpasswd) and curl when missing, writes
#         /etc/docker/registry/config.yml (the package's conffile) and /etc/docker/registry/htpasswd,
#         restarts the service when either changed, then waits (bounded) until the registry answers
#         401 without credentials and 200 with them. Idempotent: a second run changes nothing (the
#         htpasswd file is kept while it verifies the password). Prints the listening port last.
# read:   exit 0 when the service runs with an htpasswd file, 3 when it is gone.
# delete: stops the service and purges the packages this script installed, the configuration and
#         the stored images. Idempotent. The machine is the registry's own: a docker-registry
#         installed before is taken over (configuration and password), and on delete stopped and
#         emptied but kept installed.
#
# Environment: REGISTRY_PORT, REGISTRY_USERNAME, REGISTRY_PASSWORD (secret: only ever on stdin of
# htpasswd and in a curl config read from a pipe, never in a command line or the output).
set -euo pipefail

: "${FLOTILLA_PHASE:?FLOTILLA_PHASE must be create, update, read or delete}"
: "${REGISTRY_PORT:?}" "${REGISTRY_USERNAME:?}"

readonly CONFIG_DIR=/etc/docker/registry
readonly CONFIG=$CONFIG_DIR/config.yml
readonly HTPASSWD=$CONFIG_DIR/htpasswd
readonly DATA=/var/lib/docker-registry
readonly SERVICE=docker-registry
# Packages this script installed (so delete removes exactly those).
readonly INSTALLED=/var/lib/flotilla/lab-registry.packages
readonly READY_TIMEOUT=90

export LOG_TAG=lab-registry
# flotilla:include common.sh

# apt_run, apt_install (lock waited for, network errors retried).
# flotilla:include apt.sh

# Installs the packages that are missing and records them in $INSTALLED.
install_missing() {
    apt_install "$@"
    [ "${#APT_INSTALLED[@]}" -eq 0 ] && return 0
    mkdir -p "$(dirname "$INSTALLED")"
    printf '%s\n' "${APT_INSTALLED[@]}" >>"$INSTALLED"
}

# HTTP status of GET /v2/ on the registry; with argument "auth", with the credentials.
status_of_v2() {
    local args=(-s -o /dev/null -w '%{http_code}' --max-time 5)
    if [ "${1:-}" = auth ]; then
        local basic
        basic=$(printf '%s:%s' "$REGISTRY_USERNAME" "$REGISTRY_PASSWORD" | base64 -w 0)
        # The header goes through a curl config on stdin, not the command line (ps would show it).
        printf 'header = "Authorization: Basic %s"\n' "$basic" |
            curl "${args[@]}" -K - "http://127.0.0.1:$REGISTRY_PORT/v2/" || true
    else
        curl "${args[@]}" "http://127.0.0.1:$REGISTRY_PORT/v2/" || true
    fi
}

config_text() {
    cat <<EOF
# Written by flotilla (LabRegistry); changes are overwritten on the next update.
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $DATA
  delete:
    enabled: true
http:
  addr: :$REGISTRY_PORT
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: flotilla-registry
    path: $HTPASSWD
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
}

apply() {
    : "${REGISTRY_PASSWORD:?REGISTRY_PASSWORD must be set}"
    local changed="" tmp deadline unauth auth
    install_missing docker-registry apache2-utils curl
    getent group docker-registry >/dev/null || die "the docker-registry package made no docker-registry group"

    tmp=$(mktemp)
    config_text >"$tmp"
    if ! cmp -s "$tmp" "$CONFIG"; then
        install -D -m 0644 -o root -g root "$tmp" "$CONFIG"
        changed=1
        log "wrote $CONFIG (port $REGISTRY_PORT)"
    fi
    rm -f "$tmp"

    # Keep the htpasswd file while it holds exactly this user with this password (bcrypt salts
    # differ on every run, so rewriting it would restart the registry each time).
    if [ -f "$HTPASSWD" ] && [ "$(cut -d: -f1 "$HTPASSWD")" = "$REGISTRY_USERNAME" ] &&
        printf '%s' "$REGISTRY_PASSWORD" | htpasswd -v -i "$HTPASSWD" "$REGISTRY_USERNAME" >/dev/null 2>&1; then
        :
    else
        tmp=$(mktemp)
        printf '%s' "$REGISTRY_PASSWORD" | htpasswd -c -B -C 10 -i "$tmp" "$REGISTRY_USERNAME" >/dev/null 2>&1 ||
            { rm -f "$tmp"; die "htpasswd could not hash the password"; }
        install -m 0640 -o root -g docker-registry "$tmp" "$HTPASSWD"
        rm -f "$tmp"
        changed=1
        log "wrote $HTPASSWD for user $REGISTRY_USERNAME"
    fi

    systemctl enable --quiet "$SERVICE"
    if [ -n "$changed" ] || ! systemctl is-active --quiet "$SERVICE"; then
        log "restarting $SERVICE"
        systemctl restart "$SERVICE"
    fi

    deadline=$((SECONDS + READY_TIMEOUT))
    while :; do
        unauth=$(status_of_v2)
        auth=$(status_of_v2 auth)
        [ "$unauth" = 401 ] && [ "$auth" = 200 ] && break
        if ((SECONDS >= deadline)); then
            {
                echo "--- systemctl status $SERVICE:"
                systemctl status --no-pager --lines 0 "$SERVICE" 2>&1 || true
                echo "--- journal of $SERVICE:"
                journalctl --no-pager -u "$SERVICE" -n 20 2>&1 || true
            } >&2
            die "GET /v2/ on port $REGISTRY_PORT answered $unauth without and $auth with credentials after ${READY_TIMEOUT}s (expected 401 and 200)"
        fi
        sleep 1
    done
    log "ready on port $REGISTRY_PORT (401 without credentials, 200 with them)"
    echo "$REGISTRY_PORT"
}

check_present() {
    systemctl is-active --quiet "$SERVICE" 2>/dev/null || exit 3
    [ -f "$HTPASSWD" ] || exit 3
}

remove() {
    systemctl disable --now --quiet "$SERVICE" 2>/dev/null || true
    if [ -f "$INSTALLED" ]; then
        local packages=() p
        while read -r p; do
            if [ -n "$p" ] && [ -n "$(package_version "$p")" ]; then
                packages+=("$p")
            fi
        done <"$INSTALLED"
        if [ "${#packages[@]}" -gt 0 ]; then
            log "purging ${packages[*]}"
            apt_run "purging ${packages[*]}" purge "${packages[@]}"
        fi
        rm -f "$INSTALLED"
    fi
    rm -rf "$DATA" "$HTPASSWD"
    if dpkg-query -W -f='${Status}' docker-registry 2>/dev/null | grep -q 'ok installed'; then
        log "docker-registry was installed before flotilla: kept, its images and password removed"
    else
        rm -rf "$CONFIG_DIR"
        rmdir /etc/docker 2>/dev/null || true
    fi
    log "removed"
}

case "$FLOTILLA_PHASE" in
    create | update) apply ;;
    read) check_present ;;
    delete) remove ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE' (create, update, read or delete)" ;;
esac
