# shellcheck shell=bash
# Included, not executed: readScript() puts it in place of the "# flotilla:include swarm-common.sh"
# line of the scripts beside it.
# Functions shared by the Swarm scripts (the remote side gets one self-contained program).

log() { printf '%s swarm %s: %s\n' "$(date -u +%H:%M:%S)" "$(hostname)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Waits (bounded) until the Docker daemon answers.
wait_docker() {
    local i
    for i in $(seq 1 60); do
        docker info >/dev/null 2>&1 && return 0
        [ "$i" -eq 1 ] && log "waiting for the Docker daemon"
        sleep 2
    done
    die "the Docker daemon does not answer after 120s (is the runtime installed?)"
}

# This node's swarm state: inactive, pending, active, error or locked.
swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}'; }

# Prints a JSON string literal of $1 (the values here never contain control characters).
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

# Runs a command that changes the swarm, retrying (bounded) when the managers' raft refuses it for
# a moment (leader change, concurrent update of the same object); other failures after 8 tries.
swarm_retry() {
    local attempt=1 err
    err=$(mktemp)
    until "$@" >/dev/null 2>"$err"; do
        if [ "$attempt" -ge 8 ]; then
            log "ERROR: $* failed $attempt times: $(tail -n 1 "$err")"
            rm -f "$err"
            return 1
        fi
        log "$1 $2 failed ($(tail -n 1 "$err")); retrying"
        sleep $((attempt * 2))
        attempt=$((attempt + 1))
    done
    rm -f "$err"
}
