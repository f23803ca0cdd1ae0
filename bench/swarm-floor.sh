#!/usr/bin/env bash
# The floor of bench/swarm.ts: the steps of the root program (N lab machines running a Swarm, one
# more running a private registry, the demo image pushed there and run on every node) done by a
# plain parallel shell script, with no Pulumi, no SSH and no idempotence checks.
#
#   1. a bridge network; N+1 lab containers from flotilla-lab:debian12 started with the docker run
#      flags of lib/hosts/scripts/lab-machine.sh (a minimal NoCloud seed, no user data), then a
#      bounded wait until systemd reports `running`;
#   2. in parallel: docker.io from Debian on the N cluster machines (the registry in daemon.json's
#      insecure-registries, live-restore off), and docker-registry + htpasswd auth on the extra one
#      (as lib/hosts/scripts/lab-registry.sh), then the demo image pushed with skopeo from here;
#   3. `docker swarm init` on machine 0, the other managers and the workers joining in parallel;
#   4. docker login + `docker service create --mode global` (host-published port 8080) on machine 0;
#   5. poll every node's port 8080 from here until one answers HTTP 200.
#
# Prints the progress on stderr and, last on stdout, `FLOOR_SECONDS=<start to first HTTP 200>`.
# Everything is labelled flotilla.pool=flt-t-floor<pid> (the lab tests' stale cleanup recognises it)
# and removed on exit, whatever happened.
#
# Usage: bench/swarm-floor.sh N   (N cluster machines: 3 managers and N-3 workers, or N managers when N<3)
# Environment: FLOOR_SUBNET (default 10.213.160.0/27), FLOOR_TIMEOUT (seconds per wait, default 900).
set -euo pipefail

readonly N=${1:?usage: swarm-floor.sh N (cluster machines)}
[[ $N =~ ^[1-9][0-9]?$ ]] || { echo "N must be 1..99, not '$N'" >&2; exit 2; }
readonly SUBNET=${FLOOR_SUBNET:-10.213.160.0/27}
readonly TIMEOUT=${FLOOR_TIMEOUT:-900}
readonly POOL="flt-t-floor$$"
readonly NET="$POOL-net"
readonly LAB_IMAGE=flotilla-lab:debian12
readonly DEMO_IMAGE=flotilla-demo:v1
readonly REG_USER=flotilla
REG_PASS=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
readonly REG_PASS
readonly MANAGERS=$((N < 3 ? N : 3))

# Addresses: the network's first address + 1 is the gateway, machine i has the (i+2)-th address.
[[ $SUBNET =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.([0-9]+)/([0-9]+)$ ]] || { echo "bad FLOOR_SUBNET $SUBNET" >&2; exit 2; }
readonly BASE=${BASH_REMATCH[1]} FIRST=${BASH_REMATCH[2]}
((N + 3 <= (1 << (32 - BASH_REMATCH[3])))) || { echo "$SUBNET is too small for $((N + 1)) machines" >&2; exit 2; }
addr() { echo "$BASE.$((FIRST + 2 + $1))"; }
name() { echo "$POOL-$1"; }
REGISTRY="$(addr "$N"):5000"
readonly REGISTRY

START=$EPOCHREALTIME
elapsed() { awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '%s +%ss floor: %s\n' "$(date -u +%H:%M:%S)" "$(elapsed)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

WORK=$(mktemp -d)
cleanup() {
    local status=$? i
    trap - EXIT
    log "cleaning up (exit $status)"
    for ((i = 0; i <= N; i++)); do
        docker rm -f "$(name "$i")" >/dev/null 2>&1 || true
        docker volume rm "$(name "$i")-docker" "$(name "$i")-containerd" >/dev/null 2>&1 || true
    done
    docker network rm "$NET" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs "$@" in the background with its output in $WORK/<tag>.log; `wait_jobs` collects them.
JOBS=()
TAGS=()
spawn() {
    local tag=$1
    shift
    "$@" >"$WORK/$tag.log" 2>&1 &
    JOBS+=("$!")
    TAGS+=("$tag")
}
wait_jobs() {
    local i failed=""
    for i in "${!JOBS[@]}"; do
        if ! wait "${JOBS[$i]}"; then
            failed+=" ${TAGS[$i]}"
            echo "--- ${TAGS[$i]}:" >&2
            tail -n 20 "$WORK/${TAGS[$i]}.log" >&2
        fi
    done
    JOBS=()
    TAGS=()
    [ -z "$failed" ] || die "failed:$failed"
}

on() { timeout 900 docker exec -i "$(name "$1")" "${@:2}"; }

# Same flags as lib/hosts/scripts/lab-machine.sh; a NoCloud seed with no user data.
start_machine() {
    local i=$1 n seed state deadline=$((SECONDS + TIMEOUT))
    n=$(name "$i")
    docker volume create --label "flotilla.pool=$POOL" "$n-docker" >/dev/null
    docker volume create --label "flotilla.pool=$POOL" "$n-containerd" >/dev/null
    docker create --name "$n" --hostname "$n" --label "flotilla.pool=$POOL" \
        --network "$NET" --ip "$(addr "$i")" \
        --cap-add ALL --cap-drop SYS_RESOURCE \
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
        --tmpfs /run --tmpfs /run/lock \
        -v "$n-docker:/var/lib/docker" -v "$n-containerd:/var/lib/containerd" \
        "$LAB_IMAGE" >/dev/null
    seed=$(mktemp -d)
    printf 'instance-id: %s\nlocal-hostname: %s\n' "$n" "$n" >"$seed/meta-data"
    printf '#cloud-config\n{}\n' >"$seed/user-data"
    tar -C "$seed" --owner=0 --group=0 --transform 's,^\.,var/lib/cloud/seed/nocloud,' -cf - . | docker cp - "$n:/"
    rm -rf "$seed"
    docker start "$n" >/dev/null
    until state=$(timeout 10 docker exec "$n" systemctl is-system-running 2>/dev/null) || [ "$state" = degraded ]; do
        ((SECONDS < deadline)) || { echo "$n: systemd not running after ${TIMEOUT}s ($state)"; return 1; }
        sleep 1
    done
    [ "$state" = running ] || { docker exec "$n" systemctl --failed --no-legend >&2; echo "$n: systemd $state"; return 1; }
}

APT='DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold'

install_docker() {
    on "$1" bash -euo pipefail -c "
        mkdir -p /etc/docker
        printf '{\"insecure-registries\": [\"%s\"], \"live-restore\": false}\n' '$REGISTRY' >/etc/docker/daemon.json
        $APT update
        $APT install --no-install-recommends docker.io
        systemctl enable --now docker
        for _ in \$(seq 120); do timeout 10 docker info >/dev/null 2>&1 && exit 0; sleep 1; done
        echo 'docker does not answer'; exit 1"
}

install_registry() {
    on "$N" bash -euo pipefail -c "
        pass=\$(cat)
        $APT update
        $APT install --no-install-recommends docker-registry apache2-utils curl
        cat >/etc/docker/registry/config.yml <<'EOF'
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: flotilla-registry
    path: /etc/docker/registry/htpasswd
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
        printf '%s' \"\$pass\" | htpasswd -c -B -C 10 -i /etc/docker/registry/htpasswd $REG_USER
        chown root:docker-registry /etc/docker/registry/htpasswd
        chmod 0640 /etc/docker/registry/htpasswd
        systemctl restart docker-registry
        for _ in \$(seq 90); do
            [ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:5000/v2/)\" = 401 ] && exit 0
            sleep 1
        done
        echo 'the registry does not answer 401'; exit 1" <<<"$REG_PASS"
    local creds="$WORK/auth.json"
    printf '{"auths":{"%s":{"auth":"%s"}}}' "$REGISTRY" "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w 0)" >"$creds"
    timeout 600 skopeo copy --quiet "docker-daemon:$DEMO_IMAGE" "docker://$REGISTRY/$DEMO_IMAGE" \
        --dest-tls-verify=false --dest-authfile "$creds"
}

join() {
    local i=$1 token=$2
    on "$i" docker swarm join --advertise-addr "$(addr "$i")" --token "$token" "$(addr 0):2377"
}

# Polls port 8080 of every node every 0.2 s (each probe in the background); prints the first node
# that answered HTTP 200.
first_200() {
    local deadline=$((SECONDS + TIMEOUT)) i hit="$WORK/first-200"
    while ((SECONDS < deadline)); do
        for ((i = 0; i < N; i++)); do
            (
                code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$(addr "$i"):8080/" || true)
                if [ "$code" = 200 ]; then echo "$i" >>"$hit"; fi
            ) &
        done
        sleep 0.2
        if [ -s "$hit" ]; then
            head -n 1 "$hit"
            return 0
        fi
    done
    return 1
}

for cmd in docker skopeo curl awk; do command -v "$cmd" >/dev/null || die "$cmd is not installed"; done
docker image inspect "$LAB_IMAGE" "$DEMO_IMAGE" >/dev/null 2>&1 || die "$LAB_IMAGE or $DEMO_IMAGE missing (scripts/lab-image.sh, scripts/demo-image.sh)"

log "N=$N ($MANAGERS managers, $((N - MANAGERS)) workers) + registry, pool $POOL, subnet $SUBNET"
docker network create --driver bridge --subnet "$SUBNET" --gateway "$BASE.$((FIRST + 1))" \
    --label "flotilla.pool=$POOL" "$NET" >/dev/null
for ((i = 0; i <= N; i++)); do spawn "boot$i" start_machine "$i"; done
wait_jobs
log "$((N + 1)) machines booted"

for ((i = 0; i < N; i++)); do spawn "docker$i" install_docker "$i"; done
spawn registry install_registry
wait_jobs
log "docker on $N machines, registry up with $DEMO_IMAGE"

on 0 docker swarm init --advertise-addr "$(addr 0)" >/dev/null
MANAGER_TOKEN=$(on 0 docker swarm join-token -q manager)
WORKER_TOKEN=$(on 0 docker swarm join-token -q worker)
for ((i = 1; i < N; i++)); do
    if ((i < MANAGERS)); then spawn "join$i" join "$i" "$MANAGER_TOKEN"; else spawn "join$i" join "$i" "$WORKER_TOKEN"; fi
done
wait_jobs
log "swarm of $N nodes"

on 0 docker login --username "$REG_USER" --password-stdin "$REGISTRY" <<<"$REG_PASS" >/dev/null 2>&1 || die "docker login failed"
on 0 docker service create --detach --quiet --name web --with-registry-auth --mode global \
    --publish mode=host,target=8080,published=8080 --limit-cpu 0.25 --limit-memory 32M \
    "$REGISTRY/$DEMO_IMAGE" >/dev/null
on 0 docker logout "$REGISTRY" >/dev/null
log "service created; polling port 8080 of the nodes"

node=$(first_200) || die "no HTTP 200 from any node after ${TIMEOUT}s"
took=$(elapsed)
log "first HTTP 200 from machine $node ($(addr "$node")) after ${took}s"
echo "FLOOR_SECONDS=$took"
