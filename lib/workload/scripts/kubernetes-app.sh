#!/usr/bin/env bash
# Applies an app's Kubernetes objects from a control-plane node (create/update), checks they exist
# (read), or removes them (delete). Runs as root on any control-plane node, with kubectl (on PATH,
# /usr/local/bin, or k3s's `k3s kubectl`) and the cluster's admin kubeconfig from the environment
# (written 0600 to a temporary file, removed on exit; never printed).
#
# create/update: creates the namespace when it does not exist (annotated as created for this app,
#   so delete removes it again; with CREATE_NAMESPACE=false it must exist), server-side applies the objects (`--field-manager=flotilla`,
#   conflicts forced: flotilla owns these objects), waits (bounded, ROLLOUT_TIMEOUT in all) for
#   every Deployment/DaemonSet rollout, then prunes: deletes every object of the kinds it renders
#   that carries this app's labels and is not in the new set (a dropped service, an old Secret
#   value, a dropped volume's claim). A rollout not done in time fails with the workload's pods
#   (phase, waiting reasons) and their latest events; with failureAction `rollback` the workload
#   is rolled back first (`kubectl rollout undo`), with `pause` a Deployment is paused. Prints
#   JSON {"<service>":{"ready":N,"desired":N},...} last.
# delete: deletes every object of this app (by its labels, kinds explicit), waits until they are
#   gone, and the namespace if it was created for this app (never with CREATE_NAMESPACE=false).
#
# Environment: APP, NAMESPACE, MANIFEST_GZ (the objects without the Secrets: base64 of gzip of a
# YAML/JSON stream), WANTED (the new set, `kind.group/name` as `kubectl get -o name` prints them,
# space-separated), WORKLOADS (`deployment/<name>` / `daemonset/<name>`, space-separated),
# ROLLOUT_TIMEOUT (s), CREATE_NAMESPACE (`false`: never create or delete the namespace; default true); secret: KUBECONFIG_B64 (the admin kubeconfig, base64), SECRETS_GZ (the
# Secret objects, like MANIFEST_GZ; may be empty).
set -euo pipefail
: "${FLOTILLA_PHASE:?}" "${APP:?}" "${NAMESPACE:?}" "${KUBECONFIG_B64:?}"

export LOG_TAG="kubernetes app $APP"
# flotilla:include common.sh

readonly KINDS=deployments.apps,daemonsets.apps,services,persistentvolumeclaims,secrets
readonly SELECTOR="app.kubernetes.io/part-of=$APP,app.kubernetes.io/managed-by=flotilla"
readonly CREATED_FOR=flotilla.dev/created-for

dir=$(mktemp -d)
chmod 700 "$dir"
trap 'rm -rf "$dir"' EXIT
(umask 077 && printf '%s' "$KUBECONFIG_B64" | base64 -d >"$dir/kubeconfig") || die "KUBECONFIG_B64 is not base64"

if command -v kubectl >/dev/null 2>&1; then
    KUBECTL=(kubectl)
elif [ -x /usr/local/bin/kubectl ]; then
    KUBECTL=(/usr/local/bin/kubectl)
elif command -v k3s >/dev/null 2>&1; then
    KUBECTL=(k3s kubectl)
else
    die "no kubectl on this node (PATH, /usr/local/bin, k3s)"
fi
kc() { "${KUBECTL[@]}" --kubeconfig "$dir/kubeconfig" --request-timeout=30s "$@"; }
kn() { kc --namespace "$NAMESPACE" "$@"; }

# Waits (bounded) until the API server answers.
wait_api() {
    local deadline=$((SECONDS + 120))
    until kc get --raw /readyz >/dev/null 2>"$dir/api.err"; do
        ((SECONDS < deadline)) || die "the API server does not answer after 120s: $(tail -n 1 "$dir/api.err")"
        sleep 2
    done
}

# This app's objects of the rendered kinds, as `kind.group/name`, sorted.
current() { kn get "$KINDS" -l "$SELECTOR" -o name | sort; }

# The pods of a workload and their latest events, for a failure message.
report() {
    local service=${1#*/} pods
    kn get pods -l "app.kubernetes.io/name=$service,app.kubernetes.io/part-of=$APP" -o wide 2>&1 | tail -n 8
    kn get pods -l "app.kubernetes.io/name=$service,app.kubernetes.io/part-of=$APP" \
        -o jsonpath='{range .items[*]}{.metadata.name}: {.status.phase}{range .status.containerStatuses[*]} ready={.ready} restarts={.restartCount}{" "}{.state.waiting.reason}{" "}{.state.waiting.message}{.state.terminated.reason}{end}{"\n"}{end}' 2>&1 |
        tail -n 8
    pods=$(kn get pods -l "app.kubernetes.io/name=$service,app.kubernetes.io/part-of=$APP" -o jsonpath='{.items[*].metadata.name}' 2>/dev/null || true)
    echo "events:"
    kn get events --sort-by=.lastTimestamp -o custom-columns=OBJECT:.involvedObject.name,REASON:.reason,MESSAGE:.message --no-headers 2>/dev/null |
        awk -v pods=" $pods " -v svc="$service" 'index(pods, " " $1 " ") || index($1, svc "-") == 1' | tail -n 10
}

# Waits for every rollout within ROLLOUT_TIMEOUT; on failure applies the workload's failure action
# and dies with the report.
wait_rollouts() {
    local deadline=$((SECONDS + ROLLOUT_TIMEOUT)) w left action note details
    for w in $WORKLOADS; do
        left=$((deadline - SECONDS))
        ((left > 0)) || left=1
        if ! kn rollout status "$w" --timeout="${left}s" >"$dir/rollout.out" 2>&1; then
            # The pods as they are, before any failure action changes them.
            details=$(report "$w")
            action=$(kn get "$w" -o jsonpath='{.metadata.annotations.flotilla\.dev/update-failure-action}' 2>/dev/null || true)
            note=""
            case "$action" in
                rollback)
                    if kn rollout undo "$w" >/dev/null 2>&1; then note=" (rolled back to the previous version)"; else note=" (no previous version to roll back to)"; fi ;;
                pause)
                    case "$w" in deployment/*) kn rollout pause "$w" >/dev/null 2>&1 && note=" (paused)" ;; esac ;;
            esac
            die "$w: rollout not finished within ${ROLLOUT_TIMEOUT}s$note: $(tail -n 1 "$dir/rollout.out")
$details"
        fi
    done
}

ensure_namespace() {
    if ! kc get namespace "$NAMESPACE" >/dev/null 2>&1; then
        [ "${CREATE_NAMESPACE:-true}" != false ] ||
            die "namespace $NAMESPACE does not exist (createNamespace is false: create it first, or let the app create it)"
        kc create namespace "$NAMESPACE" >/dev/null
        kc annotate namespace "$NAMESPACE" "$CREATED_FOR=$APP" >/dev/null
        kc label namespace "$NAMESPACE" app.kubernetes.io/managed-by=flotilla >/dev/null
        log "created namespace $NAMESPACE"
    fi
}

apply() {
    : "${MANIFEST_GZ:?}" "${WANTED:?}" "${ROLLOUT_TIMEOUT:?}"
    wait_api
    ensure_namespace
    printf '%s' "$MANIFEST_GZ" | base64 -d | gunzip >"$dir/objects.yaml" || die "MANIFEST_GZ is not base64 of a gzip-compressed manifest"
    if [ -n "${SECRETS_GZ:-}" ]; then
        (umask 077 && printf '%s' "$SECRETS_GZ" | base64 -d | gunzip >"$dir/secrets.yaml") || die "SECRETS_GZ is not base64 of a gzip-compressed manifest"
        # Secrets first: the pods mount them. Output is names only; errors may quote the object,
        # so only their last line's kind/name part is shown.
        if ! kn apply --server-side --field-manager=flotilla --force-conflicts -f "$dir/secrets.yaml" >/dev/null 2>"$dir/secrets.err"; then
            die "applying the app's Secrets failed: $(grep -o 'Secret "[^"]*"[^:]*' "$dir/secrets.err" | head -n 3 | tr '\n' ' ')(details withheld: they may hold secret values)"
        fi
    fi
    if ! kn apply --server-side --field-manager=flotilla --force-conflicts -f "$dir/objects.yaml" >"$dir/apply.out" 2>&1; then
        tail -n 20 "$dir/apply.out" >&2
        die "kubectl apply --server-side failed"
    fi
    log "applied $(wc -w <<<"$WANTED") objects; waiting for the rollouts (at most ${ROLLOUT_TIMEOUT}s)"
    wait_rollouts
    local object
    for object in $(current); do
        case " $WANTED " in
            *" $object "*) ;;
            *) kn delete "$object" --ignore-not-found --wait=false >/dev/null && log "pruned $object" ;;
        esac
    done
    local json="{" sep="" w ready desired
    for w in $WORKLOADS; do
        case "$w" in
            deployment/*) read -r ready desired <<<"$(kn get "$w" -o jsonpath='{.status.readyReplicas} {.spec.replicas}')" ;;
            *) read -r ready desired <<<"$(kn get "$w" -o jsonpath='{.status.numberReady} {.status.desiredNumberScheduled}')" ;;
        esac
        # An absent readyReplicas means none; read then puts the desired count first.
        if [ -z "${desired:-}" ]; then desired=${ready:-0} ready=0; fi
        json="$json$sep\"${w#*/}\":{\"ready\":${ready:-0},\"desired\":$desired}"
        sep=","
    done
    printf '%s}\n' "$json"
}

remove() {
    wait_api
    kc get namespace "$NAMESPACE" >/dev/null 2>&1 || { log "namespace $NAMESPACE is gone: nothing to remove"; return 0; }
    if [ -n "$(current)" ]; then
        kn delete "$KINDS" -l "$SELECTOR" --ignore-not-found --wait=true --timeout=180s >/dev/null 2>"$dir/delete.err" ||
            die "deleting the app's objects failed: $(tail -n 3 "$dir/delete.err")"
        local deadline=$((SECONDS + 180))
        while [ -n "$(kn get pods -l "app.kubernetes.io/part-of=$APP" -o name 2>/dev/null)" ]; do
            ((SECONDS < deadline)) || die "the app's pods are still there after 180s: $(kn get pods -l "app.kubernetes.io/part-of=$APP" --no-headers 2>&1 | head -n 5)"
            sleep 2
        done
        log "removed the app's objects"
    fi
    if [ "${CREATE_NAMESPACE:-true}" != false ] &&
        [ "$(kc get namespace "$NAMESPACE" -o jsonpath="{.metadata.annotations.flotilla\.dev/created-for}" 2>/dev/null)" = "$APP" ]; then
        kc delete namespace "$NAMESPACE" --wait=true --timeout=180s >/dev/null 2>"$dir/delete.err" ||
            die "deleting namespace $NAMESPACE failed: $(tail -n 3 "$dir/delete.err")"
        log "removed namespace $NAMESPACE"
    fi
}

case "$FLOTILLA_PHASE" in
    create | update) apply ;;
    read)
        kc get --raw /readyz >/dev/null 2>&1 || die "the API server does not answer"
        [ -n "$(kn get deployments.apps,daemonsets.apps -l "$SELECTOR" -o name 2>/dev/null)" ] || exit 3
        ;;
    delete) remove ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE'" ;;
esac
