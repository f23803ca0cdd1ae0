#!/usr/bin/env bash
# lab-image.sh: build (or fetch from cache) the base image of the flotilla local lab.
#
# Usage:  img=$(bash lib/hosts/scripts/lab-image.sh | tail -1)
#   (shipped in the package as dist/lib/hosts/scripts/lab-image.sh, command
#   `flotilla-lab-image`; LabHostPool runs it on first use when its default image is missing)
#   Progress goes to stderr; the LAST line of stdout is the image tag,
#   flotilla-lab:debian12-<12 hex of sha256(this file's non-comment lines)>. The same
#   image is also tagged flotilla-lab:debian12 (latest). Editing a command of this file
#   yields a new tag; editing a comment does not.
#
# Order of work (each step only if the previous one did not produce the tag):
#   1. the tag already exists in the Docker engine      -> nothing to do
#   2. ${FLOTILLA_CACHE_DIR:-$HOME/.cache/flotilla}/lab-image/<tag>.tar.gz -> docker load
#   3. debootstrap + chroot configuration + docker import, then docker save | gzip
#      into the cache (temp file + mv, so the cache never holds half a file).
#   Concurrent runs serialise on a flock in the cache directory.
#   Building needs root (debootstrap, chroot, mount); as non-root, `sudo -n` is used.
#   Prerequisites (debootstrap, debian-archive-keyring) are apt-installed when missing.
#   FLOTILLA_DEBIAN_MIRROR overrides the mirror used for the build only (not the tag,
#   not the apt sources inside the image).
#
# What a lab "machine" is: a container running systemd as PID 1, like a fresh cloud VM
# from a Debian 12 (bookworm) cloud image, with NO container runtime inside (runtime
# scripts install one, exactly as on a cloud VM). Contents:
#   - debootstrap --variant=minbase bookworm, then apt (so dependencies resolve
#     properly and bookworm-updates / bookworm-security fixes are applied):
#     systemd systemd-sysv dbus libpam-systemd openssh-server cloud-init python3
#     locales sudo ca-certificates curl gnupg iproute2 iputils-ping procps netbase
#     less vim-tiny tzdata, without Recommends (apt inside the machine keeps Debian's
#     default of installing Recommends, as on a cloud VM); no docs/man pages/translations
#     (dpkg path-exclude, as in Debian's slim images).
#   - apt sources: bookworm, bookworm-updates (deb.debian.org/debian) and
#     bookworm-security (deb.debian.org/debian-security); package lists are removed,
#     so run `apt-get update` first (cloud-init's package_update does).
#   - locales: en_US.UTF-8 generated, LANG=C.UTF-8 in /etc/default/locale (cloud-init's
#     locale module then has nothing to do; `locale: en_US.UTF-8` also works).
#   - cloud-init 22.4: datasource_list [ NoCloud, None ], network config disabled (Docker
#     assigns the address), ssh_pwauth false, ssh_genkeytypes [rsa, ecdsa, ed25519].
#     /var/lib/cloud/seed/nocloud/ exists (empty, 0700): put `meta-data` and `user-data`
#     there with `docker cp` between `docker create` and `docker start`. Without a seed,
#     the None datasource boots it anyway (fresh host keys, no authorized keys).
#   - sshd: PasswordAuthentication no, KbdInteractiveAuthentication no,
#     PermitRootLogin prohibit-password (sshd_config.d/50-flotilla-lab.conf), and
#     sshd_config.d/50-cloud-init.conf pre-filled so cloud-init's ssh_pwauth does not
#     restart sshd during first boot (user-data `ssh_pwauth: true` would still enable it). No SSH host keys in the image: cloud-init
#     writes the seeded ones (ssh_keys) or generates fresh ones at first boot.
#   - /etc/machine-id is an empty file: systemd writes a new random ID at first boot
#     (a missing file or "uninitialized" would instead mean "first boot" semantics
#     and run systemd-firstboot/preset-all); /var/lib/dbus/machine-id links to it.
#   - Image config: CMD ["/sbin/init"], STOPSIGNAL SIGRTMIN+3 (systemd's clean shutdown
#     on `docker stop`), ENV container=docker.
#
# Masked units. Found by booting with none masked: systemd 252 already skips most
# hardware units in a container (ConditionVirtualization, /dev/tty0 absent, udev not
# installed), and `systemctl --failed` was empty. What is masked is what DOES start but
# does harm or is pointless, because `--cap-add ALL` lets systemd touch host-wide kernel
# interfaces that are not namespaced:
#   - systemd-journald-audit.socket: the kernel audit log is not namespaced; with
#     CAP_AUDIT_READ every machine's journal would collect the host's audit records.
#   - sys-kernel-debug.mount, sys-kernel-tracing.mount, sys-kernel-config.mount,
#     sys-fs-fuse-connections.mount, dev-hugepages.mount: with CAP_SYS_ADMIN systemd
#     mounts the host kernel's debugfs, tracefs, configfs, fusectl and hugetlbfs into
#     each machine; nothing in a lab machine needs them (Docker provides /dev/mqueue).
#   - console-getty.service, getty@tty1.service: no real terminals; with `docker run -t`
#     console-getty would put a login prompt on the container console (docker logs).
#     Logins are over SSH or `docker exec`.
# Notes for users of the image (measured with Docker 20.10, cgroup v1, kernel 6.x):
#   - systemd creates empty directories and symlinks (cpu,cpuacct, net_cls, ...) in the
#     HOST's /sys/fs/cgroup through the rw bind mount, and logs "Failed to create symlink
#     /sys/fs/cgroup/cpu: File exists"; both are harmless.
#   - dbus logs "Failed to set fd limit to 65536" because of --cap-drop SYS_RESOURCE.
#   - For the first ~0.5 s after `docker start`, `docker exec ... systemctl` fails with
#     "Failed to connect to bus": retry before `systemctl is-system-running --wait`.
#   - /tmp is emptied at boot (Debian's tmpfiles "D /tmp"): copy files in elsewhere.
#
# Run a machine from it (all flags needed; --privileged is not required):
#   docker run -d --cap-add ALL --cap-drop SYS_RESOURCE \
#     --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#     -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
#     -v <volume>:/var/lib/docker --hostname <name> <tag>
set -euo pipefail

readonly SUITE=bookworm
readonly IMAGE_REPO=flotilla-lab
readonly MIRROR="${FLOTILLA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly CACHE_DIR="${FLOTILLA_CACHE_DIR:-$HOME/.cache/flotilla}/lab-image"
readonly PACKAGES=(
  systemd systemd-sysv dbus libpam-systemd
  openssh-server cloud-init python3 locales sudo
  ca-certificates curl gnupg iproute2 iputils-ping procps netbase
  less vim-tiny tzdata
)
readonly MASKED_UNITS=(
  systemd-journald-audit.socket
  sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount
  sys-fs-fuse-connections.mount dev-hugepages.mount
  console-getty.service getty@tty1.service
)

log() { printf 'lab-image: %s\n' "$*" >&2; }
die() { printf 'lab-image: ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2317  # invoked by the ERR trap
on_err() { printf 'lab-image: ERROR: command failed (exit %s) at line %s: %s\n' "$1" "$2" "$3" >&2; }
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

script_path="$(readlink -f "${BASH_SOURCE[0]}")"
[[ -r "$script_path" ]] || die "cannot read this script at $script_path to hash it"
hash="$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$script_path" | sha256sum | cut -c1-12)"
readonly TAG="$IMAGE_REPO:debian12-$hash"
readonly LATEST="$IMAGE_REPO:debian12"
readonly CACHE_FILE="$CACHE_DIR/${TAG//[^A-Za-z0-9._-]/_}.tar.gz"

SUDO=()
if [[ "$(id -u)" != 0 ]]; then SUDO=(sudo -n); fi

command -v docker >/dev/null || die "docker CLI not found on PATH"
timeout 30 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
  || die "cannot reach the Docker engine (docker version failed or took >30s)"

image_exists() { timeout 30 docker image inspect "$TAG" >/dev/null 2>&1; }

finish() {
  timeout 30 docker tag "$TAG" "$LATEST" || die "docker tag $TAG $LATEST failed"
  local size
  size="$(timeout 30 docker image inspect --format '{{.Size}}' "$TAG")"
  log "$1 in ${SECONDS}s; image size $((size / 1000000)) MB ($TAG, also $LATEST)"
  printf '%s\n' "$TAG"
  exit 0
}

# 1. Fast path: nothing to do.
if image_exists; then finish "already present"; fi

mkdir -p "$CACHE_DIR" || die "cannot create cache directory $CACHE_DIR"
exec 9>"$CACHE_DIR/.lock"
flock -w 1800 9 || die "another lab-image.sh held $CACHE_DIR/.lock for 30 min; giving up"
if image_exists; then finish "built by a concurrent run"; fi

# 2. Load from the cache file.
if [[ -s "$CACHE_FILE" ]]; then
  log "loading $TAG from $CACHE_FILE"
  if gzip -dc "$CACHE_FILE" | timeout 600 docker load >&2 && image_exists; then
    finish "loaded from cache"
  fi
  log "cache file $CACHE_FILE is unusable; removing it and building instead"
  rm -f "$CACHE_FILE"
fi

# 3. Build.
work=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  [[ -n "$work" && -d "$work" ]] || return 0
  local mnt
  # Anything still mounted in the rootfs (our /proc, or debootstrap's if it was killed),
  # deepest first.
  awk -v p="$work/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r \
    | while read -r mnt; do "${SUDO[@]}" umount -l "$mnt" || true; done
  if grep -q " $work/" /proc/mounts; then
    printf 'lab-image: ERROR: something is still mounted under %s; NOT removing it\n' "$work" >&2
    return 0
  fi
  "${SUDO[@]}" rm -rf --one-file-system "$work"
  rm -f "$CACHE_FILE.tmp.$$"
}
# On a signal, stop the running step first (timeout forwards the signal to its process
# group), so the rootfs is no longer in use when cleanup unmounts and removes it.
step_pid=""
# shellcheck disable=SC2317  # invoked by the signal traps
on_signal() {
  log "interrupted; stopping the current step and cleaning up"
  if [[ -n "$step_pid" ]]; then
    kill -TERM "$step_pid" 2>/dev/null || true
    wait "$step_pid" 2>/dev/null || true
  fi
  exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# run_logged DESCRIPTION TIMEOUT CMD...: run quietly (in the background, so signals are
# handled at once), show the log tail on failure.
run_logged() {
  local what=$1 limit=$2
  shift 2
  log "$what"
  timeout "$limit" "$@" >"$work/step.log" 2>&1 &
  step_pid=$!
  if ! wait "$step_pid"; then
    step_pid=""
    tail -n 40 "$work/step.log" >&2
    die "$what: failed or exceeded ${limit}s (log above)"
  fi
  step_pid=""
}

if [[ ${#SUDO[@]} -gt 0 ]] && ! sudo -n true 2>/dev/null; then
  die "building the image needs root (debootstrap, chroot); run as root or allow passwordless sudo"
fi

if ! command -v debootstrap >/dev/null || [[ ! -s /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
  command -v apt-get >/dev/null || die "debootstrap or debian-archive-keyring missing and no apt-get to install them"
  log "installing debootstrap and debian-archive-keyring"
  timeout 600 "${SUDO[@]}" apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive timeout 600 "${SUDO[@]}" apt-get install -y -qq \
    debootstrap debian-archive-keyring >&2 || die "apt-get install debootstrap failed"
fi

work="$(mktemp -d "${TMPDIR:-/var/tmp}/flotilla-lab-image.XXXXXX")"
root="$work/root"
in_root=("${SUDO[@]}" chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin
  DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8)
put() { "${SUDO[@]}" install -D -m "${2:-0644}" /dev/stdin "$root$1"; } # put PATH [MODE] < content

run_logged "debootstrap --variant=minbase $SUITE from $MIRROR" 1200 \
  "${SUDO[@]}" debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
  "$SUITE" "$root" "$MIRROR"

"${SUDO[@]}" rm -f "$root/etc/apt/sources.list"
put /etc/apt/sources.list.d/debian.sources <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
put /etc/dpkg/dpkg.cfg.d/90-flotilla-lab-nodoc <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
EOF
put /usr/sbin/policy-rc.d 0755 <<'EOF'
#!/bin/sh
exit 101
EOF
"${SUDO[@]}" mount -t proc proc "$root/proc"

run_logged "apt-get update (in the rootfs)" 600 "${in_root[@]}" apt-get update
run_logged "apt-get dist-upgrade (bookworm-updates, bookworm-security)" 900 "${in_root[@]}" apt-get -y --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade
run_logged "apt-get install ${PACKAGES[*]}" 1200 "${in_root[@]}" apt-get -y --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install "${PACKAGES[@]}"

log "configuring locales, cloud-init, sshd, systemd"
"${SUDO[@]}" sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$root/etc/locale.gen"
grep -q '^en_US.UTF-8 UTF-8' "$root/etc/locale.gen" || die "en_US.UTF-8 not found in /etc/locale.gen"
run_logged "locale-gen" 300 "${in_root[@]}" locale-gen
put /etc/default/locale <<'EOF'
LANG=C.UTF-8
EOF

put /etc/cloud/cloud.cfg.d/90_flotilla_lab.cfg <<'EOF'
# flotilla lab: a Docker container posing as a cloud VM.
datasource_list: [ NoCloud, None ]
network:
  config: disabled
ssh_pwauth: false
# Without seeded ssh_keys, generate these at first boot (cloud-init 22.4 also makes DSA).
ssh_genkeytypes: [ rsa, ecdsa, ed25519 ]
EOF
# The seed directory exists (empty, 0700: user-data may hold private keys), so that
# `docker cp seed/. <container>:/var/lib/cloud/seed/nocloud/` works before first start.
"${SUDO[@]}" install -d -m 0755 "$root/var/lib/cloud" "$root/var/lib/cloud/seed"
"${SUDO[@]}" install -d -m 0700 "$root/var/lib/cloud/seed/nocloud"

put /etc/ssh/sshd_config.d/50-flotilla-lab.conf <<'EOF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
# cloud-init 22.4 (Debian) applies ssh_pwauth by writing sshd_config.d/50-cloud-init.conf
# and restarts sshd mid-boot when that changed it (dropping early SSH connections).
# Shipping the file with the default value makes `ssh_pwauth: false` a no-op, while an
# explicit `ssh_pwauth: true` still wins (the file sorts before ours; sshd takes the
# first value it reads).
put /etc/ssh/sshd_config.d/50-cloud-init.conf 0600 <<'EOF'
PasswordAuthentication no
EOF

for unit in "${MASKED_UNITS[@]}"; do
  "${SUDO[@]}" ln -sfn /dev/null "$root/etc/systemd/system/$unit"
done

# First-boot identity: no host keys, empty machine-id, generic hostname files
# (Docker bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf anyway).
"${SUDO[@]}" rm -f "$root"/etc/ssh/ssh_host_*
"${SUDO[@]}" truncate -s 0 "$root/etc/machine-id"
"${SUDO[@]}" ln -sfn /etc/machine-id "$root/var/lib/dbus/machine-id"
echo localhost | put /etc/hostname
put /etc/hosts <<'EOF'
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
"${SUDO[@]}" truncate -s 0 "$root/etc/resolv.conf"

log "cleaning the rootfs"
"${in_root[@]}" apt-get clean
"${SUDO[@]}" rm -f "$root/usr/sbin/policy-rc.d"
"${SUDO[@]}" umount "$root/proc"
"${SUDO[@]}" find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
for dir in man info locale groff lintian; do
  if [[ -d "$root/usr/share/$dir" ]]; then "${SUDO[@]}" find "$root/usr/share/$dir" -mindepth 1 -delete; fi
done
"${SUDO[@]}" find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
"${SUDO[@]}" rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
  "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
  "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/* \
  "$root"/var/lib/systemd/random-seed
if compgen -G "$root/etc/ssh/ssh_host_*" >/dev/null; then die "SSH host keys left in the image"; fi

log "docker import as $TAG"
# docker import/commit --change accept no STOPSIGNAL (Docker 20.10), so the imported
# (untagged) image gets it from a one-line Dockerfile; the classic builder needs no registry.
imported="$("${SUDO[@]}" tar -C "$root" --numeric-owner --xattrs --xattrs-include='security.capability' \
  --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' -cf - . \
  | timeout 900 docker import \
    --change 'CMD ["/sbin/init"]' \
    --change 'ENV container=docker' \
    -)" || die "docker import failed"
[[ "$imported" == sha256:* ]] || die "docker import printed '$imported', expected an image ID"
printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$imported" \
  | DOCKER_BUILDKIT=0 timeout 300 docker build --quiet --tag "$TAG" - >&2 \
  || { docker rmi "$imported" >/dev/null 2>&1 || true; die "docker build (adding STOPSIGNAL to $imported) failed"; }
image_exists || die "docker build did not produce $TAG"

log "saving $TAG to $CACHE_FILE"
if timeout 900 docker save "$TAG" | gzip -1 >"$CACHE_FILE.tmp.$$"; then
  mv -f "$CACHE_FILE.tmp.$$" "$CACHE_FILE"
else
  die "docker save $TAG | gzip > $CACHE_FILE failed"
fi
finish "built"
