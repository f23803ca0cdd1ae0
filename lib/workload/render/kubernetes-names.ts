/**
 * Names, quantities and label checks of the Kubernetes rendering: Secret names, CPU and memory in
 * Kubernetes' canonical forms, DNS names and labels, and where a published port goes.
 */
import { createHash } from "crypto";
import { NormalizedPort } from "../app-spec";
import { ClusterCapabilities } from "../../core/cluster";

import { ResolvedRegistryAuth, ResolvedRegistryCredential } from "./kubernetes-objects";
import { HASH_LENGTH, registryOf } from "./kubernetes-limits";

/**
 * Name of the Secret holding `value` for secret `secret` of app `appName`:
 * `<app>-<secret>-<first 8 hex digits of sha256(app NUL secret NUL value)>`, the same hash as the
 * Swarm secret's ({@link swarmSecretName}), so an unchanged value keeps its Secret and a changed
 * one gets a new name. Like there, the name reveals 32 bits of a salted hash of the value.
 */
export function kubernetesSecretName(appName: string, secret: string, value: string): string {
    return `${appName}-${secret}-${hash(`${appName}\0${secret}\0${value}`)}`;
}

/** Name of the image pull Secret for `auth`: `<app>-registry-<8 hex of a salted sha256 of the credentials>`. */
export function kubernetesPullSecretName(appName: string, auth: ResolvedRegistryCredential | ResolvedRegistryAuth): string {
    return `${appName}-registry-${hash(`${appName}\0registry\0${registryOf(auth)}\0${auth.username}\0${auth.password}`)}`;
}

function hash(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex").slice(0, HASH_LENGTH);
}

/** Kubernetes' canonical CPU quantity of nano-CPUs: whole CPUs as a number, else millicpus (`250000000` → `"250m"`). */
export function formatKubernetesCpu(nanoCpus: number): string {
    return nanoCpus % 1e9 === 0 ? String(nanoCpus / 1e9) : `${Math.round(nanoCpus / 1e6)}m`;
}

/**
 * A Kubernetes memory quantity of a byte count, exact and short: the largest binary unit
 * (`Ki`..`Ti`) and the largest decimal unit (`k`..`T`) that divide it, whichever is shorter
 * (binary on a tie), else bytes: `268435456` → `"256Mi"`, `512000000` → `"512M"`, `1001` →
 * `"1001"`. Kubernetes keeps a quantity in the unit it was given, so a server-side apply reads
 * back this text.
 */
export function formatKubernetesMemory(bytes: number): string {
    if (bytes === 0) {
        return "0";
    }
    const largest = (units: readonly (readonly [string, number])[]): string => {
        const found = units.find(([, size]) => bytes % size === 0);
        return found ? `${bytes / found[1]}${found[0]}` : String(bytes);
    };
    const binary = largest([["Ti", 1024 ** 4], ["Gi", 1024 ** 3], ["Mi", 1024 ** 2], ["Ki", 1024]]);
    const decimal = largest([["T", 1000 ** 4], ["G", 1000 ** 3], ["M", 1000 ** 2], ["k", 1000]]);
    return decimal.length < binary.length ? decimal : binary;
}

// Kubernetes name and label grammars (k8s.io/apimachinery/pkg/util/validation).
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** True for a DNS-1123 label of at most 63 characters. */
export function isDns1123Label(name: string): boolean {
    return name.length <= 63 && DNS1123_LABEL.test(name);
}

/** True for a DNS-1123 subdomain of at most 253 characters. */
export function isDns1123Subdomain(name: string): boolean {
    return name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
}

/** True for a Kubernetes label key: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 characters. */
export function isKubernetesLabelKey(key: string): boolean {
    const slash = key.lastIndexOf("/");
    const name = slash < 0 ? key : key.slice(slash + 1);
    const prefix = slash < 0 ? undefined : key.slice(0, slash);
    return (
        name.length <= 63 && LABEL_NAME_PART.test(name) && (prefix === undefined || (prefix !== "" && isDns1123Subdomain(prefix)))
    );
}

/** True for a Kubernetes label value: at most 63 letters, digits, '-', '_' and '.', starting and ending alphanumeric (or empty). */
export function isKubernetesLabelValue(value: string): boolean {
    return value.length <= 63 && LABEL_VALUE.test(value);
}

/** Where a published port goes on Kubernetes, given the cluster's capabilities. */
export function kubernetesServiceType(port: NormalizedPort, capabilities: ClusterCapabilities): "NodePort" | "LoadBalancer" | "hostPort" {
    if (port.mode === "host") {
        return "hostPort";
    }
    return port.mode === "loadBalancer" && capabilities.loadBalancer ? "LoadBalancer" : "NodePort";
}
