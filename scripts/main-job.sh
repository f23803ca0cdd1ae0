#!/usr/bin/env bash
# The README's main command, checked as a new user would run it on a fresh clone (CI runs this
# first, before the test suite):
#   1. `npm run up` exactly as the README says;
#   2. HTTP 200 with the demo page from every node of the root program (the stack's `urls` output);
#   3. `npm run down`, then nothing of the pool left on the Docker engine (machines, volumes,
#      networks) and no resource left in the stack.
# Exits non-zero, naming the step, on any failure; a failed check still runs `npm run down`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FLOTILLA_ROOT"

stack="${FLOTILLA_STACK:-dev}"
export FLOTILLA_STACK="$stack"
pool="flotilla-$stack"

down_done=""
cleanup() {
    local rc=$?
    if [ -z "$down_done" ]; then
        say "main job: failed (rc $rc): npm run down, so nothing is left behind"
        npm run --silent down >&2 || say "main job: npm run down failed too"
    fi
    exit "$rc"
}
trap cleanup EXIT

leftovers() {
    docker ps -a --filter "label=flotilla.pool=$pool" --format 'container {{.Names}}'
    docker volume ls --filter "label=flotilla.pool=$pool" --format 'volume {{.Name}}'
    docker network ls --filter "label=flotilla.pool=$pool" --format 'network {{.Name}}'
}

start=$SECONDS
say "main job: npm run up"
npm run --silent up
up_seconds=$((SECONDS - start))

urls=$(bash scripts/pulumi.sh stack output urls --json --stack "$stack")
mapfile -t list < <(printf '%s' "$urls" | node -e 'for (const u of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(u)')
[ "${#list[@]}" -gt 0 ] || die "main job: the stack has no urls output: $urls"
for url in "${list[@]}"; do
    body=""
    for _ in $(seq 1 10); do
        if body=$(curl -fsS --max-time 5 "$url" 2>/dev/null); then break; fi
        body=""
        sleep 3
    done
    case "$body" in
        *flotilla-demo*) say "main job: $url -> HTTP 200 ($(printf '%s' "$body" | head -n 1))" ;;
        *) die "main job: $url did not answer HTTP 200 with the demo page within 30 s" ;;
    esac
done

noop_start=$SECONDS
say "main job: a second npm run up changes nothing"
npm run --silent up -- --expect-no-changes || die "main job: a second npm run up was not a no-op (see above)"
noop_seconds=$((SECONDS - noop_start))

down_start=$SECONDS
say "main job: npm run down"
down_done=1
npm run --silent down
down_seconds=$((SECONDS - down_start))
left=$(leftovers)
[ -z "$left" ] || die "main job: left behind after npm run down: $left"
resources=$(bash scripts/pulumi.sh stack export --stack "$stack" | node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log((d.deployment.resources || []).length)')
[ "$resources" = "0" ] || die "main job: $resources resources left in stack $stack after npm run down"
say "main job: up ${up_seconds}s (${#list[@]} nodes HTTP 200), no-op up ${noop_seconds}s, down ${down_seconds}s, nothing left"
