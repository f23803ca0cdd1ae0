#!/usr/bin/env bash
# Makes sure a Docker engine answers: uses the one there is, else installs Debian's docker.io and
# starts dockerd (through systemd when the machine has it, else as a background process).
# Idempotent; says what it did.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Every lab machine runs systemd, which takes inotify instances from the host's per-user budget
# (shared by all containers): at Linux's default of 128, a dozen machines at once fail to boot
# ("Too many open files"). Raised, never lowered — the limit kind documents for the same reason.
raise_inotify() {
    local key=$1 want=$2 have
    have=$(cat "/proc/sys/fs/inotify/$key" 2>/dev/null || echo "$want")
    if [ "$have" -lt "$want" ]; then
        say "docker: fs.inotify.$key $have -> $want (lab machines run systemd)"
        as_root sysctl -q -w "fs.inotify.$key=$want" || die "could not raise fs.inotify.$key to $want"
    fi
}
raise_inotify max_user_instances 1024
raise_inotify max_user_watches 524288

if timeout 20 docker version >/dev/null 2>&1; then
    say "docker: engine $(docker version --format '{{.Server.Version}}') answers; using it"
    exit 0
fi

if ! command -v dockerd >/dev/null; then
    apt_install docker.io
fi
command -v docker >/dev/null || apt_install docker.io

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    say "docker: starting the docker service with systemd"
    as_root systemctl start docker
else
    # A dockerd that died with the session that started it leaves its pid file behind, and a new
    # dockerd refuses to start while it exists.
    for pidfile in /var/run/docker.pid /run/docker.pid; do
        if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            say "docker: removing stale $pidfile"
            as_root rm -f "$pidfile"
        fi
    done
    log=/var/log/flotilla-dockerd.log
    say "docker: no systemd here; starting dockerd in the background (log: $log)"
    # In a session of its own (setsid): the engine must outlive the shell that started it.
    as_root setsid -f bash -c "exec dockerd >>'$log' 2>&1 </dev/null"
fi

for _ in $(seq 1 60); do
    if timeout 5 docker version >/dev/null 2>&1; then
        say "docker: engine $(docker version --format '{{.Server.Version}}') started"
        exit 0
    fi
    sleep 1
done
tail -n 20 /var/log/flotilla-dockerd.log >&2 2>/dev/null || true
die "dockerd did not answer within 60s"
