/**
 * flotilla: Pulumi components from machines to a running container image. This root export is the
 * stable API, named one by one (test/unit/public-api.test.ts holds the list); every other export of
 * the package's modules is internal. Cloud pools and the `@pulumi/kubernetes` path have their own
 * entries: `flotilla/aws`, `flotilla/azure`, `flotilla/proxmox`, `flotilla/kubernetes`.
 *
 * @packageDocumentation
 */

// core: the contracts between the layers.
export { isHost, isRuntimeHost } from "./core/host";
export type {
    CgroupDriver,
    Host,
    HostArchitecture,
    HostLabels,
    HostPlatform,
    PackageAccess,
    RuntimeHost,
    RuntimeInfo,
    RuntimeKind,
    SshConnection,
} from "./core/host";
export { isHostPool } from "./core/host-pool";
export type { IHostPool } from "./core/host-pool";
export { KUBERNETES_PORTS, SWARM_PORTS, isKubernetesCluster, isSwarmCluster } from "./core/cluster";
export type { ClusterCapabilities, ClusterPort, ICluster, IKubernetesCluster, ISwarmCluster, Orchestrator } from "./core/cluster";
export type { RegistryCredential } from "./core/registry-credential";
export { InvalidArgumentError } from "./core/validate";

// hosts: where machines come from (the cloud pools are behind their subpath entries).
export type { HostPoolArgs, MachinePoolArgs, PoolAccessArgs, VmPoolArgs } from "./hosts/common/host-pool-args";
export type { SuppliedSshKey } from "./hosts/common/cloud-common";
export { DEFAULT_LAB_SUBNET, LabHostPool } from "./hosts/lab/lab-host-pool";
export type { LabHostPoolArgs } from "./hosts/lab/lab-host-pool";
export { LabRegistry } from "./hosts/lab/lab-registry";
export type { LabRegistryArgs } from "./hosts/lab/lab-registry";
export { kubernetesImageArchives } from "./hosts/lab/kubernetes-archives";
export { ExistingHosts } from "./hosts/existing/existing-hosts";
export type { ExistingBastion, ExistingHostsArgs, ExistingMachine } from "./hosts/existing/existing-hosts";

// runtime: what runs containers on a host.
export { DockerEngine, dockerEngineUserData } from "./runtime/docker-engine";
export type { DockerEngineArgs } from "./runtime/docker-engine";
export type { DockerEngineSettings, DockerEngineSource } from "./runtime/docker-engine-settings";
export { Containerd, containerdUserData } from "./runtime/containerd";
export type { ContainerdArgs } from "./runtime/containerd";
export type { ContainerdSettings, ContainerdSource } from "./runtime/containerd-settings";

// cluster: how hosts become one cluster.
export { SwarmCluster } from "./cluster/swarm/swarm-cluster";
export type { SwarmClusterArgs, SwarmNode } from "./cluster/swarm/swarm-cluster";
export type { KubernetesClusterBaseArgs } from "./cluster/kubernetes/kubernetes-cluster-base";
export { KubeadmCluster } from "./cluster/kubernetes/kubeadm-cluster";
export type { KubeadmClusterArgs } from "./cluster/kubernetes/kubeadm-cluster";
export type { KubeadmFlannelBackend, KubeadmSource } from "./cluster/kubernetes/kubeadm-config";
export { K3sCluster } from "./cluster/kubernetes/k3s-cluster";
export type { K3sClusterArgs } from "./cluster/kubernetes/k3s-cluster";
export type { K3sComponent, K3sFlannelBackend, K3sSource } from "./cluster/kubernetes/k3s-config";
export { KubernetesCluster } from "./cluster/kubernetes/kubernetes-cluster";
export type {
    KubeadmRegistryCredential,
    KubernetesClusterArgs,
    KubernetesClusterConstructor,
    LegacyKubeadmCluster,
} from "./cluster/kubernetes/kubernetes-cluster";

// workload: what runs on the cluster.
export type {
    AppSpec,
    ExposedPortSpec,
    HealthcheckSpec,
    PortProtocol,
    PortSpec,
    PublishMode,
    ResourceQuantities,
    ResourcesSpec,
    ServiceMode,
    ServiceSpec,
    UpdateFailureAction,
    UpdateOrder,
    UpdatePolicySpec,
    VolumeMountSpec,
    VolumeSpec,
} from "./workload/app-spec/types";
export type { AppDeployerArgs } from "./workload/deploy/app-deployer-args";
export type { KubernetesDeployerArgs } from "./workload/deploy/kubernetes-deployer-args";
export type { RegistryAuth } from "./workload/deploy/registry-auth";
export { SwarmApp } from "./workload/deploy/swarm-app";
export type { ServiceReplicas, SwarmAppArgs } from "./workload/deploy/swarm-app";
export { KubernetesApp } from "./workload/deploy/kubernetes-app";
export type { KubernetesAppArgs, KubernetesServiceReplicas } from "./workload/deploy/kubernetes-app";
export { renderComposeText, renderKubernetesManifest } from "./workload/render/render-app";
export type { ComposeOptions } from "./workload/render/compose-file";
export type { KubernetesManifestOptions } from "./workload/render/kubernetes-objects";

// shared: constructs and helpers users compose with.
export { multipartUserData } from "./shared/cloud-init";
export { LocalScript } from "./shared/local-script";
export type { LocalScriptArgs } from "./shared/local-script";
export { RemoteScript } from "./shared/remote-script";
export type { RemoteScriptArgs } from "./shared/remote-script";
export { SshKeyPair } from "./shared/ssh-key-pair";
export type { SshKeyPairArgs } from "./shared/ssh-key-pair";
