# shellcheck shell=bash
# Included, not executed: readScript() puts it in place of the "# flotilla:include k3s-common.sh"
# line of the scripts beside it.
# Functions shared by the k3s scripts, besides lib/shared/scripts/common.sh (included first).
# Environment of the including script: ROLE (server|agent), VERSION (e.g. v1.33.5+k3s1), SOURCE
# (installer|airgap), AIRGAP_BINARY and AIRGAP_IMAGES (airgap: an http(s) URL or a path on the
# host), CONFIG (the k3s config.yaml, without the token), NODE_NAME; secret: CLUSTER_TOKEN (may be
# empty on the first server: k3s then generates one).

K3S_CONFIG=/etc/rancher/k3s/config.yaml
# Root-only file holding the cluster token (config.yaml names it with token-file): the token never
# appears on a command line.
K3S_TOKEN_FILE=/etc/rancher/k3s/flotilla-token
K3S_BIN=/usr/local/bin/k3s
K3S_KUBELET_KUBECONFIG=/var/lib/rancher/k3s/agent/kubelet.kubeconfig

# The systemd unit of this node: k3s (server) or k3s-agent (agent), as the installer names them.
k3s_unit() { if [ "$ROLE" = server ]; then echo k3s; else echo k3s-agent; fi; }

# Dies with the message and the tail of the unit's journal (why k3s failed is there).
k3s_die() {
    log "ERROR: $*"
    log "last lines of journalctl -u $(k3s_unit):"
    journalctl -u "$(k3s_unit)" --no-pager -n 40 >&2 2>/dev/null || true
    exit 1
}

# True when the pinned version is the one installed.
k3s_installed() { [ -x "$K3S_BIN" ] && "$K3S_BIN" --version 2>/dev/null | head -n 1 | grep -qF -- " $VERSION "; }

# Writes $2 to $1 (mode 0600, root) when its content differs; returns 0 when it changed.
write_if_changed() {
    local file=$1 content=$2
    if [ -f "$file" ] && [ "$(cat "$file")" = "$content" ]; then return 1; fi
    install -d -m 0700 "$(dirname "$file")"
    (umask 077 && printf '%s\n' "$content" >"$file.tmp")
    mv "$file.tmp" "$file"
    return 0
}

# True when this node already runs k3s and is Ready (a member of the cluster).
k3s_member() { systemctl is-active --quiet "$(k3s_unit)" && node_is_ready "$NODE_NAME"; }

# A config without the lines k3s reads only to create or join the cluster (server, cluster-init,
# token-file): what a member's restart depends on.
k3s_settled_config() { grep -v -e '^server:' -e '^cluster-init:' -e '^token-file:' <<<"$1" || true; }

# Writes the config (and the token file when a token is given); returns 0 when k3s must restart.
# On a member, only a change outside the create/join lines counts: the server it joined through
# may change (the first server removed) without restarting anything.
k3s_write_config() {
    local changed=1 config=${CONFIG:?} old="" member=false
    if k3s_member; then member=true; fi
    [ ! -f "$K3S_CONFIG" ] || old=$(cat "$K3S_CONFIG")
    if [ -n "${CLUSTER_TOKEN:-}" ]; then
        if write_if_changed "$K3S_TOKEN_FILE" "$CLUSTER_TOKEN" && [ "$member" = false ]; then changed=0; fi
        config="$config"$'\n'"token-file: $K3S_TOKEN_FILE"
    fi
    if write_if_changed "$K3S_CONFIG" "$config"; then
        if [ "$member" = false ] || [ "$(k3s_settled_config "$old")" != "$(k3s_settled_config "$config")" ]; then changed=0; fi
    fi
    return "$changed"
}

# Copies an airgap artefact from a URL or a path on the host to $2.
fetch_artefact() {
    local from=$1 to=$2
    install -d -m 0755 "$(dirname "$to")"
    case "$from" in
        http://* | https://*) retry 4 3 curl -fsSL --retry 3 -o "$to.tmp" "$from" || die "cannot download $from" ;;
        /*) [ -f "$from" ] || die "$from is not on this host (airgap: put it there first)"; cp "$from" "$to.tmp" ;;
        *) die "airgap artefact '$from' is neither an http(s) URL nor an absolute path" ;;
    esac
    mv "$to.tmp" "$to"
}

# Installs the pinned k3s (official installer, or the airgap binary, images and our own unit).
k3s_install() {
    local unit
    unit=$(k3s_unit)
    if [ "$SOURCE" = installer ]; then
        log "installing k3s $VERSION ($ROLE) with the official installer"
        curl -sfL https://get.k3s.io -o /tmp/flotilla-k3s-install.sh || die "cannot download https://get.k3s.io"
        INSTALL_K3S_VERSION=$VERSION INSTALL_K3S_EXEC=$ROLE INSTALL_K3S_SKIP_START=true \
            sh /tmp/flotilla-k3s-install.sh >&2 || die "the k3s installer failed"
        rm -f /tmp/flotilla-k3s-install.sh
    else
        : "${AIRGAP_BINARY:?}" "${AIRGAP_IMAGES:?}"
        log "installing k3s $VERSION ($ROLE) from the airgap binary and images"
        fetch_artefact "$AIRGAP_BINARY" "$K3S_BIN"
        chmod 0755 "$K3S_BIN"
        k3s_installed || die "$AIRGAP_BINARY is not k3s $VERSION: $("$K3S_BIN" --version 2>&1 | head -n 1)"
        local images=/var/lib/rancher/k3s/agent/images/k3s-airgap-images.tar
        case "$AIRGAP_IMAGES" in *.zst) images=$images.zst ;; *.gz) images=$images.gz ;; esac
        fetch_artefact "$AIRGAP_IMAGES" "$images"
        cat >"/etc/systemd/system/$unit.service" <<UNIT
[Unit]
Description=k3s $ROLE (flotilla, airgap)
Wants=network-online.target
After=network-online.target

[Service]
Type=notify
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=$K3S_BIN $ROLE
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s

[Install]
WantedBy=multi-user.target
UNIT
        systemctl daemon-reload
    fi
}

# Installs (when the pinned version is missing), configures and starts this node's k3s; restarts
# it when its config changed. A node already running this version and config is left alone.
k3s_up() {
    local unit changed=false
    unit=$(k3s_unit)
    k3s_write_config && changed=true
    if ! k3s_installed; then
        k3s_install
        changed=true
    fi
    systemctl enable "$unit" >/dev/null 2>&1 || k3s_die "cannot enable $unit"
    if [ "$changed" = true ] || ! systemctl is-active --quiet "$unit"; then
        log "starting $unit"
        # Type=notify: returns when k3s reports itself started (bounded by the wait below anyway).
        timeout 600 systemctl restart "$unit" || k3s_die "$unit did not start"
    else
        log "k3s $VERSION already runs here with this configuration; nothing to do"
    fi
}

# The Ready condition of node $1 (True, False or Unknown), asked with this node's own kubelet
# credentials (they may read their own node, on servers and agents alike).
node_ready_status() {
    "$K3S_BIN" kubectl --kubeconfig "$K3S_KUBELET_KUBECONFIG" get node "$1" \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null
}
node_is_ready() { [ "$(node_ready_status "$1")" = True ]; }

# Waits (bounded) for this node to be Ready; dies with the journal's tail otherwise.
wait_node_ready() {
    local deadline=$((SECONDS + ${READY_TIMEOUT:-300}))
    until node_is_ready "$NODE_NAME"; do
        ((SECONDS < deadline)) || k3s_die "node $NODE_NAME not Ready within ${READY_TIMEOUT:-300}s"
        sleep 2
    done
    log "node $NODE_NAME is Ready"
}

# The cgroup driver k3s' containerd was configured with.
k3s_cgroup_driver() {
    if grep -qs 'SystemdCgroup = true' /var/lib/rancher/k3s/agent/etc/containerd/config.toml; then echo systemd; else echo cgroupfs; fi
}

# Stops and removes k3s from this node (the installer's uninstall script when there is one).
k3s_remove() {
    local unit
    unit=$(k3s_unit)
    if [ -x "/usr/local/bin/$unit-uninstall.sh" ]; then
        "/usr/local/bin/$unit-uninstall.sh" >&2 || die "$unit-uninstall.sh failed"
    else
        systemctl disable --now "$unit" >/dev/null 2>&1 || true
        rm -f "/etc/systemd/system/$unit.service" "$K3S_BIN"
        systemctl daemon-reload || true
        rm -rf /var/lib/rancher/k3s /etc/rancher/k3s
    fi
    log "k3s removed from this node"
}
