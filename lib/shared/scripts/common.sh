# shellcheck shell=bash
# Included, not executed: readScript() puts it in place of a "# flotilla:include common.sh" line of
# any bundled script (remote scripts stay one self-contained program).
# The helpers every flotilla script shares. The including script sets LOG_TAG (e.g. "swarm") first.

# Logs a line on stderr: time, tag, host name, message.
log() { printf '%s %s %s: %s\n' "$(date -u +%H:%M:%S)" "${LOG_TAG:-flotilla}" "$(hostname 2>/dev/null || echo '?')" "$*" >&2; }
# Logs an error and exits 1.
die() {
    log "ERROR: $*"
    exit 1
}

# Prints a JSON string literal of $1 (quotes, backslashes and control characters escaped).
json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    printf '"%s"' "$s"
}

# retry TRIES DELAY COMMAND...: runs COMMAND until it succeeds, at most TRIES times, waiting
# DELAY * attempt seconds between tries; its stderr's last line is logged on each failure.
retry() {
    local tries=$1 delay=$2 attempt=1 err
    shift 2
    err=$(mktemp)
    until "$@" 2>"$err"; do
        if [ "$attempt" -ge "$tries" ]; then
            log "ERROR: $* failed $attempt times: $(tail -n 1 "$err")"
            rm -f "$err"
            return 1
        fi
        log "$1 failed ($(tail -n 1 "$err")); retrying"
        sleep $((attempt * delay))
        attempt=$((attempt + 1))
    done
    rm -f "$err"
}

# wait_until SECONDS WHAT COMMAND...: waits (bounded) until COMMAND succeeds; dies naming WHAT.
wait_until() {
    local seconds=$1 what=$2 deadline
    shift 2
    deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "$what: not within ${seconds}s"
        sleep 1
    done
}

# Waits (bounded, 120 s) until the Docker daemon answers.
wait_docker() {
    wait_until 120 "the Docker daemon answering (is the runtime installed?)" docker info
}
