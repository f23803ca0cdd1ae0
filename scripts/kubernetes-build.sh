#!/usr/bin/env bash
# kubernetes-build.sh: upstream Kubernetes without the internet. Builds, from the Go module proxy
# (wrapper modules in tools/kubernetes/), the binaries a kubeadm cluster needs, and from them the
# container images kubeadm runs, as `docker load`-able tarballs. Nothing is pulled from an image
# registry: no registry on the internet is reachable here.
#
# Usage:  dir=$(bash scripts/kubernetes-build.sh | tail -n 1)
#   Progress and measured times go to stderr; the LAST line of stdout is the cache directory
#   $FLOTILLA_CACHE_DIR/kubernetes/<kubernetes version> (default ~/.cache/flotilla/...), holding:
#     bin/     kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler
#              kube-proxy (k8s.io/kubernetes), etcd (go.etcd.io/etcd/server/v3), coredns
#              (github.com/coredns/coredns), flanneld (github.com/flannel-io/flannel), pause
#              (build/pause/linux/pause.c of the kubernetes module, gcc -static). All static.
#     images/  one `docker save` tarball per image (see stage 2 below) and images.txt:
#              "<image reference> <file> <bytes>" per line.
#     bundle/  node-bundle.tar: `docker save` of flotilla.local/k8s/node-bundle:<version>, a
#              FROM-scratch image holding /kubeadm, /kubelet, /kubectl (stage 3): how an
#              air-gapped kubeadm cluster (KubernetesCluster source "bundle") gets its binaries
#              from a private registry.
#   Versions come from tools/kubernetes/{,etcd/,coredns/,flannel/}go.mod; the etcd, CoreDNS and
#   pause versions are the ones kubeadm of that release deploys (cmd/kubeadm/app/constants).
#
# Order of work: each stage (bin, images) is reused when its stamp file matches (versions,
# go.mod/go.sum hashes, BIN_RECIPE / IMAGES_RECIPE); otherwise it is built into a temporary
# directory in the cache and moved into place, so the cache never holds half a build. Concurrent
# runs serialise on a flock in $FLOTILLA_CACHE_DIR/kubernetes. Every step is bounded by a
# timeout; a failure names the step and shows the tail of its log. The images are removed from
# the Docker engine once saved: the tarballs are the product.
#
# CPU: compilers run under `nice -n 19` with FLOTILLA_GO_JOBS parallel packages (default 1): the
# machines are shared. A cold build took 25-37 min here (measured times are printed, see
# docs/kubernetes-lab.md); a warm run takes about a second.
#
# Needs: go (>= the go line of the go.mod files; GOTOOLCHAIN=local), gcc + libc6-dev (static
# pause), docker (classic builder: images are built FROM scratch or from a local base, no
# registry), and for the Debian base of kube-proxy and flanneld (they run iptables):
# debootstrap + root (or password-less sudo) + Debian's mirror (FLOTILLA_DEBIAN_MIRROR).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bump when the way binaries (BIN_RECIPE) or images (IMAGES_RECIPE) are made changes (flags,
# image contents): invalidates that stage's cache stamp without touching versions.
readonly BIN_RECIPE=1
readonly IMAGES_RECIPE=1
# Image names. kubeadm is told `imageRepository: flotilla.local/k8s`: these are local builds, not
# registry.k8s.io's images, and the name says so.
readonly REPO=flotilla.local/k8s
readonly GO_JOBS="${FLOTILLA_GO_JOBS:-1}"
readonly MIRROR="${FLOTILLA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly K8S_BINARIES=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
readonly ALL_BINARIES=("${K8S_BINARIES[@]}" etcd coredns flanneld pause)

log() { say "kubernetes-build: $*"; }
fail() { die "kubernetes-build: $*"; }

tools="$FLOTILLA_ROOT/tools/kubernetes"
[[ "$GO_JOBS" =~ ^[1-9][0-9]*$ ]] || fail "FLOTILLA_GO_JOBS='$GO_JOBS' is not a positive number"

# Version of module $2 required by the go.mod in directory $1 (single-line or block require).
required() {
    local v
    v=$(sed -n "s#^\(require \|\t\)$2 \(v[0-9][0-9A-Za-z.+-]*\)\( //.*\)\{0,1\}\$#\2#p" "$1/go.mod" | head -n 1)
    [[ -n "$v" ]] || fail "$1/go.mod does not require $2"
    printf '%s' "$v"
}
k8s_version=$(required "$tools" k8s.io/kubernetes)
etcd_version=$(required "$tools/etcd" go.etcd.io/etcd/server/v3)
coredns_version=$(required "$tools/coredns" github.com/coredns/coredns)
flannel_version=$(required "$tools/flannel" github.com/flannel-io/flannel)

cache="$FLOTILLA_CACHE_DIR/kubernetes/$k8s_version"
mkdir -p "$FLOTILLA_CACHE_DIR/kubernetes" || fail "cannot create $FLOTILLA_CACHE_DIR/kubernetes"

# ---- stamps -----------------------------------------------------------------------------------

inputs_hash() {
    (cd "$tools" && cat go.mod go.sum etcd/go.mod etcd/go.sum coredns/go.mod coredns/go.sum \
        flannel/go.mod flannel/go.sum) | sha256sum | cut -c1-16
}
bin_stamp="recipe=$BIN_RECIPE kubernetes=$k8s_version etcd=$etcd_version coredns=$coredns_version flannel=$flannel_version modules=$(inputs_hash)"

bin_ok() {
    [[ "$(cat "$cache/bin/.stamp" 2>/dev/null)" == "$bin_stamp" ]] || return 1
    local b
    for b in "${ALL_BINARIES[@]}"; do [[ -x "$cache/bin/$b" ]] || return 1; done
}
images_ok() {
    [[ "$(cat "$cache/images/.stamp" 2>/dev/null)" == "$images_stamp" ]] || return 1
    [[ -s "$cache/images/images.txt" ]] || return 1
    local ref file size
    while read -r ref file size; do
        [[ -n "$ref" && "$(stat -c %s "$cache/images/$file" 2>/dev/null)" == "$size" ]] || return 1
    done <"$cache/images/images.txt"
}
# The kubeadm-side versions (etcd image tag, CoreDNS, pause) are read from the built kubeadm's
# source, so they always match what kubeadm will ask for.
# module_dir DIR MODULE: MODULE's directory in the Go module cache, as the go.mod in DIR requires
# it; on a cold module cache (`go list -m` names no directory until then) it is downloaded first.
module_dir() {
    local dir
    dir=$(cd "$1" && go list -m -f '{{.Dir}}' "$2") || fail "go list -m $2 failed in $1"
    if [[ -z "$dir" ]]; then
        run "download-${2##*/}" 1800 env -C "$1" go mod download "$2"
        dir=$(cd "$1" && go list -m -f '{{.Dir}}' "$2") || fail "go list -m $2 failed in $1"
    fi
    [[ -n "$dir" && -d "$dir" ]] || fail "$2 is not in the Go module cache after go mod download in $1 (dir '$dir')"
    printf '%s' "$dir"
}
constants() {
    local dir
    dir=$(module_dir "$tools" k8s.io/kubernetes)
    kubeadm_constants="$dir/cmd/kubeadm/app/constants/constants.go"
    pause_source="$dir/build/pause/linux/pause.c"
    etcd_tag=$(sed -n 's/^\tDefaultEtcdVersion = "\(.*\)"$/\1/p' "$kubeadm_constants")
    coredns_tag=$(sed -n 's/^\tCoreDNSVersion = "\(.*\)"$/\1/p' "$kubeadm_constants")
    pause_tag=$(sed -n 's/^\tPauseVersion = "\(.*\)"$/\1/p' "$kubeadm_constants")
    [[ -n "$etcd_tag" && -n "$coredns_tag" && -n "$pause_tag" ]] ||
        fail "cannot read DefaultEtcdVersion/CoreDNSVersion/PauseVersion from $kubeadm_constants"
    [[ "v${etcd_tag%-*}" == "$etcd_version" ]] ||
        fail "kubeadm $k8s_version deploys etcd $etcd_tag but tools/kubernetes/etcd builds $etcd_version: keep them equal"
    [[ "$coredns_tag" == "$coredns_version" ]] ||
        fail "kubeadm $k8s_version deploys CoreDNS $coredns_tag but tools/kubernetes/coredns builds $coredns_version: keep them equal"
}

# ---- fast path --------------------------------------------------------------------------------

images_stamp_of() { printf '%s images-recipe=%s repo=%s' "$bin_stamp" "$IMAGES_RECIPE" "$REPO"; }
images_stamp=$(images_stamp_of)
readonly BUNDLE_RECIPE=1
bundle_stamp="$bin_stamp bundle-recipe=$BUNDLE_RECIPE repo=$REPO"
bundle_ok() {
    [[ "$(cat "$cache/bundle/.stamp" 2>/dev/null)" == "$bundle_stamp" ]] && [[ -s "$cache/bundle/node-bundle.tar" ]]
}
if bin_ok && images_ok && bundle_ok; then
    log "cached: $cache ($bin_stamp)"
    printf '%s\n' "$cache"
    exit 0
fi

exec 9>"$FLOTILLA_CACHE_DIR/kubernetes/.lock"
log "waiting for the build lock (at most 1 h)"
flock -w 3600 9 || fail "another kubernetes-build.sh held $FLOTILLA_CACHE_DIR/kubernetes/.lock for 1 h"
if bin_ok && images_ok && bundle_ok; then
    log "built by a concurrent run: $cache"
    printf '%s\n' "$cache"
    exit 0
fi

work=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    [[ -n "$work" && -d "$work" ]] || return 0
    if grep -q " $work/" /proc/mounts; then
        awk -v p="$work/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r |
            while read -r mnt; do as_root umount -l "$mnt" || true; done
    fi
    if grep -q " $work/" /proc/mounts; then
        printf 'kubernetes-build: ERROR: something is still mounted under %s; NOT removing it\n' "$work" >&2
        return 0
    fi
    as_root rm -rf --one-file-system "$work"
}
trap cleanup EXIT
work=$(mktemp -d "$FLOTILLA_CACHE_DIR/kubernetes/.work.XXXXXX")

# run STEP TIMEOUT CMD...: runs CMD with its output in $work/<step>.log; on failure or timeout,
# shows the log's tail and stops. Prints the measured time.
run() {
    local step=$1 limit=$2 start=$SECONDS status=0
    shift 2
    log "$step ..."
    timeout "$limit" "$@" >"$work/$step.log" 2>&1 || status=$?
    if [[ "$status" -ne 0 ]]; then
        tail -n 40 "$work/$step.log" >&2
        [[ "$status" -eq 124 ]] && fail "$step: exceeded ${limit}s (log tail above)"
        fail "$step: failed with exit $status (log tail above)"
    fi
    log "$step: done in $((SECONDS - start))s"
}

command -v go >/dev/null || fail "Go is needed (the Kubernetes binaries are built from the Go module proxy)"
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
constants

# ---- stage 1: binaries ------------------------------------------------------------------------

build_binaries() {
    local out="$work/bin" ld p start=$SECONDS
    mkdir -p "$out"
    command -v gcc >/dev/null || fail "gcc is needed for the static pause binary (apt-get install gcc libc6-dev)"

    # The version variables hack/lib/version.sh sets: kubeadm compares its own version with the
    # control plane's, so an unversioned build (v0.0.0-master) would not work. buildDate is the
    # module's release time (reproducible).
    local release_time
    release_time=$(cd "$tools" && go list -m -f '{{.Time}}' k8s.io/kubernetes 2>/dev/null | cut -c1-19) || release_time=""
    [[ "$release_time" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}.[0-9:]{8}$ ]] || release_time="1970-01-01T00:00:00"
    release_time="${release_time/ /T}Z"
    local major=${k8s_version#v} minor
    minor=${major#*.}
    minor=${minor%%.*}
    major=${major%%.*}
    ld="-s -w"
    for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
        ld+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=$major -X $p.gitMinor=$minor"
        ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$release_time"
    done
    local pkgs=()
    for p in "${K8S_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$p"); done
    run "kubernetes-$k8s_version" 7200 env -C "$tools" nice -n 19 go build -p "$GO_JOBS" -trimpath \
        -ldflags "$ld" -o "$out/" "${pkgs[@]}"

    run "etcd-$etcd_version" 3600 env -C "$tools/etcd" nice -n 19 go build -p "$GO_JOBS" -trimpath \
        -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3

    run "coredns-$coredns_version" 3600 env -C "$tools/coredns" nice -n 19 go build -p "$GO_JOBS" -trimpath \
        -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$coredns_version" \
        -o "$out/coredns" github.com/coredns/coredns

    # flanneld: upstream main.go minus the tencentvpc backend (its SDK is refused by the proxy) and
    # the UDP backend (cgo), compiled as package flotilla.local/kubernetes/flannel/flanneld through
    # an overlay: nothing is written into the repository.
    local fdir main
    fdir=$(module_dir "$tools/flannel" github.com/flannel-io/flannel)
    mkdir -p "$work/flannel"
    main="$work/flannel/main.go"
    grep -v -e '"github.com/flannel-io/flannel/pkg/backend/tencentvpc"' \
        -e '"github.com/flannel-io/flannel/pkg/backend/udp"' "$fdir/main.go" >"$main"
    [[ $(($(wc -l <"$fdir/main.go") - $(wc -l <"$main"))) -eq 2 ]] ||
        fail "flannel $flannel_version main.go no longer imports the tencentvpc and udp backends as expected: review tools/kubernetes/flannel"
    printf '{"Replace":{"%s":"%s"}}\n' "$tools/flannel/flanneld/main.go" "$main" >"$work/flannel/overlay.json"
    run "flannel-$flannel_version" 3600 env -C "$tools/flannel" nice -n 19 go build -p "$GO_JOBS" -trimpath \
        -overlay "$work/flannel/overlay.json" \
        -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$flannel_version" \
        -o "$out/flanneld" ./flanneld

    run "pause-$pause_tag" 300 nice -n 19 gcc -Os -Wall -Werror -static \
        "-DVERSION=v$pause_tag-flotilla" -o "$out/pause" "$pause_source"
    strip "$out/pause" 2>/dev/null || true

    local b
    for b in "${ALL_BINARIES[@]}"; do
        [[ -x "$out/$b" ]] || fail "the build produced no $b"
        if file "$out/$b" 2>/dev/null | grep -q 'dynamically linked'; then fail "$b is dynamically linked"; fi
    done
    [[ "$("$out/kubeadm" version -o short)" == "$k8s_version" ]] ||
        fail "the built kubeadm reports $("$out/kubeadm" version -o short), expected $k8s_version"
    printf '%s\n' "$bin_stamp" >"$out/.stamp"
    rm -rf "${cache:?}/bin"
    mkdir -p "$cache"
    mv "$out" "$cache/bin"
    log "binaries built in $((SECONDS - start))s: $cache/bin"
}

if bin_ok; then
    log "binaries cached: $cache/bin"
else
    build_binaries
fi

# ---- stage 2: images --------------------------------------------------------------------------
# kube-apiserver, kube-controller-manager, kube-scheduler, etcd, coredns, pause: FROM scratch with
# the static binary, where upstream's images have it (/usr/local/bin/<name>, /coredns, /pause), so
# kubeadm's manifests run unchanged. kube-proxy and flanneld call iptables (and conntrack): they
# get a Debian 12 minbase rootfs with iptables, conntrack and iproute2 (debootstrap).

images_built=()
# image REF FILE DOCKERFILE-CONTEXT: classic build (no registry, no BuildKit), then docker save.
image() {
    local ref=$1 file=$2 ctx=$3 size
    run "image-${file%.tar}" 600 env DOCKER_BUILDKIT=0 docker build --quiet --tag "$ref" \
        --label "flotilla.kubernetes.recipe=$IMAGES_RECIPE" "$ctx"
    run "save-${file%.tar}" 600 docker save -o "$work/images/$file" "$ref"
    size=$(stat -c %s "$work/images/$file")
    images_built+=("$ref $file $size")
    log "image $ref: $((size / 1000000)) MB ($file)"
}

scratch_image() { # scratch_image REF FILE BINARY DEST ENTRYPOINT-JSON [USER]
    local ctx="$work/ctx-${2%.tar}"
    mkdir -p "$ctx"
    cp "$cache/bin/$3" "$ctx/$3"
    {
        printf 'FROM scratch\nCOPY %s %s\n' "$3" "$4"
        printf 'ENV PATH=/usr/local/bin:/usr/bin:/bin\n'
        if [[ -n "${6:-}" ]]; then printf 'USER %s\n' "$6"; fi
        printf 'ENTRYPOINT %s\n' "$5"
    } >"$ctx/Dockerfile"
    image "$1" "$2" "$ctx"
}

debian_base() {
    local base=$1 root="$work/debian-root"
    if [[ "$(id -u)" != 0 ]] && ! sudo -n true 2>/dev/null; then
        fail "the Debian base of kube-proxy/flanneld needs root (debootstrap): run as root or allow password-less sudo"
    fi
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then sudo=(sudo -n); fi
    apt_install debootstrap debian-archive-keyring
    run debootstrap 1200 "${sudo[@]}" debootstrap --variant=minbase \
        --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
        --include=iptables,conntrack,iproute2,ca-certificates bookworm "$root" "$MIRROR"
    as_root rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc \
        "$root"/usr/share/man "$root"/usr/share/locale "$root"/var/log/* "$root"/tmp/*
    # The iptables-nft backend (Debian's default, also what the machines' own iptables use).
    as_root chroot "$root" update-alternatives --set iptables /usr/sbin/iptables-nft >/dev/null
    log "docker import of the Debian base as $base"
    as_root tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . |
        timeout 600 docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            - "$base" >/dev/null || fail "docker import of the Debian base failed"
}

debian_image() { # debian_image BASE REF FILE BINARY DEST ENTRYPOINT-JSON
    local ctx="$work/ctx-${3%.tar}"
    mkdir -p "$ctx"
    cp "$cache/bin/$4" "$ctx/$4"
    printf 'FROM %s\nCOPY %s %s\nENTRYPOINT %s\n' "$1" "$4" "$5" "$6" >"$ctx/Dockerfile"
    image "$2" "$3" "$ctx"
}

build_images() {
    local start=$SECONDS b
    command -v docker >/dev/null || fail "docker is needed to build the images"
    timeout 30 docker version >/dev/null 2>&1 || fail "no Docker engine answers (docker version failed)"
    mkdir -p "$work/images"
    for b in kube-apiserver kube-controller-manager kube-scheduler; do
        scratch_image "$REPO/$b:$k8s_version" "$b.tar" "$b" "/usr/local/bin/$b" "[\"/usr/local/bin/$b\"]"
    done
    scratch_image "$REPO/etcd:$etcd_tag" etcd.tar etcd /usr/local/bin/etcd '["/usr/local/bin/etcd"]'
    scratch_image "$REPO/coredns:$coredns_tag" coredns.tar coredns /coredns '["/coredns"]'
    scratch_image "$REPO/pause:$pause_tag" pause.tar pause /pause '["/pause"]' 65535:65535
    local base="$REPO/debian-iptables:bookworm-$IMAGES_RECIPE"
    debian_base "$base"
    debian_image "$base" "$REPO/kube-proxy:$k8s_version" kube-proxy.tar kube-proxy /usr/local/bin/kube-proxy \
        '["/usr/local/bin/kube-proxy"]'
    debian_image "$base" "$REPO/flannel:$flannel_version" flannel.tar flanneld /opt/bin/flanneld \
        '["/opt/bin/flanneld"]'
    # The tarballs are the product: the Docker engine keeps none of these images (nor their base).
    local entry
    for entry in "${images_built[@]}"; do docker rmi "${entry%% *}" >/dev/null 2>&1 || true; done
    docker rmi "$base" >/dev/null 2>&1 || true
    printf '%s\n' "${images_built[@]}" >"$work/images/images.txt"
    printf '%s\n' "$images_stamp" >"$work/images/.stamp"
    rm -rf "${cache:?}/images"
    mv "$work/images" "$cache/images"
    log "images built in $((SECONDS - start))s: $cache/images"
}

if images_ok; then
    log "images cached: $cache/images"
else
    build_images
fi

# ---- stage 3: the node bundle -------------------------------------------------------------------

build_bundle() {
    local ref="$REPO/node-bundle:$k8s_version" ctx="$work/ctx-bundle" b
    command -v docker >/dev/null || fail "docker is needed to build the node bundle"
    mkdir -p "$ctx" "$work/bundle"
    for b in kubeadm kubelet kubectl; do cp "$cache/bin/$b" "$ctx/$b"; done
    printf 'FROM scratch\nCOPY kubeadm kubelet kubectl /\nLABEL flotilla.kubernetes.version=%s\n' "$k8s_version" >"$ctx/Dockerfile"
    run image-node-bundle 600 env DOCKER_BUILDKIT=0 docker build --quiet --tag "$ref" "$ctx"
    run save-node-bundle 600 docker save -o "$work/bundle/node-bundle.tar" "$ref"
    docker rmi "$ref" >/dev/null 2>&1 || true
    printf '%s\n' "$bundle_stamp" >"$work/bundle/.stamp"
    rm -rf "${cache:?}/bundle"
    mv "$work/bundle" "$cache/bundle"
    log "node bundle $ref: $(($(stat -c %s "$cache/bundle/node-bundle.tar") / 1000000)) MB"
}
if bundle_ok; then
    log "node bundle cached: $cache/bundle"
else
    build_bundle
fi
log "ready in ${SECONDS}s: $cache"
printf '%s\n' "$cache"
