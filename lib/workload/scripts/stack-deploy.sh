#!/usr/bin/env bash
# Deploys an app as a Docker stack from a manager (create/update), checks it exists (read), or
# removes it (delete). Runs as root on any manager.
#
# create/update: creates the app's Swarm secrets that do not exist yet (names carry a hash of the
#   value, so a changed value is a new secret), logs in to the private registry if one is given
#   (credentials from stdin, logged out again after), `docker stack deploy --prune`, then waits
#   (bounded) until every service converged: its update finished and running tasks >= desired. A
#   rolled-back or paused update, or a timeout, fails with the services' task errors. Prints JSON
#   {"<service>":{"running":N,"desired":N},...} last. Unused secrets of the stack are removed.
# delete: `docker stack rm`, waits until its services and network are gone, removes its secrets.
#
# Environment: STACK, COMPOSE_GZ (the compose file, JSON, gzip-compressed and base64-encoded: it is
# kept in the state), CONVERGE_TIMEOUT (s), RESOLVE_IMAGE,
# SECRET_COUNT and SECRET_NAME_<i> (i from 0), REGISTRY_SERVER, REGISTRY_USERNAME;
# secret: SECRET_VALUE_<i>, REGISTRY_PASSWORD.
set -euo pipefail
: "${FLOTILLA_PHASE:?}" "${STACK:?}"

export LOG_TAG="stack $STACK"
# flotilla:include common.sh

services() { docker stack services "$STACK" --format '{{.Name}}' 2>/dev/null | sort; }

# The last task errors of a service, for a failure message.
task_errors() {
    docker service ps "$1" --no-trunc --format '  {{.Name}} on {{.Node}}: {{.CurrentState}} {{.Error}}' 2>/dev/null |
        head -n 6
}

# Running and desired task counts of a service, e.g. "3 3".
counts() {
    local replicas
    replicas=$(docker service ls --filter "name=$1" --format '{{.Name}} {{.Replicas}}' | awk -v n="$1" '$1 == n { print $2 }')
    replicas=${replicas%% *}
    printf '%s %s\n' "${replicas%%/*}" "${replicas##*/}"
}

wait_converged() {
    local deadline=$((SECONDS + CONVERGE_TIMEOUT)) pending svc state running desired
    while :; do
        pending=""
        for svc in $(services); do
            state=$(docker service inspect --format '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}' "$svc")
            case "$state" in
                rollback_completed | rollback_paused | paused)
                    die "$svc: update failed and was ${state//_/ }: $(docker service inspect --format '{{.UpdateStatus.Message}}' "$svc")
$(task_errors "$svc")" ;;
                updating | rollback_started) pending="$pending $svc(${state})"; continue ;;
            esac
            read -r running desired <<<"$(counts "$svc")"
            # Tasks of a node that went down still count as running until the node comes back or
            # is removed: more running than desired is converged.
            [ "$running" -ge "$desired" ] || pending="$pending $svc($running/$desired)"
        done
        [ -z "$pending" ] && return 0
        if ((SECONDS >= deadline)); then
            local report="" s
            for s in $(services); do report="$report
$s:
$(task_errors "$s")"; done
            die "not converged after ${CONVERGE_TIMEOUT}s:$pending$report"
        fi
        sleep 2
    done
}

deploy() {
    : "${COMPOSE_GZ:?}" "${CONVERGE_TIMEOUT:?}" "${RESOLVE_IMAGE:?}" "${SECRET_COUNT:?}"
    wait_docker
    [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] || die "this node is not a swarm manager"
    local dir i name value wanted=" "
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' RETURN
    printf '%s' "$COMPOSE_GZ" | base64 -d | gunzip >"$dir/compose.json" || die "COMPOSE_GZ is not base64 of a gzip-compressed compose file"
    for ((i = 0; i < SECRET_COUNT; i++)); do
        name_var="SECRET_NAME_$i" value_var="SECRET_VALUE_$i"
        name=${!name_var} value=${!value_var}
        wanted="$wanted$name "
        if ! docker secret inspect "$name" >/dev/null 2>&1; then
            printf '%s' "$value" | docker secret create --label "flotilla.stack=$STACK" "$name" - >/dev/null
            log "created secret $name"
        fi
    done
    local auth=()
    if [ -n "${REGISTRY_SERVER:-}" ]; then
        printf '%s' "${REGISTRY_PASSWORD:?}" |
            docker login --username "${REGISTRY_USERNAME:?}" --password-stdin "$REGISTRY_SERVER" >/dev/null 2>"$dir/login.err" ||
            die "docker login to $REGISTRY_SERVER failed: $(tail -n 1 "$dir/login.err")"
        auth=(--with-registry-auth)
    fi
    local status=0
    docker stack deploy --compose-file "$dir/compose.json" --prune --resolve-image "$RESOLVE_IMAGE" \
        "${auth[@]}" "$STACK" >"$dir/deploy.out" 2>&1 || status=$?
    [ -n "${REGISTRY_SERVER:-}" ] && docker logout "$REGISTRY_SERVER" >/dev/null 2>&1
    if [ "$status" -ne 0 ]; then
        cat "$dir/deploy.out" >&2
        die "docker stack deploy failed (exit $status)"
    fi
    log "deployed; waiting for the services to converge (at most ${CONVERGE_TIMEOUT}s)"
    wait_converged
    for name in $(docker secret ls --filter "label=flotilla.stack=$STACK" --format '{{.Name}}'); do
        case "$wanted" in *" $name "*) ;; *) docker secret rm "$name" >/dev/null 2>&1 && log "removed unused secret $name" ;; esac
    done
    local json="{" sep="" svc running desired
    for svc in $(services); do
        read -r running desired <<<"$(counts "$svc")"
        json="$json$sep\"${svc#"${STACK}_"}\":{\"running\":$running,\"desired\":$desired}"
        sep=","
    done
    printf '%s}\n' "$json"
}

remove() {
    docker info >/dev/null 2>&1 || { log "no Docker daemon: nothing to remove"; return 0; }
    if [ -n "$(services)" ]; then
        docker stack rm "$STACK" >/dev/null
        local deadline=$((SECONDS + 180))
        while [ -n "$(services)" ] || docker network inspect "${STACK}_default" >/dev/null 2>&1; do
            ((SECONDS < deadline)) || die "stack not removed after 180s"
            sleep 2
        done
        log "removed"
    fi
    local name
    for name in $(docker secret ls --filter "label=flotilla.stack=$STACK" --format '{{.Name}}'); do
        docker secret rm "$name" >/dev/null
    done
}

case "$FLOTILLA_PHASE" in
    create | update) deploy ;;
    read)
        docker info >/dev/null 2>&1 || exit 3
        [ -n "$(services)" ] || exit 3
        ;;
    delete) remove ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
