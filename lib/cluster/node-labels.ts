import * as pulumi from "@pulumi/pulumi";
import { Reason, Validator, isPlainObject } from "../core/validate";

/**
 * Node labels as the cluster scripts take them: one `key=value` line each, labels without a value
 * left out (a host's optional `region`/`zone`). Shared by the Swarm and Kubernetes clusters.
 */
export function nodeLabelLines(labels: Record<string, pulumi.Input<string> | undefined>): pulumi.Output<string> {
    return pulumi
        .all(
            Object.entries(labels)
                .filter(([, value]) => value !== undefined)
                .map(([key, value]) => pulumi.interpolate`${key}=${value as pulumi.Input<string>}`),
        )
        .apply((kvs) => kvs.join("\n"));
}

// Kubernetes' label grammar (k8s.io/apimachinery/pkg/util/validation: IsQualifiedName, IsValidLabelValue).
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** What a Kubernetes label key is. */
export const KUBERNETES_LABEL_KEY_EXPECTED =
    "a Kubernetes label key [prefix/]name: the name 1 to 63 letters, digits, '-', '_' and '.', starting and ending with a " +
    "letter or digit; the prefix a DNS subdomain of at most 253 characters (lower-case letters, digits, '-' and '.')";
/** What a Kubernetes label value is. */
export const KUBERNETES_LABEL_VALUE_EXPECTED =
    "a Kubernetes label value: empty, or at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit";

/** True for a Kubernetes label key: `[prefix/]name`, the prefix a DNS subdomain (at most 253), the name at most 63. */
export function isKubernetesNodeLabelKey(key: string): boolean {
    const parts = key.split("/");
    if (parts.length > 2) return false;
    const name = parts[parts.length - 1];
    const prefix = parts.length === 2 ? parts[0] : undefined;
    return name.length <= 63 && LABEL_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix)));
}

/** True for a Kubernetes label value: empty, or at most 63 characters of a label name's alphabet. */
export function isKubernetesNodeLabelValue(value: string): boolean {
    return value === "" || (value.length <= 63 && LABEL_NAME.test(value));
}

/**
 * Labels in kubernetes.io and k8s.io a kubelet may set on its own node (k8s.io/kubelet/pkg/apis:
 * `IsKubeletLabel`), besides the prefixes (and their subdomains) {@link KUBELET_LABEL_NAMESPACES}.
 */
export const KUBELET_WELL_KNOWN_LABELS: readonly string[] = [
    "kubernetes.io/hostname",
    "kubernetes.io/os",
    "kubernetes.io/arch",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "beta.kubernetes.io/instance-type",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
];
/** The label prefixes (and their subdomains) a kubelet may set on its own node. */
export const KUBELET_LABEL_NAMESPACES: readonly string[] = ["kubelet.kubernetes.io", "node.kubernetes.io"];

const inNamespace = (prefix: string, namespace: string) => prefix === namespace || prefix.endsWith(`.${namespace}`);

/**
 * True when a kubelet refuses the label among its own `--node-labels` (and the NodeRestriction
 * admission refuses it from a node): a key in kubernetes.io or k8s.io (or a subdomain, e.g.
 * `node-role.kubernetes.io/worker`) that is neither under {@link KUBELET_LABEL_NAMESPACES} nor one of
 * {@link KUBELET_WELL_KNOWN_LABELS}.
 */
export function kubeletRefusesLabel(key: string): boolean {
    const slash = key.indexOf("/");
    if (slash < 0) return false;
    const prefix = key.slice(0, slash);
    if (!inNamespace(prefix, "kubernetes.io") && !inNamespace(prefix, "k8s.io")) return false;
    if (KUBELET_WELL_KNOWN_LABELS.includes(key)) return false;
    return !KUBELET_LABEL_NAMESPACES.some((ns) => inNamespace(prefix, ns));
}

/** Why {@link kubeletRefusesLabel} refuses a key, for the refusal's "expected". */
const KUBELET_LABEL_EXPECTED =
    "a label the kubelet may set on its own node: k3s passes node labels to the kubelet (--node-labels), which refuses " +
    "kubernetes.io and k8s.io labels (their subdomains too, e.g. node-role.kubernetes.io) other than the prefixes " +
    `${KUBELET_LABEL_NAMESPACES.map((ns) => `${ns}/`).join(" and ")} and the well-known ${KUBELET_WELL_KNOWN_LABELS.join(", ")}; ` +
    "use a prefix of your own (e.g. example.com/role)";

/** Options of {@link checkKubernetesNodeLabels}. */
export interface KubernetesNodeLabelRules {
    /**
     * The labels reach the kubelet's `--node-labels` (k3s' `node-label`): the labels a kubelet may
     * not set on its own node are refused too ({@link kubeletRefusesLabel}).
     */
    readonly viaKubelet: boolean;
}

/**
 * Checks node labels by Kubernetes' label rules (not Swarm's: {@link Validator.labels}), each as
 * `<property>.<key>`: the key ({@link isKubernetesNodeLabelKey}; with `viaKubelet`, not one the
 * kubelet refuses), the value ({@link isKubernetesNodeLabelValue}; undefined values are left out, as
 * {@link nodeLabelLines} does). A plain value is checked now; an Output when it resolves (the
 * returned map holds the checked Output). Returns the labels to render.
 */
export function checkKubernetesNodeLabels(
    v: Validator,
    property: string,
    labels: Record<string, pulumi.Input<string> | undefined>,
    rules: KubernetesNodeLabelRules,
): Record<string, pulumi.Input<string>> {
    const out: Record<string, pulumi.Input<string>> = {};
    for (const [key, value] of Object.entries(labels)) {
        if (value === undefined) continue;
        const at = `${property}.${key}`;
        if (!isKubernetesNodeLabelKey(key)) v.fail(at, key, KUBERNETES_LABEL_KEY_EXPECTED);
        if (rules.viaKubelet && kubeletRefusesLabel(key)) v.fail(at, key, KUBELET_LABEL_EXPECTED);
        const check = (x: unknown): string | Reason => (typeof x === "string" && isKubernetesNodeLabelValue(x) ? x : new Reason());
        if (pulumi.Output.isInstance(value) || typeof (value as { then?: unknown }).then === "function") {
            out[key] = v.later<string>(at, value, KUBERNETES_LABEL_VALUE_EXPECTED, check);
        } else {
            if (check(value) instanceof Reason) v.fail(at, value, KUBERNETES_LABEL_VALUE_EXPECTED);
            out[key] = value;
        }
    }
    return out;
}

/** `nodeLabels` of a Kubernetes cluster: a plain object of plain strings, checked by {@link checkKubernetesNodeLabels}. */
export function kubernetesNodeLabelsArg(v: Validator, property: string, value: unknown, rules: KubernetesNodeLabelRules): Record<string, string> {
    if (value === undefined) return {};
    v.plain(property, value);
    if (!isPlainObject(value)) v.fail(property, value, "an object mapping Kubernetes label keys to string values");
    for (const [key, x] of Object.entries(value)) {
        if (typeof x !== "string") v.fail(`${property}.${key}`, x, KUBERNETES_LABEL_VALUE_EXPECTED);
    }
    return checkKubernetesNodeLabels(v, property, value as Record<string, string>, rules) as Record<string, string>;
}
