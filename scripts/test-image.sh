#!/usr/bin/env bash
# Builds a tiny container image on the local Docker engine without any image registry: Debian's
# statically linked busybox (package busybox-static) with every applet linked in /bin, so `sh`,
# `echo`, `httpd`, `wget`, ... all work. Lab tests `docker save` it and `docker load` (or
# `ctr images import`) it on lab machines; other images can start `FROM` it (e.g. a web demo that
# adds a page and runs `httpd -f`).
#
# Usage: scripts/test-image.sh [TAG]     (default flotilla-test:busybox)
# Prints the tag. Idempotent: an existing image with that tag is kept (FLOTILLA_REBUILD=1 rebuilds).
# The .deb is cached in $FLOTILLA_CACHE_DIR/test-image/.
set -euo pipefail

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tag=${1:-flotilla-test:busybox}

command -v docker >/dev/null || die "the docker CLI is not installed (scripts/setup.sh installs it)"
if [ "${FLOTILLA_REBUILD:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
    echo "$tag"
    exit 0
fi

cache="$FLOTILLA_CACHE_DIR/test-image"
mkdir -p "$cache"
deb=$(find "$cache" -maxdepth 1 -name 'busybox-static_*.deb' | sort | tail -n 1)
if [ -z "$deb" ]; then
    say "downloading Debian's busybox-static"
    if ! (cd "$cache" && apt-get download busybox-static >/dev/null 2>&1); then
        as_root apt-get update -qq >/dev/null
        (cd "$cache" && apt-get download busybox-static >/dev/null) || die "apt-get download busybox-static failed"
    fi
    deb=$(find "$cache" -maxdepth 1 -name 'busybox-static_*.deb' | sort | tail -n 1)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/pkg"
root="$work/rootfs"
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/www" "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp"
install -m 0755 "$work/pkg/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

say "building $tag from $(basename "$deb")"
tar -C "$root" --owner=0 --group=0 --numeric-owner -cf - . |
    docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$tag" >/dev/null
echo "$tag"
