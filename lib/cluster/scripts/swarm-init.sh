#!/usr/bin/env bash
# Creates the swarm on its first manager (FLOTILLA_PHASE create/update), checks it (read), or
# dissolves it (delete: the last manager leaves). Idempotent: a node that already manages a swarm is
# left as it is. Prints, as its last line, JSON with whether the kernel has IPVS, the cluster id and
# the join tokens (the component keeps that line secret).
# Environment: ADVERTISE_ADDR.
set -euo pipefail
export LOG_TAG=swarm
# flotilla:include common.sh
# flotilla:include swarm-common.sh
: "${FLOTILLA_PHASE:?}" "${ADVERTISE_ADDR:?}"

case "$FLOTILLA_PHASE" in
    create | update)
        wait_docker
        state=$(swarm_state)
        case "$state" in
            inactive)
                log "initialising the swarm, advertising $ADVERTISE_ADDR"
                docker swarm init --advertise-addr "$ADVERTISE_ADDR" --listen-addr "$ADVERTISE_ADDR:2377" >/dev/null
                ;;
            active)
                [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] ||
                    die "this node is already a worker of another swarm; make it leave first"
                log "already manages a swarm; nothing to do"
                ;;
            *) die "this node's swarm state is '$state'; expected inactive or active" ;;
        esac
        # The service VIP and the routing mesh need IPVS in the kernel (a lab machine's has none).
        modprobe ip_vs >/dev/null 2>&1 || true
        ipvs=false
        if [ -e /proc/net/ip_vs ]; then ipvs=true; fi
        log "IPVS in the kernel: $ipvs"
        printf '{"ipvs":%s,"clusterId":%s,"nodeId":%s,"workerToken":%s,"managerToken":%s}\n' "$ipvs" \
            "$(json_str "$(docker info --format '{{.Swarm.Cluster.ID}}')")" \
            "$(json_str "$(docker info --format '{{.Swarm.NodeID}}')")" \
            "$(json_str "$(docker swarm join-token -q worker)")" \
            "$(json_str "$(docker swarm join-token -q manager)")"
        ;;
    read)
        docker info >/dev/null 2>&1 || exit 3
        [ "$(swarm_state)" = active ] && [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] || exit 3
        ;;
    delete)
        if docker info >/dev/null 2>&1 && [ "$(swarm_state)" != inactive ]; then
            docker swarm leave --force >/dev/null
            log "left (the swarm is dissolved)"
        fi
        ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
