#!/usr/bin/env bash
# kubernetes-lab-proof.sh: proves upstream Kubernetes (kubeadm) in the flotilla lab, end to end,
# with nothing from the internet but Debian packages:
#   1. binaries and images from scripts/kubernetes-build.sh (cached), the lab image from
#      lib/hosts/scripts/lab-image.sh, the demo web image from scripts/demo-image.sh;
#   2. two lab machines (flt-k8s-proof-cp, flt-k8s-proof-w1) on their own bridge network
#      10.213.200.0/28 (FLOTILLA_K8S_PROOF_PREFIX / _SUBNET override both), created with plain docker commands: lab-machine.sh's flags plus what
#      Kubernetes needs (docs/kubernetes-lab.md says why, flag by flag);
#   3. containerd from Debian through lib/runtime/scripts/runtime.sh, then
#      scripts/kubernetes-lab-node.sh in each machine (kubelet unit, kernel settings, images);
#   4. `kubeadm init` on the first, `kubeadm join` on the second;
#   5. pod network: flanneld (vxlan, built from its module) as a DaemonSet, with Debian's
#      bridge + host-local + portmap CNI plugins configured per node from the node's podCIDR
#      (what flannel's CNI plugin would do: that plugin's module is refused by the proxy);
#   6. checks: both nodes Ready, CoreDNS/kube-proxy/flannel running, a 2-replica demo web
#      Deployment (one pod per node) answering HTTP through a NodePort from this host on both
#      node addresses, pod-to-pod across nodes, and a Service name resolved by CoreDNS.
# Everything it created (containers, volumes, network, the demo image tag, leftover cgroups) is
# removed at the end, also on failure or interrupt. FLOTILLA_K8S_PROOF_KEEP=1 keeps the machines
# (and prints how to remove them).
#
# Prints the measured time of each phase. Exit 0 only when every check passed.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Overridable so several proofs (or a proof and the lab tests) run side by side: the name prefix of
# the machines and network, and the /28 (or larger) subnet, whose .1 is the gateway and .2/.3 the
# machines. Defaults: flt-k8s-proof, 10.213.200.0/28.
readonly PREFIX="${FLOTILLA_K8S_PROOF_PREFIX:-flt-k8s-proof}"
readonly NETWORK="$PREFIX-net"
readonly SUBNET="${FLOTILLA_K8S_PROOF_SUBNET:-10.213.200.0/28}"
[[ "$SUBNET" =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.0/(2[4-8])$ ]] || die "k8s-proof: FLOTILLA_K8S_PROOF_SUBNET '$SUBNET' is not a.b.c.0/24..28"
readonly NET3="${BASH_REMATCH[1]}"
readonly GATEWAY="$NET3.1"
readonly MACHINES=("$PREFIX-cp" "$PREFIX-w1")
readonly ADDRESSES=("$NET3.2" "$NET3.3")
readonly POD_SUBNET=10.244.0.0/16
readonly SERVICE_SUBNET=10.96.0.0/12
readonly NODE_PORT=30080
readonly DEMO_TAG="${PREFIX#flt-}"
readonly DEMO_IMAGE="flotilla-demo:$DEMO_TAG"
readonly REPO=flotilla.local/k8s
readonly STAGE=/var/tmp/flotilla-k8s
readonly TIMEOUT="${FLOTILLA_K8S_PROOF_TIMEOUT:-300}"

log() { say "k8s-proof: $*"; }
fail() { die "k8s-proof: $*"; }
phase_start=$SECONDS
phase() {
    log "--- $1 (previous phase took $((SECONDS - phase_start))s, ${SECONDS}s in all)"
    phase_start=$SECONDS
}

command -v docker >/dev/null || fail "the docker CLI is not installed"
timeout 20 docker version >/dev/null 2>&1 || fail "no Docker engine answers (docker version failed)"

work=$(mktemp -d "${TMPDIR:-/tmp}/flotilla-k8s-proof.XXXXXX")
machine_ids=()
created_demo_image=0

# ---- clean-up ---------------------------------------------------------------------------------

remove_all() {
    local m v id dir
    for m in "${MACHINES[@]}"; do
        id=$(docker inspect --format '{{.Id}}' "$m" 2>/dev/null || true)
        if [ -n "$id" ]; then machine_ids+=("$id"); fi
        docker rm -f "$m" >/dev/null 2>&1 || true
        for v in "$m-containerd" "$m-kubelet" "$m-etcd"; do
            docker volume rm -f "$v" >/dev/null 2>&1 || true
        done
    done
    docker network rm "$NETWORK" >/dev/null 2>&1 || true
    # cgroups the kubelets made under the machines' own cgroups in hierarchies Docker does not
    # manage (hugetlb, perf_event, net_cls...). Only empty directories can be removed: rmdir.
    for id in ${machine_ids[@]+"${machine_ids[@]}"}; do
        for dir in /sys/fs/cgroup/*/docker/"$id"; do
            [ -d "$dir" ] || continue
            find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
            if [ -d "$dir" ]; then log "WARNING: could not remove $dir (still in use?)"; fi
        done
    done
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
on_exit() {
    local status=$?
    trap - EXIT INT TERM HUP
    if [ "$status" -ne 0 ]; then
        log "FAILED (exit $status) after ${SECONDS}s; diagnostics:"
        diagnostics || true
    fi
    if [ "${FLOTILLA_K8S_PROOF_KEEP:-}" = 1 ]; then
        log "FLOTILLA_K8S_PROOF_KEEP=1: keeping ${MACHINES[*]} and $NETWORK; kubeconfig: $work/admin.conf"
        log "remove them with: docker rm -f ${MACHINES[*]}; docker volume rm ${MACHINES[*]/%/-containerd}; docker network rm $NETWORK"
    else
        remove_all
        local what="containers, volumes, network"
        if [ "$created_demo_image" = 1 ]; then
            docker rmi "$DEMO_IMAGE" >/dev/null 2>&1 || true
            what+=", image $DEMO_IMAGE"
        fi
        rm -rf "$work"
        log "cleaned up: $what"
    fi
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT TERM HUP

diagnostics() {
    local m
    if [ -s "$work/admin.conf" ]; then
        timeout 20 "$kubectl_bin" --kubeconfig "$work/admin.conf" get nodes -o wide 2>&1 || true
        timeout 20 "$kubectl_bin" --kubeconfig "$work/admin.conf" get pods -A -o wide 2>&1 || true
        timeout 20 "$kubectl_bin" --kubeconfig "$work/admin.conf" get events -A --sort-by=.lastTimestamp 2>&1 | tail -n 25 || true
    fi
    for m in "${MACHINES[@]}"; do
        docker container inspect "$m" >/dev/null 2>&1 || continue
        echo "--- $m: failed units"
        timeout 10 docker exec "$m" systemctl --failed --no-legend --plain 2>&1 || true
        echo "--- $m: kubelet journal (last 25 lines)"
        timeout 10 docker exec "$m" journalctl -u kubelet --no-pager -n 25 2>&1 || true
        echo "--- $m: containers"
        timeout 10 docker exec "$m" ctr -n k8s.io containers ls 2>&1 | tail -n 15 || true
    done >&2
}

# ---- inputs -----------------------------------------------------------------------------------

phase "building (or reusing) Kubernetes, the lab image and the demo image"
cache=$(bash "$FLOTILLA_ROOT/scripts/kubernetes-build.sh" | tail -n 1)
[ -s "$cache/images/images.txt" ] || fail "kubernetes-build.sh gave no image list in $cache/images"
kubectl_bin="$cache/bin/kubectl"
k8s_version=$("$cache/bin/kubeadm" version -o short)
lab_image=$(bash "$FLOTILLA_ROOT/lib/hosts/scripts/lab-image.sh" | tail -n 1)
if ! docker image inspect "$DEMO_IMAGE" >/dev/null 2>&1; then created_demo_image=1; fi
bash "$FLOTILLA_ROOT/scripts/demo-image.sh" "$DEMO_TAG" >/dev/null
mkdir -p "$work/images"
cp "$cache"/images/*.tar "$work/images/"
timeout 120 docker save -o "$work/images/demo.tar" "$DEMO_IMAGE" || fail "docker save $DEMO_IMAGE failed"
pause_ref=$(awk '$1 ~ "/pause:" { print $1 }' "$cache/images/images.txt")
[ -n "$pause_ref" ] || fail "no pause image in $cache/images/images.txt"
log "kubernetes $k8s_version from $cache; lab image $lab_image"

kubectl() { timeout "$TIMEOUT" "$kubectl_bin" --kubeconfig "$work/admin.conf" "$@"; }
in_machine() { # in_machine MACHINE CMD...: bounded docker exec
    local m=$1
    shift
    timeout "$TIMEOUT" docker exec "$m" "$@"
}

# ---- machines ---------------------------------------------------------------------------------

phase "creating ${MACHINES[*]} on $NETWORK ($SUBNET)"
remove_all # leftovers of an interrupted earlier run with the same names
machine_ids=()
docker network create --driver bridge --subnet "$SUBNET" --gateway "$GATEWAY" \
    --label "flotilla.pool=$PREFIX" "$NETWORK" >/dev/null
for i in "${!MACHINES[@]}"; do
    m=${MACHINES[$i]}
    docker volume create --label "flotilla.pool=$PREFIX" "$m-containerd" >/dev/null
    # lab-machine.sh's flags, plus: --device /dev/kmsg (the kubelet's OOM watcher reads it).
    # No cloud-init seed: cloud-init's None datasource boots the machine; the set-up is done with
    # docker exec below (the same scripts a cloud VM would run).
    docker create \
        --name "$m" \
        --hostname "$m" \
        --label "flotilla.pool=$PREFIX" \
        --network "$NETWORK" \
        --ip "${ADDRESSES[$i]}" \
        --cap-add ALL --cap-drop SYS_RESOURCE \
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --cgroupns host \
        -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
        --tmpfs /run --tmpfs /run/lock \
        -v "$m-containerd:/var/lib/containerd" \
        --device /dev/kmsg \
        "$lab_image" >/dev/null
    docker start "$m" >/dev/null
done
for m in "${MACHINES[@]}"; do
    deadline=$((SECONDS + TIMEOUT))
    until [ "$(timeout 10 docker exec "$m" systemctl is-system-running 2>/dev/null || true)" = running ]; do
        state=$(timeout 10 docker exec "$m" systemctl is-system-running 2>/dev/null || true)
        [ "$state" != degraded ] || fail "$m: systemd reports degraded: $(docker exec "$m" systemctl --failed --no-legend --plain 2>&1)"
        ((SECONDS < deadline)) || fail "$m: systemd not running after ${TIMEOUT}s (state '$state')"
        sleep 1
    done
    machine_ids+=("$(docker inspect --format '{{.Id}}' "$m")")
done
log "machines booted"

# ---- containerd, binaries, images ---------------------------------------------------------------

phase "containerd (Debian, runtime.sh) and node preparation, in parallel on both machines"
containerd_config=$(
    cat <<EOF
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  # Built locally (scripts/kubernetes-build.sh) and imported: never pulled.
  sandbox_image = "$pause_ref"
  # The machines lack CAP_SYS_RESOURCE: containers may not lower their oom_score_adj below the
  # machine's own; containerd clamps it instead of failing.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      # Privileged pods (kube-proxy) get all capabilities but NOT "all devices": the machine's
      # own device cgroup (Docker's default list) cannot grant more to a child cgroup, and runc
      # fails writing "a *:* rwm" to devices.allow.
      privileged_without_host_devices = true
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # cgroupfs, like the kubelet (cgroupDriver: cgroupfs): see docs/kubernetes-lab.md.
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    # Debian's containernetworking-plugins install here.
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
EOF
)
runtime_files="/etc/containerd/config.toml 0644 1 $(printf '%s\n' "$containerd_config" | base64 -w0)"

prepare() { # prepare INDEX: runs in the background, output to $work/prepare-<m>.log
    local m=${MACHINES[$1]} id=${machine_ids[$1]}
    timeout "$TIMEOUT" docker exec -i \
        -e FLOTILLA_PHASE=create -e RUNTIME_KIND=containerd -e RUNTIME_SOURCE=distro \
        -e RUNTIME_FILES="$runtime_files" -e RUNTIME_WAIT_TIMEOUT=120 \
        "$m" bash -s <"$FLOTILLA_ROOT/lib/runtime/scripts/runtime.sh"
    timeout "$TIMEOUT" docker exec "$m" mkdir -p "$STAGE/bin"
    local b
    for b in kubeadm kubelet kubectl; do timeout "$TIMEOUT" docker cp "$cache/bin/$b" "$m:$STAGE/bin/$b"; done
    timeout "$TIMEOUT" docker cp "$work/images" "$m:$STAGE/"
    timeout "$((TIMEOUT * 2))" docker exec -i -e NODE_CGROUP_ROOT="/docker/$id" -e NODE_TIMEOUT="$TIMEOUT" \
        -e NODE_GUARD_CIDRS="$SERVICE_SUBNET $POD_SUBNET" \
        "$m" bash -s <"$FLOTILLA_ROOT/scripts/kubernetes-lab-node.sh"
}
pids=()
for i in "${!MACHINES[@]}"; do
    prepare "$i" >"$work/prepare-${MACHINES[$i]}.log" 2>&1 &
    pids+=($!)
done
for i in "${!MACHINES[@]}"; do
    if ! wait "${pids[$i]}"; then
        tail -n 30 "$work/prepare-${MACHINES[$i]}.log" >&2
        fail "preparing ${MACHINES[$i]} failed (log above)"
    fi
    grep -h -e '^{"runtime"' -e 'imported' "$work/prepare-${MACHINES[$i]}.log" | sed "s/^/  ${MACHINES[$i]}: /" >&2
done

# ---- kubeadm init ---------------------------------------------------------------------------

phase "kubeadm init on ${MACHINES[0]}"
cp_ip=${ADDRESSES[0]}
token=$("$cache/bin/kubeadm" token generate)
# kubeadm's configuration. Written to $work for the record (docs/kubernetes-lab.md shows it).
cat >"$work/kubeadm-init.yaml" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
  - token: "$token"
    ttl: 1h0m0s
    usages: [signing, authentication]
    groups: [system:bootstrappers:kubeadm:default-node-token]
localAPIEndpoint:
  advertiseAddress: $cp_ip
  bindPort: 6443
nodeRegistration:
  name: ${MACHINES[0]}
  criSocket: unix:///run/containerd/containerd.sock
  # Every image is imported beforehand; kubeadm's preflight then checks they are present and
  # pulls nothing (a missing image is an error, not a pull from the internet).
  imagePullPolicy: Never
  # Its only error here: "cgroups v1 support is deprecated ... you must set the kubelet
  # configuration option 'FailCgroupV1' to 'false'. You must also explicitly skip this
  # validation." The lab host is cgroup v1; failCgroupV1 is false below.
  ignorePreflightErrors: [SystemVerification]
  kubeletExtraArgs:
    - name: node-ip
      value: $cp_ip
patches:
  directory: /etc/flotilla/kubeadm-patches
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: $PREFIX
kubernetesVersion: $k8s_version
controlPlaneEndpoint: $cp_ip:6443
imageRepository: $REPO
networking:
  podSubnet: $POD_SUBNET
  serviceSubnet: $SERVICE_SUBNET
  dnsDomain: cluster.local
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# The lab host (and so every machine) is cgroup v1; kubelet >= 1.35 refuses it unless told.
failCgroupV1: false
# cgroupfs: the kubelet and runc write the host's cgroup v1 hierarchy under the machine's own
# cgroup (cgroupRoot, per node, from the kubeadm patch); the machine's systemd is not involved.
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
# 0 = do not set. nf_conntrack_max is host-wide (only the host's network namespace may set it;
# kube-proxy would fail, in the machine, or change the host's). The two timeouts are per network
# namespace, but are left alone too, as kind does (setting them was not tried).
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
timeout "$TIMEOUT" docker cp "$work/kubeadm-init.yaml" "${MACHINES[0]}:/etc/flotilla/kubeadm-init.yaml"
init_start=$SECONDS
if ! timeout "$((TIMEOUT * 2))" docker exec "${MACHINES[0]}" kubeadm init --config /etc/flotilla/kubeadm-init.yaml \
    >"$work/kubeadm-init.log" 2>&1; then
    tail -n 40 "$work/kubeadm-init.log" >&2
    fail "kubeadm init failed (log above)"
fi
grep -E '^\[(preflight|WARNING)|WARNING' "$work/kubeadm-init.log" | sed 's/^/  /' >&2 || true
log "kubeadm init: $((SECONDS - init_start))s"
timeout 30 docker cp "${MACHINES[0]}:/etc/kubernetes/admin.conf" "$work/admin.conf"
chmod 600 "$work/admin.conf"
# CoreDNS: kubeadm's Corefile forwards other names to the node's resolv.conf, which in a lab
# machine is Docker's embedded DNS (127.0.0.11, reachable only in the machine's own network
# namespace): in a pod that is CoreDNS itself, and its loop plugin stops it ("Loop detected").
# The lab has no upstream resolver to offer (only lab machines and package registries may be
# reached), so the cluster serves cluster.local and nothing else: no forward, no loop check.
kubectl -n kube-system get configmap coredns -o 'jsonpath={.data.Corefile}' >"$work/Corefile.kubeadm"
awk '/^ *forward \. / { skip = 1 } skip { if ($0 ~ /^ *} *$/) skip = 0; next } /^ *loop *$/ { next } { print }' \
    "$work/Corefile.kubeadm" >"$work/Corefile"
if grep -q -e forward -e '^ *loop' "$work/Corefile" || ! grep -q 'kubernetes cluster.local' "$work/Corefile"; then
    fail "unexpected CoreDNS Corefile from kubeadm (see $work/Corefile.kubeadm)"
fi
kubectl -n kube-system create configmap coredns --from-file=Corefile="$work/Corefile" --dry-run=client -o yaml |
    kubectl replace -f - >&2
kubectl get nodes -o wide >&2

# ---- kubeadm join -----------------------------------------------------------------------------

phase "kubeadm join of ${MACHINES[1]}"
ca_hash=$(in_machine "${MACHINES[0]}" sh -c \
    'openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | sha256sum' | cut -d' ' -f1)
[[ "$ca_hash" =~ ^[0-9a-f]{64}$ ]] || fail "could not compute the CA public key hash (got '$ca_hash')"
cat >"$work/kubeadm-join.yaml" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: $cp_ip:6443
    token: "$token"
    caCertHashes: ["sha256:$ca_hash"]
nodeRegistration:
  name: ${MACHINES[1]}
  criSocket: unix:///run/containerd/containerd.sock
  imagePullPolicy: Never
  ignorePreflightErrors: [SystemVerification] # cgroup v1, as for init
  kubeletExtraArgs:
    - name: node-ip
      value: ${ADDRESSES[1]}
patches:
  directory: /etc/flotilla/kubeadm-patches
EOF
timeout 30 docker cp "$work/kubeadm-join.yaml" "${MACHINES[1]}:/etc/flotilla/kubeadm-join.yaml"
join_start=$SECONDS
if ! timeout "$((TIMEOUT * 2))" docker exec "${MACHINES[1]}" kubeadm join --config /etc/flotilla/kubeadm-join.yaml \
    >"$work/kubeadm-join.log" 2>&1; then
    tail -n 40 "$work/kubeadm-join.log" >&2
    fail "kubeadm join failed (log above)"
fi
log "kubeadm join: $((SECONDS - join_start))s"

# ---- pod network ------------------------------------------------------------------------------

phase "pod network: per-node CNI configuration + flanneld (vxlan)"
for m in "${MACHINES[@]}"; do
    deadline=$((SECONDS + TIMEOUT))
    until cidr=$(kubectl get node "$m" -o 'jsonpath={.spec.podCIDR}' 2>/dev/null) && [ -n "$cidr" ]; do
        ((SECONDS < deadline)) || fail "node $m got no podCIDR after ${TIMEOUT}s"
        sleep 2
    done
    # What flannel's CNI plugin would generate from /run/flannel/subnet.env: a bridge on the
    # node's pod subnet, MTU of the vxlan device (1500 - 50), masquerading left to flanneld.
    printf '%s\n' "{
  \"cniVersion\": \"1.0.0\",
  \"name\": \"flotilla-pods\",
  \"plugins\": [
    {
      \"type\": \"bridge\", \"bridge\": \"cni0\", \"isGateway\": true, \"ipMasq\": false,
      \"hairpinMode\": true, \"mtu\": 1450,
      \"ipam\": { \"type\": \"host-local\", \"ranges\": [[{ \"subnet\": \"$cidr\" }]], \"routes\": [{ \"dst\": \"0.0.0.0/0\" }] }
    },
    { \"type\": \"portmap\", \"capabilities\": { \"portMappings\": true } }
  ]
}" >"$work/cni-$m.conflist"
    in_machine "$m" mkdir -p /etc/cni/net.d
    timeout 30 docker cp "$work/cni-$m.conflist" "$m:/etc/cni/net.d/10-flotilla-pods.conflist"
    log "$m: pod subnet $cidr"
done
flannel_ref=$(awk '$1 ~ "/flannel:" { print $1 }' "$cache/images/images.txt")
[ -n "$flannel_ref" ] || fail "no flannel image in $cache/images/images.txt"
cat >"$work/flannel.yaml" <<EOF
# flannel $flannel_ref, after upstream's Documentation/kube-flannel.yml, without the two
# init containers (flannel's CNI plugin is not available; the CNI configuration is per node).
apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
  labels:
    pod-security.kubernetes.io/enforce: privileged
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: flannel
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get]
  - apiGroups: [""]
    resources: [nodes]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [nodes/status]
    verbs: [patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: flannel
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: flannel
subjects:
  - kind: ServiceAccount
    name: flannel
    namespace: kube-flannel
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: flannel
  namespace: kube-flannel
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
data:
  net-conf.json: |
    {
      "Network": "$POD_SUBNET",
      "EnableNFTables": false,
      "Backend": { "Type": "vxlan" }
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
spec:
  selector:
    matchLabels: { app: flannel }
  template:
    metadata:
      labels: { app: flannel }
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations:
        - operator: Exists
          effect: NoSchedule
      serviceAccountName: flannel
      containers:
        - name: kube-flannel
          image: $flannel_ref
          imagePullPolicy: Never
          command: [/opt/bin/flanneld]
          args: [--ip-masq, --kube-subnet-mgr, --iface=eth0, --healthz-port=8081]
          readinessProbe:
            httpGet: { path: /readyz, port: 8081 }
            initialDelaySeconds: 2
            periodSeconds: 5
          securityContext:
            privileged: false
            capabilities:
              add: [NET_ADMIN, NET_RAW]
          env:
            - name: POD_NAME
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
            - name: POD_NAMESPACE
              valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
          volumeMounts:
            - { name: run, mountPath: /run/flannel }
            - { name: flannel-cfg, mountPath: /etc/kube-flannel/ }
            - { name: xtables-lock, mountPath: /run/xtables.lock }
      volumes:
        - name: run
          hostPath: { path: /run/flannel }
        - name: flannel-cfg
          configMap: { name: kube-flannel-cfg }
        - name: xtables-lock
          hostPath: { path: /run/xtables.lock, type: FileOrCreate }
EOF
kubectl apply -f "$work/flannel.yaml" >&2
kubectl wait --for=condition=Ready nodes --all --timeout="${TIMEOUT}s" >&2
kubectl -n kube-system rollout status daemonset/kube-proxy --timeout="${TIMEOUT}s" >&2
kubectl -n kube-flannel rollout status daemonset/kube-flannel-ds --timeout="${TIMEOUT}s" >&2
kubectl -n kube-system rollout status deployment/coredns --timeout="${TIMEOUT}s" >&2
kubectl get nodes -o wide >&2

# ---- workload ---------------------------------------------------------------------------------

phase "demo web Deployment (one pod per node) behind NodePort $NODE_PORT"
# The control-plane node takes pods too, so that both nodes (and the path between them) are used.
kubectl taint nodes "${MACHINES[0]}" node-role.kubernetes.io/control-plane:NoSchedule- >&2
cat >"$work/web.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - labelSelector:
                matchLabels: { app: web }
              topologyKey: kubernetes.io/hostname
      containers:
        - name: web
          image: $DEMO_IMAGE
          imagePullPolicy: Never
          ports:
            - containerPort: 8080
          readinessProbe:
            httpGet: { path: /healthz, port: 8080 }
            periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector: { app: web }
  ports:
    - port: 8080
      targetPort: 8080
      nodePort: $NODE_PORT
EOF
kubectl apply -f "$work/web.yaml" >&2
kubectl rollout status deployment/web --timeout="${TIMEOUT}s" >&2
kubectl get pods -A -o wide >&2

phase "checks"
# From this host, through the NodePort of each node (kube-proxy's iptables rules; the chosen pod
# may be on the other node, reached over flannel's vxlan).
for ip in "${ADDRESSES[@]}"; do
    # kube-proxy programs the NodePort a moment after the endpoints are ready (measured: once
    # "Couldn't connect" 1 s after the rollout): wait for the first answer, bounded.
    deadline=$((SECONDS + 60))
    until curl -fsS --max-time 5 -o /dev/null "http://$ip:$NODE_PORT/" 2>/dev/null; do
        ((SECONDS < deadline)) || fail "http://$ip:$NODE_PORT/ did not answer within 60s"
        sleep 1
    done
    for try in 1 2 3 4 5 6; do
        body=$(curl -fsS --max-time 5 "http://$ip:$NODE_PORT/") ||
            fail "GET http://$ip:$NODE_PORT/ failed (try $try)"
        case "$body" in
            *"flotilla-demo $DEMO_TAG"*) ;;
            *) fail "http://$ip:$NODE_PORT/ answered '$body', expected the demo page" ;;
        esac
    done
    log "http://$ip:$NODE_PORT/ answered 6/6: $(printf '%s' "$body" | head -n 1)"
done
# Pod to pod across nodes, and a Service name through CoreDNS, from the pod on the first node.
from_pod=$(kubectl get pods -l app=web --field-selector "spec.nodeName=${MACHINES[0]}" -o 'jsonpath={.items[0].metadata.name}')
to_ip=$(kubectl get pods -l app=web --field-selector "spec.nodeName=${MACHINES[1]}" -o 'jsonpath={.items[0].status.podIP}')
if [ -z "$from_pod" ] || [ -z "$to_ip" ]; then fail "expected one web pod on each node"; fi
kubectl exec "$from_pod" -- /bin/busybox wget -q -O- "http://$to_ip:8080/" | grep -q "flotilla-demo $DEMO_TAG" ||
    fail "pod $from_pod (on ${MACHINES[0]}) could not reach pod $to_ip (on ${MACHINES[1]})"
log "pod $from_pod on ${MACHINES[0]} -> pod $to_ip on ${MACHINES[1]}: OK"
kubectl exec "$from_pod" -- /bin/busybox wget -q -O- "http://web.default.svc.cluster.local:8080/" |
    grep -q "flotilla-demo $DEMO_TAG" || fail "web.default.svc.cluster.local did not answer from a pod (CoreDNS / ClusterIP)"
log "pod -> http://web.default.svc.cluster.local:8080/ (CoreDNS + ClusterIP): OK"
kubectl get nodes -o wide >&2

phase "done"
log "PROVEN: kubeadm $k8s_version cluster of 2 lab machines, both Ready, NodePort $NODE_PORT answering on ${ADDRESSES[*]}; ${SECONDS}s in all"
