#!/usr/bin/env bash
# Makes sure a lab pool's machine image is on the local Docker engine. Run by LocalScript:
# create: when MACHINE_IMAGE is there, prints its id; when it is missing and it is the default
#         image (LAB_IMAGE_DEFAULT=1), builds it with the lab-image.sh shipped beside this script
#         (debootstrap, needs root or password-less sudo; about a minute, then cached under
#         $FLOTILLA_CACHE_DIR) and prints its id; any other missing image is an error.
# read:   exit 0 when the image is there, 3 when it is gone (the next up builds it again).
# delete: leaves the image: it is a cache every pool on this engine shares.
# Environment: MACHINE_IMAGE, LAB_IMAGE_DEFAULT (1|0); FLOTILLA_LIB_DIR (set by LocalScript).
set -euo pipefail
: "${FLOTILLA_PHASE:?}" "${MACHINE_IMAGE:?}" "${LAB_IMAGE_DEFAULT:?}"
export LOG_TAG="lab-image $MACHINE_IMAGE"
# flotilla:include common.sh

command -v docker >/dev/null || die "the docker CLI is not installed on this machine"
timeout 20 docker version >/dev/null 2>&1 || die "no Docker engine answers (docker version failed): start dockerd"

present() { timeout 30 docker image inspect --format '{{.Id}}' "$MACHINE_IMAGE" 2>/dev/null; }

case "$FLOTILLA_PHASE" in
    create)
        if present; then exit 0; fi
        [ "$LAB_IMAGE_DEFAULT" = 1 ] ||
            die "image $MACHINE_IMAGE is not on the Docker engine: build or load it first (or leave LabHostPool's image at its default, which flotilla builds)"
        builder="${FLOTILLA_LIB_DIR:?}/hosts/scripts/lab-image.sh"
        [ -r "$builder" ] || die "cannot find $builder (the flotilla package is incomplete)"
        log "not on the Docker engine: building it with $builder (once; cached)"
        bash "$builder" >&2 || die "building the lab image failed (see above)"
        present || die "lab-image.sh ran but $MACHINE_IMAGE is still missing"
        ;;
    read) present >/dev/null || exit 3 ;;
    delete) log "leaving the image (shared by every lab pool on this engine)" ;;
    *) die "unknown FLOTILLA_PHASE '$FLOTILLA_PHASE' (create, read or delete)" ;;
esac
