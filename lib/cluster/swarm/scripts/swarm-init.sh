#!/usr/bin/env bash
# The swarm itself, run on a manager (the first listed that answers): creates the swarm when that
# manager is in none (FLOTILLA_PHASE create only: on update the swarm exists, and a manager outside
# it is an error, never a second swarm), sets autolock as asked, rotates both join tokens when the
# rotation generation changed (the generation last applied is kept in the swarm, as a label of the
# config flotilla-join-tokens), checks it (read), and does nothing on delete (each node leaves with
# its own join resource). Idempotent. Prints, as its last line, JSON with whether the kernel has
# IPVS, the cluster id, the current join tokens and the unlock key ("" without autolock); the
# component keeps that line secret.
# Environment: ADVERTISE_ADDR (of the manager that initialises), AUTOLOCK (true|false),
# ROTATION (join token generation; "" for none).
set -euo pipefail
export LOG_TAG=swarm
# flotilla:include common.sh
# flotilla:include swarm-common.sh
: "${FLOTILLA_PHASE:?}" "${ADVERTISE_ADDR:?}" "${AUTOLOCK:?}"
ROTATION=${ROTATION:-}
TOKENS_MARK=flotilla-join-tokens

# The join token generation last applied ("" for none).
applied_rotation() { docker config inspect --format '{{index .Spec.Labels "generation"}}' "$TOKENS_MARK" 2>/dev/null || true; }
record_rotation() {
    docker config rm "$TOKENS_MARK" >/dev/null 2>&1 || true
    printf flotilla | docker config create --label "generation=$ROTATION" "$TOKENS_MARK" - >/dev/null
}

case "$FLOTILLA_PHASE" in
    create | update)
        wait_docker
        state=$(swarm_state)
        fresh=false
        case "$state" in
            inactive)
                [ "$FLOTILLA_PHASE" = create ] ||
                    die "this manager is in no swarm, but the swarm exists: list a manager that is already in it first (a new manager joins; it never starts a second swarm)"
                log "initialising the swarm, advertising $ADVERTISE_ADDR (autolock $AUTOLOCK)"
                docker swarm init --autolock="$AUTOLOCK" --advertise-addr "$ADVERTISE_ADDR" --listen-addr "$ADVERTISE_ADDR:2377" >/dev/null
                fresh=true
                ;;
            active)
                [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] ||
                    die "this node is a worker, not a manager, of a swarm; make it leave first"
                log "already manages a swarm"
                ;;
            locked) die "this manager is locked (autolock, restarted): run 'pulumi up --refresh' to unlock it, or 'docker swarm unlock' on it" ;;
            *) die "this node's swarm state is '$state'; expected inactive or active" ;;
        esac
        if [ "$(docker info --format '{{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}')" != "$AUTOLOCK" ]; then
            swarm_retry docker swarm update --autolock="$AUTOLOCK"
            log "autolock is now $AUTOLOCK"
        fi
        if [ -n "$ROTATION" ] && [ "$(applied_rotation)" != "$ROTATION" ]; then
            if [ "$fresh" = false ]; then
                swarm_retry docker swarm join-token --rotate -q worker
                swarm_retry docker swarm join-token --rotate -q manager
                log "rotated the worker and manager join tokens (generation $ROTATION)"
            fi
            record_rotation
        fi
        # The service VIP and the routing mesh need IPVS in the kernel (a lab machine's has none).
        modprobe ip_vs >/dev/null 2>&1 || true
        ipvs=false
        if [ -e /proc/net/ip_vs ]; then ipvs=true; fi
        log "IPVS in the kernel: $ipvs"
        unlock_key=""
        if [ "$AUTOLOCK" = true ]; then unlock_key=$(docker swarm unlock-key -q); fi
        printf '{"ipvs":%s,"clusterId":%s,"workerToken":%s,"managerToken":%s,"unlockKey":%s}\n' "$ipvs" \
            "$(json_str "$(docker info --format '{{.Swarm.Cluster.ID}}')")" \
            "$(json_str "$(docker swarm join-token -q worker)")" \
            "$(json_str "$(docker swarm join-token -q manager)")" \
            "$(json_str "$unlock_key")"
        ;;
    read)
        docker info >/dev/null 2>&1 || exit 3
        state=$(swarm_state)
        # A locked manager is still one (its unlock resource unlocks it).
        [ "$state" = locked ] && exit 0
        [ "$state" = active ] && [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] || exit 3
        ;;
    delete)
        log "the swarm goes with its nodes (each leaves with its join)"
        ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
