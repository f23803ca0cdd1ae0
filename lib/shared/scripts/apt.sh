# shellcheck shell=bash
# Included, not executed: readScript() puts it in place of a "# flotilla:include apt.sh" line of any
# bundled script (once, however many of its includes include it too).
# apt-get made sturdy, for every script that installs packages: it waits (bounded) while another
# process (unattended-upgrades, apt-daily, cloud-init) holds the apt/dpkg lock, retries network
# failures with backoff, repairs an interrupted dpkg, and otherwise fails naming what it was doing.
# Settings, read when a function runs:
#   APT_LOG           file apt's output is appended to (default none: the last lines of a failing
#                     command are shown on stderr instead)
#   APT_WAIT_TIMEOUT  seconds the lock may be waited for (default 600)
# Uses log and die: include common.sh before it, or define your own (runtime.sh does: its lines go
# to its log file too). It does not include common.sh itself, so that an own log/die is not
# preceded by common.sh's, never to be called.

# apt_run WHAT ARGS...: runs `apt-get ARGS` non-interactively (-y, keeping changed configuration
# files), logging WHAT when it has to wait or retry; dies when it fails for good.
apt_run() {
    local what=$1
    shift
    local timeout=${APT_WAIT_TIMEOUT:-600} into=${APT_LOG:-/dev/null}
    local deadline=$((SECONDS + timeout)) attempt=1 delay=2 status out holder waited=0
    while :; do
        status=0
        out=$(DEBIAN_FRONTEND=noninteractive apt-get -q -y \
            -o DPkg::Lock::Timeout=5 \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "$@" 2>&1) || status=$?
        printf '%s\n' "$out" >>"$into"
        if [ "$status" -eq 0 ] && ! grep -qE '^(W|E): (Failed to fetch|Some index files failed)' <<<"$out"; then
            if [ "$waited" = 1 ]; then log "$what: the lock was released; done"; fi
            return 0
        fi
        if grep -qE 'Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock (the )?(administration )?directory|is another process using it' <<<"$out"; then
            holder=$(grep -oE 'held by process [0-9]+( \([^)]*\))?' <<<"$out" | head -n 1 || true)
            ((SECONDS < deadline)) ||
                die "$what: the apt/dpkg lock is still held after ${timeout}s (${holder:-unknown holder})"
            if [ "$waited" = 0 ]; then
                log "$what: waiting for the apt/dpkg lock (${holder:-held by another process}; at most ${timeout}s)"
            fi
            waited=1
            sleep 3
            continue
        fi
        if grep -q "dpkg was interrupted" <<<"$out"; then
            log "$what: dpkg was interrupted earlier: running dpkg --configure -a"
            DEBIAN_FRONTEND=noninteractive dpkg --configure -a >>"$into" 2>&1 || die "dpkg --configure -a failed"
            continue
        fi
        if grep -qE 'Failed to fetch|Temporary failure resolving|Could not resolve|Could not connect|Connection failed|Connection timed out|Unable to connect|Hash Sum mismatch|Some index files failed|Unable to fetch|Network is unreachable' <<<"$out" &&
            ((attempt < 6)); then
            log "$what: network error (attempt $attempt of 6); retrying in ${delay}s"
            sleep "$delay"
            attempt=$((attempt + 1))
            delay=$((delay * 2))
            continue
        fi
        if [ "$into" = /dev/null ]; then tail -n 15 <<<"$out" >&2; fi
        die "$what: apt-get $1 failed (exit $status)"
    done
}

# package_version PACKAGE: the installed version of a package, or nothing.
package_version() {
    { dpkg-query -W -f='${Status}|${Version}\n' "$1" 2>/dev/null || true; } |
        awk -F'|' '$1 ~ / ok installed$/ { print $2 }'
}

# apt_install PACKAGE...: installs those not installed yet (apt-get update first; no recommends).
# Sets APT_INSTALLED to the packages it installed (none when all were there).
APT_INSTALLED=()
apt_install() {
    local p
    APT_INSTALLED=()
    for p in "$@"; do
        [ -n "$(package_version "$p")" ] || APT_INSTALLED+=("$p")
    done
    [ "${#APT_INSTALLED[@]}" -gt 0 ] || return 0
    log "apt-get install ${APT_INSTALLED[*]}"
    apt_run "apt-get update" update
    apt_run "installing ${APT_INSTALLED[*]}" install --no-install-recommends "${APT_INSTALLED[@]}"
}
