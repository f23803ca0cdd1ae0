#!/usr/bin/env bash
# demo-image.sh: build the tiny demo web image `flotilla-demo:<tag>` on the local Docker engine,
# with no registry: FROM scratch, one static busybox (Debian's busybox-static) and two files.
#
# Usage:  ref=$(bash scripts/demo-image.sh <tag> [good|unhealthy] | tail -n 1)
#   <tag>     image tag and version, e.g. v1, v2 ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})
#   variant   good (default): GET /healthz answers "ok" and the Docker health check passes.
#             unhealthy: serves / exactly the same, but /healthz is missing (404), so the Docker
#             HEALTHCHECK (and any HTTP probe of /healthz) always fails: an orchestrator must roll
#             it back.
#   Progress goes to stderr; the LAST line of stdout is the image reference (flotilla-demo:<tag>).
#
# The image: `busybox httpd -f -p 8080 -h /www` as user 65534 (nobody), under a `busybox sh` that
# exits on SIGTERM/SIGINT (a process that is PID 1 ignores signals it has no handler for, so a bare
# httpd would make every stop wait for the kill timeout). Files:
#   /index.html  "flotilla-demo <tag>" and "variant: <variant>" on two lines
#   /healthz     "ok" (good variant only)
# HEALTHCHECK every 2 s: `busybox wget -q -O- http://127.0.0.1:8080/healthz` (the check's own
# timeout is 2 s; busybox 1.35's `wget -T` crashes in this static build), 3 retries, 3 s start
# period: healthy ~2 s after start, unhealthy ~6-9 s after start.
#
# Idempotent: an existing image of that tag built by this same script for the same variant
# (labels flotilla.demo.*) is kept as it is (same image ID, same digest when pushed); anything
# else with that tag is replaced. The busybox-static .deb comes from an installed busybox-static,
# else from ${FLOTILLA_CACHE_DIR:-$HOME/.cache/flotilla}/demo-image/, else `apt-get download`
# (into that cache). Concurrent runs serialise on a lock there. Every step is bounded.
set -euo pipefail

readonly REPO=flotilla-demo
readonly CACHE_DIR="${FLOTILLA_CACHE_DIR:-$HOME/.cache/flotilla}/demo-image"

log() { printf 'demo-image: %s\n' "$*" >&2; }
die() { printf 'demo-image: ERROR: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: demo-image.sh <tag> [good|unhealthy]  (e.g. demo-image.sh v1)"; }

[[ $# -ge 1 && $# -le 2 ]] || usage
tag=$1
variant=${2:-good}
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] ||
  die "tag '$tag' is not a Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-], at most 128 characters)"
case "$variant" in
  good | unhealthy) ;;
  *) die "variant '$variant' is not one of: good, unhealthy" ;;
esac
readonly REF="$REPO:$tag"

script_path="$(readlink -f "${BASH_SOURCE[0]}")"
[[ -r "$script_path" ]] || die "cannot read this script at $script_path to hash it"
script_hash="$(sha256sum "$script_path" | cut -c1-12)"

command -v docker >/dev/null || die "docker CLI not found on PATH"
timeout 30 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "cannot reach the Docker engine (docker version failed or took >30s)"

# Prints "<script hash> <variant>" of an existing image of that tag, or nothing.
built_as() {
  timeout 30 docker image inspect \
    --format '{{index .Config.Labels "flotilla.demo.script"}} {{index .Config.Labels "flotilla.demo.variant"}}' \
    "$REF" 2>/dev/null || true
}
finish() {
  log "$1 ($REF, variant $variant) in ${SECONDS}s"
  printf '%s\n' "$REF"
  exit 0
}

if [[ "$(built_as)" == "$script_hash $variant" ]]; then finish "already present"; fi

mkdir -p "$CACHE_DIR" || die "cannot create cache directory $CACHE_DIR"
exec 9>"$CACHE_DIR/.lock"
flock -w 300 9 || die "another demo-image.sh held $CACHE_DIR/.lock for 5 min; giving up"
if [[ "$(built_as)" == "$script_hash $variant" ]]; then finish "built by a concurrent run"; fi

SUDO=()
if [[ "$(id -u)" != 0 ]]; then SUDO=(sudo -n); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/flotilla-demo-image.XXXXXX")"
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# The static busybox binary, into $work/context/busybox.
mkdir -p "$work/context/www"
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' &&
  [[ -x /bin/busybox ]]; then
  log "using the installed busybox-static (/bin/busybox)"
  cp /bin/busybox "$work/context/busybox"
else
  deb="$(find "$CACHE_DIR" -maxdepth 1 -name 'busybox-static_*.deb' -size +100k | sort -V | tail -n 1)"
  if [[ -z "$deb" ]]; then
    command -v apt-get >/dev/null || die "no busybox-static package installed or cached, and no apt-get to fetch it"
    log "apt-get download busybox-static (into $CACHE_DIR)"
    mkdir -p "$work/download"
    apt_opts=(-q)
    # apt fetches as the unprivileged _apt user, which cannot write to a private temp dir.
    if [[ "$(id -u)" == 0 ]]; then apt_opts+=(-o APT::Sandbox::User=root); fi
    if ! (cd "$work/download" && timeout 300 apt-get "${apt_opts[@]}" download busybox-static >&2); then
      log "apt-get download failed; running apt-get update and trying again"
      timeout 600 "${SUDO[@]}" apt-get update -qq >&2 || die "apt-get update failed"
      (cd "$work/download" && timeout 300 apt-get "${apt_opts[@]}" download busybox-static >&2) ||
        die "apt-get download busybox-static failed"
    fi
    downloaded="$(find "$work/download" -maxdepth 1 -name 'busybox-static_*.deb' | head -n 1)"
    [[ -n "$downloaded" ]] || die "apt-get download busybox-static produced no .deb"
    deb="$CACHE_DIR/$(basename "$downloaded")"
    mv -f "$downloaded" "$deb.tmp.$$" && mv -f "$deb.tmp.$$" "$deb"
  fi
  log "using $(basename "$deb")"
  dpkg-deb -x "$deb" "$work/deb" || die "cannot unpack $deb (remove it to fetch it again)"
  [[ -x "$work/deb/bin/busybox" ]] || die "$deb holds no bin/busybox"
  cp "$work/deb/bin/busybox" "$work/context/busybox"
fi
# The list goes to a file first: `busybox --list | grep -q` under pipefail fails at random when grep
# stops reading early (busybox then dies of SIGPIPE), which read as "no such applet" in CI.
"$work/context/busybox" --list >"$work/applets" || die "$work/context/busybox --list failed"
for applet in httpd wget sh; do
  grep -qx "$applet" "$work/applets" || die "this busybox has no '$applet' applet"
done

printf '%s %s\nvariant: %s\n' "$REPO" "$tag" "$variant" >"$work/context/www/index.html"
if [[ "$variant" == good ]]; then printf 'ok\n' >"$work/context/www/healthz"; fi
chmod 0755 "$work/context/busybox" "$work/context/www"
chmod 0644 "$work/context/www/"*

cat >"$work/context/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
COPY www/ /www/
USER 65534:65534
EXPOSE 8080
HEALTHCHECK --interval=2s --timeout=2s --start-period=3s --retries=3 \
  CMD ["/bin/busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM INT; /bin/busybox httpd -f -p 8080 -h /www & wait $!"]
EOF

log "building $REF (variant $variant)"
DOCKER_BUILDKIT=0 timeout 300 docker build --quiet --tag "$REF" \
  --label "flotilla.demo.version=$tag" \
  --label "flotilla.demo.variant=$variant" \
  --label "flotilla.demo.script=$script_hash" \
  "$work/context" >&2 || die "docker build of $REF failed"
[[ "$(built_as)" == "$script_hash $variant" ]] || die "docker build did not produce $REF"
finish "built"
