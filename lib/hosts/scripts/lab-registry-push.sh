#!/usr/bin/env bash
# Pushes one image from the local Docker engine (the machine running Pulumi) into a LabRegistry,
# with skopeo (Debian's `skopeo`; installed here when missing). Run by LocalScript, one phase per
# FLOTILLA_PHASE:
#
# create: skopeo copy docker-daemon:IMAGE_SOURCE -> docker://IMAGE_TARGET (plain HTTP registry,
#         credentials from an authfile), then checks the manifest is there. Idempotent (blobs the
#         registry has are not sent again). Prints IMAGE_TARGET last.
# read:   exit 0 when the registry lists the manifest of IMAGE_TARGET, 3 when it does not (or the
#         registry is gone): the next up pushes again.
# delete: removes the tag from the registry, unless another tag of the repository points to the
#         same manifest (the registry deletes manifests, not tags). Best effort: a registry that is
#         unreachable or refuses the credentials (gone, or replaced) leaves nothing to undo here.
#
# Environment: REGISTRY_ADDRESS (host:port), REGISTRY_USERNAME, REGISTRY_PASSWORD (secret: only in a
# 0600 authfile, never on a command line or in the output), IMAGE_SOURCE (local reference),
# IMAGE_TARGET (reference in the registry), IMAGE_ARCHIVE (optional: a docker-archive tarball to push
# instead of the engine's IMAGE_SOURCE). DOCKER_HOST, when set, is the engine to read from.
set -euo pipefail

: "${FLOTILLA_PHASE:?FLOTILLA_PHASE must be create, read or delete}"
: "${REGISTRY_ADDRESS:?}" "${REGISTRY_USERNAME:?}" "${REGISTRY_PASSWORD:?}" "${IMAGE_SOURCE:?}" "${IMAGE_TARGET:?}"

export LOG_TAG="lab-registry-push $IMAGE_TARGET"
# flotilla:include common.sh

ensure_skopeo() {
    command -v skopeo >/dev/null && return 0
    command -v apt-get >/dev/null || die "skopeo is not installed and there is no apt-get to install it"
    # Pushes run in parallel: one installs, the others wait for it.
    exec 8>"${TMPDIR:-/tmp}/flotilla-skopeo-install.lock"
    flock -w 900 8 || die "waited 15 min for another push to install skopeo"
    command -v skopeo >/dev/null && return 0
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        sudo -n true 2>/dev/null || die "skopeo is not installed; install it (apt-get install skopeo) or allow password-less sudo"
        sudo=(sudo -n)
    fi
    log "installing skopeo"
    timeout 600 "${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=120 update >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive timeout 600 "${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=120 install -y \
        --no-install-recommends skopeo >&2 || die "apt-get install skopeo failed"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-push.XXXXXX")
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
readonly AUTH="$work/auth.json"
(
    umask 077
    printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY_ADDRESS" \
        "$(printf '%s:%s' "$REGISTRY_USERNAME" "$REGISTRY_PASSWORD" | base64 -w 0)" >"$AUTH"
)
# Every registry call: plain HTTP, credentials from the authfile, bounded.
remote() { timeout 120 skopeo "$1" --tls-verify=false --authfile "$AUTH" "${@:2}"; }

# Digest of a manifest in the registry; fails when it cannot be read.
digest_of() { remote inspect --format '{{.Digest}}' "docker://$1" 2>"$work/err"; }

create() {
    local daemon=() digest source
    ensure_skopeo
    if [ -n "${IMAGE_ARCHIVE:-}" ]; then
        [ -f "$IMAGE_ARCHIVE" ] || die "$IMAGE_ARCHIVE does not exist (for the Kubernetes images: bash scripts/kubernetes-build.sh)"
        source="docker-archive:$IMAGE_ARCHIVE"
    else
        command -v docker >/dev/null || die "the docker CLI is not installed on this machine"
        timeout 30 docker image inspect "$IMAGE_SOURCE" >/dev/null 2>&1 ||
            die "image $IMAGE_SOURCE is not on the local Docker engine: build or pull it first (for the demo image: scripts/demo-image.sh)"
        if [ -n "${DOCKER_HOST:-}" ]; then daemon=(--src-daemon-host "$DOCKER_HOST"); fi
        source="docker-daemon:$IMAGE_SOURCE"
    fi
    log "pushing $source"
    timeout 600 skopeo copy --quiet "${daemon[@]}" --dest-tls-verify=false --dest-authfile "$AUTH" \
        "$source" "docker://$IMAGE_TARGET" >&2 ||
        die "skopeo copy $source docker://$IMAGE_TARGET failed"
    digest=$(digest_of "$IMAGE_TARGET") || { cat "$work/err" >&2; die "pushed, but the registry does not show the manifest"; }
    log "pushed ($digest)"
    echo "$IMAGE_TARGET"
}

check_present() {
    command -v skopeo >/dev/null || exit 3
    digest_of "$IMAGE_TARGET" >/dev/null || exit 3
}

remove() {
    local digest repo tag other
    if ! command -v skopeo >/dev/null; then
        log "skopeo is not installed: nothing was pushed from here"
        return 0
    fi
    if ! digest=$(digest_of "$IMAGE_TARGET"); then
        if grep -qiE 'manifest unknown|not found' "$work/err"; then
            log "not in the registry: nothing to remove"
        else
            log "registry unreachable or credentials refused (gone or replaced): nothing to remove; $(tail -n 1 "$work/err")"
        fi
        return 0
    fi
    repo=${IMAGE_TARGET%:*}
    for tag in $(remote list-tags "docker://$repo" | sed -n 's/^ *"\([^"]*\)",\{0,1\}$/\1/p'); do
        [ "$repo:$tag" = "$IMAGE_TARGET" ] && continue
        other=$(digest_of "$repo:$tag") || continue
        if [ "$other" = "$digest" ]; then
            log "tag $tag shares its manifest $digest: kept"
            return 0
        fi
    done
    remote delete "docker://$IMAGE_TARGET" >&2 || die "skopeo delete docker://$IMAGE_TARGET failed"
    log "removed ($digest)"
}

case "$FLOTILLA_PHASE" in
    create) create ;;
    read) check_present ;;
    delete) remove ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE' (create, read or delete)" ;;
esac
