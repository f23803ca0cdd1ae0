/**
 * The public form of the renderers: an {@link AppSpec} as users write it (Outputs welcome) in, the
 * text a deployer would hand to `docker stack deploy` or `kubectl apply` out. The object-level
 * renderers ({@link renderCompose}, {@link renderKubernetes}) and the normalized spec they take
 * are internal.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkRegistryCredential } from "../../core/registry-credential";
import { Validator } from "../../core/validate";
import { normalizeAppSpec, resolveAppSpec } from "../app-spec/normalize";
import { AppSpec } from "../app-spec/types";
import { composeText, renderCompose, validateStackName } from "./compose";
import { ComposeOptions } from "./compose-file";
import { KUBERNETES_RENDER_TYPE, KubernetesManifestOptions } from "./kubernetes-objects";
import { checkKubernetesApp } from "./check-kubernetes-app";
import { kubernetesManifest, renderKubernetes } from "./render-kubernetes";

/** Type token in the messages of {@link renderComposeText}. */
export const COMPOSE_TEXT_TYPE = "flotilla:workload:compose";

/**
 * The compose file (format 3.8, as JSON text, which YAML readers take as it is) that
 * `docker stack deploy -c - <stackName>` would read for `app`: what `SwarmApp` deploys, without
 * deploying anything. Secret values never appear in it (Swarm secrets are referenced by a name
 * carrying a hash of their value), but the Output is secret when the app has secrets.
 *
 * Plain inputs are checked now (an {@link InvalidArgumentError} naming the property); values
 * given as Outputs are checked when they resolve.
 *
 * @param stackName the Swarm stack's name (prefix of its networks, volumes and secrets).
 * @param app the app, as {@link SwarmApp} takes it.
 * @param opts labels to add and the target cluster's capabilities.
 * @returns the compose file's text.
 */
export function renderComposeText(stackName: string, app: AppSpec, opts: ComposeOptions = {}): pulumi.Output<string> {
    const normalized = normalizeAppSpec(COMPOSE_TEXT_TYPE, String(stackName), app);
    validateStackName(COMPOSE_TEXT_TYPE, String(stackName), "stackName", stackName, normalized);
    return resolveAppSpec(normalized).apply((resolved) => composeText(renderCompose(stackName, resolved, opts)));
}

/**
 * The Kubernetes objects (a multi-document YAML stream whose documents are JSON) that
 * `kubectl apply -n <namespace> -f -` would take for `app`: what `KubernetesApp` applies, without
 * applying anything. In apply order: Secrets, the image pull secret, PersistentVolumeClaims,
 * Services, Deployments and DaemonSets.
 *
 * ALWAYS SECRET: the text holds the app's secret values and the registry password (base64 in its
 * `Secret` objects). Never log it.
 *
 * Plain inputs are checked now (an {@link InvalidArgumentError} naming the property); values
 * given as Outputs are checked when they resolve.
 *
 * @param app the app, as {@link KubernetesApp} takes it.
 * @param opts the app's name and namespace, the target cluster's capabilities and the rest.
 * @returns the manifest's text, a secret Output.
 */
export function renderKubernetesManifest(app: AppSpec, opts: KubernetesManifestOptions): pulumi.Output<string> {
    const name = String(opts?.appName);
    const normalized = normalizeAppSpec(KUBERNETES_RENDER_TYPE, name, app);
    // Checked now without the credentials (their Outputs are checked below, when they resolve).
    const render = { ...opts, registryAuth: undefined };
    checkKubernetesApp(KUBERNETES_RENDER_TYPE, name, normalized, render);
    const registryAuth = opts.registryAuth;
    const v = new Validator(KUBERNETES_RENDER_TYPE, name);
    const auth = registryAuth === undefined ? undefined : checkRegistryCredential(v, "registryAuth", registryAuth);
    const authResolved = auth
        ? pulumi.all([auth.registry, auth.username, auth.password]).apply(([registry, username, password]) => ({ registry, username, password }))
        : pulumi.output(undefined);
    return pulumi.secret(
        pulumi
            .all([resolveAppSpec(normalized), authResolved])
            .apply(([resolved, a]) => kubernetesManifest(renderKubernetes(resolved, { ...render, ...(a ? { registryAuth: a } : {}) }))),
    );
}
