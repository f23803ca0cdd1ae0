#!/usr/bin/env bash
# Creates (FLOTILLA_PHASE=create), checks (read) or removes (FLOTILLA_PHASE=delete) one lab machine:
# a systemd container on the local Docker engine, configured by cloud-init's NoCloud datasource like
# a cloud VM.
#
# create: container with a fixed address on the pool network and its own volumes for
#         /var/lib/docker and /var/lib/containerd (a runtime inside needs a non-overlay filesystem),
#         the NoCloud seed copied in before the first boot, then a bounded wait until systemd has
#         booted, cloud-init is done and sshd answers. Prints the container id last.
#         Idempotent: a running, ready machine with the same name is kept as it is.
# read:   exit 0 when the container runs, 3 when it is gone or stopped (a refresh then drops it from
#         the state and the next up makes it again).
# delete: removes the container and its volumes, and the cgroups a kubelet made under the
#         machine's own cgroup in hierarchies Docker does not manage (hugetlb, perf_event, ...);
#         nothing left behind. Idempotent.
#
# Environment: MACHINE_NAME, MACHINE_POOL, MACHINE_NETWORK, MACHINE_ADDRESS, MACHINE_IMAGE,
# MACHINE_BOOT_TIMEOUT (seconds), MACHINE_META_DATA, MACHINE_USER_DATA_GZ (secret, base64 of the
# gzip-compressed user data; never printed), MACHINE_KUBERNETES (1: the machine may run a kubelet,
# which needs /dev/kmsg: `--device /dev/kmsg`).
set -euo pipefail

: "${FLOTILLA_PHASE:?FLOTILLA_PHASE must be create, read or delete}"
: "${MACHINE_NAME:?}" "${MACHINE_POOL:?}"

readonly volumes=("${MACHINE_NAME}-docker" "${MACHINE_NAME}-containerd")

export LOG_TAG="lab-machine $MACHINE_NAME"
# flotilla:include common.sh

command -v docker >/dev/null || die "the docker CLI is not installed on this machine"
timeout 20 docker version >/dev/null 2>&1 || die "no Docker engine answers (docker version failed): start dockerd"

# Prints what is known about a machine that did not become ready, then fails.
fail_with_logs() {
    log "ERROR: $1"
    {
        echo "--- docker state: $(docker inspect --format '{{.State.Status}} exit={{.State.ExitCode}} {{.State.Error}}' "$MACHINE_NAME" 2>&1)"
        echo "--- failed units:"
        timeout 10 docker exec "$MACHINE_NAME" systemctl --failed --no-legend --plain 2>&1 || true
        echo "--- cloud-init status:"
        timeout 10 docker exec "$MACHINE_NAME" cloud-init status --long 2>&1 || true
        echo "--- tail of /var/log/cloud-init-output.log:"
        timeout 10 docker exec "$MACHINE_NAME" tail -n 15 /var/log/cloud-init-output.log 2>&1 || true
        echo "--- tail of the journal:"
        timeout 10 docker exec "$MACHINE_NAME" journalctl --no-pager -n 15 2>&1 || docker logs --tail 15 "$MACHINE_NAME" 2>&1 || true
    } >&2
    exit 1
}

# Bounded wait for: systemd booted, cloud-init finished without error, sshd answering on the address.
wait_ready() {
    local deadline=$((SECONDS + MACHINE_BOOT_TIMEOUT)) state="" status
    while :; do
        state=$(timeout 10 docker exec "$MACHINE_NAME" systemctl is-system-running 2>/dev/null || true)
        case "$state" in
            running) break ;;
            degraded) fail_with_logs "systemd reports 'degraded': a unit failed at boot" ;;
        esac
        [ "$(docker inspect --format '{{.State.Running}}' "$MACHINE_NAME")" = true ] ||
            fail_with_logs "the container stopped during boot"
        ((SECONDS < deadline)) || fail_with_logs "systemd not running after ${MACHINE_BOOT_TIMEOUT}s (state '$state')"
        sleep 1
    done
    while :; do
        status=0
        timeout 10 docker exec "$MACHINE_NAME" cloud-init status >/dev/null 2>&1 || status=$?
        case "$status" in
            0) break ;;
            1 | 2) fail_with_logs "cloud-init finished with errors (exit $status)" ;;
        esac
        ((SECONDS < deadline)) || fail_with_logs "cloud-init not done after ${MACHINE_BOOT_TIMEOUT}s"
        sleep 1
    done
    until timeout 3 bash -c "exec 3<>/dev/tcp/$MACHINE_ADDRESS/22" 2>/dev/null; do
        ((SECONDS < deadline)) || fail_with_logs "sshd not answering on $MACHINE_ADDRESS:22 after ${MACHINE_BOOT_TIMEOUT}s"
        sleep 1
    done
}

create() {
    : "${MACHINE_NETWORK:?}" "${MACHINE_ADDRESS:?}" "${MACHINE_IMAGE:?}" "${MACHINE_BOOT_TIMEOUT:?}"
    : "${MACHINE_META_DATA:?}" "${MACHINE_USER_DATA_GZ:?}"
    docker image inspect "$MACHINE_IMAGE" >/dev/null 2>&1 ||
        die "image $MACHINE_IMAGE not found on the Docker engine (the pool's image step makes sure of it; was it removed since?)"

    if docker container inspect "$MACHINE_NAME" >/dev/null 2>&1; then
        if [ "$(docker inspect --format '{{.State.Running}}' "$MACHINE_NAME")" = true ]; then
            log "exists and runs; checking it is ready"
            wait_ready
            docker inspect --format '{{.Id}}' "$MACHINE_NAME"
            return
        fi
        log "exists but is not running: recreating it"
        docker rm -f "$MACHINE_NAME" >/dev/null
    fi

    # A machine that fails to come up is removed with its volumes (its logs are in the error):
    # a failed create leaves nothing behind.
    trap 'status=$?; if [ "$status" -ne 0 ]; then log "create failed: removing the machine"; delete; fi' EXIT

    local v devices=()
    # The kubelet's OOM watcher reads the kernel log (docs/kubernetes-lab.md).
    if [ "${MACHINE_KUBERNETES:-0}" = 1 ]; then devices=(--device /dev/kmsg); fi
    for v in "${volumes[@]}"; do
        docker volume create --label "flotilla.pool=$MACHINE_POOL" "$v" >/dev/null
    done
    docker create \
        --name "$MACHINE_NAME" \
        --hostname "$MACHINE_NAME" \
        --label "flotilla.pool=$MACHINE_POOL" \
        --network "$MACHINE_NETWORK" \
        --ip "$MACHINE_ADDRESS" \
        --cap-add ALL --cap-drop SYS_RESOURCE \
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --cgroupns host \
        -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
        --tmpfs /run --tmpfs /run/lock \
        -v "${volumes[0]}:/var/lib/docker" \
        -v "${volumes[1]}:/var/lib/containerd" \
        "${devices[@]}" \
        "$MACHINE_IMAGE" >/dev/null

    # The NoCloud seed goes in before the first boot, as a cloud's metadata service would serve it:
    # a tar stream, so the seed directories are created root-owned whatever the image has.
    local seed
    seed=$(mktemp -d)
    chmod 700 "$seed"
    printf '%s' "$MACHINE_META_DATA" >"$seed/meta-data"
    # gzip-compressed, as cloud-init accepts user data from any datasource (and as AWS needs it to
    # stay under 16 KB): the very document a cloud VM gets.
    (umask 077 && printf '%s' "$MACHINE_USER_DATA_GZ" | base64 -d >"$seed/user-data")
    tar -C "$seed" --owner=0 --group=0 --transform 's,^\.,var/lib/cloud/seed/nocloud,' -cf - . |
        docker cp - "$MACHINE_NAME:/"
    rm -rf "$seed"

    docker start "$MACHINE_NAME" >/dev/null
    log "started at $MACHINE_ADDRESS; waiting for boot, cloud-init and sshd (at most ${MACHINE_BOOT_TIMEOUT}s)"
    wait_ready
    log "ready after ${SECONDS}s"
    docker inspect --format '{{.Id}}' "$MACHINE_NAME"
}

delete() {
    local id="" dir
    if docker container inspect "$MACHINE_NAME" >/dev/null 2>&1; then
        id=$(docker inspect --format '{{.Id}}' "$MACHINE_NAME")
        docker rm -f "$MACHINE_NAME" >/dev/null
        log "container removed"
    fi
    # A kubelet in the machine (cgroupRoot = the machine's cgroup, made in every v1 hierarchy)
    # leaves cgroups where Docker does not clean up. Only empty directories can go: rmdir, deepest
    # first.
    if [[ "$id" =~ ^[0-9a-f]{64}$ ]]; then
        for dir in /sys/fs/cgroup/*/docker/"$id"; do
            [ -d "$dir" ] || continue
            find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
            if [ -d "$dir" ]; then log "WARNING: could not remove $dir (still in use?)"; fi
        done
    fi
    local v
    for v in "${volumes[@]}"; do
        if docker volume inspect "$v" >/dev/null 2>&1; then
            docker volume rm "$v" >/dev/null
        fi
    done
    log "gone"
}

check_present() {
    [ "$(docker inspect --format '{{.State.Running}}' "$MACHINE_NAME" 2>/dev/null)" = true ] || exit 3
}

case "$FLOTILLA_PHASE" in
    create) create ;;
    read) check_present ;;
    delete) delete ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE' (create, read or delete)" ;;
esac
