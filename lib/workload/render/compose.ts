/**
 * Renders a {@link NormalizedAppSpec} as a Docker compose file, format 3.8, for
 * `docker stack deploy` on a Swarm. Pure: the result is a plain, JSON-able object; nothing is
 * created. The deployer (e.g. `SwarmApp`) creates the secrets ({@link swarmSecrets}), writes
 * {@link composeText} and runs `docker stack deploy -c - <stack>` (`-c -` reads standard input).
 *
 * JSON, not YAML: the Docker CLI's compose loader (docker/cli `cli/compose/loader.ParseYAML`,
 * used by `docker stack deploy`) parses the file with a YAML library, and a JSON document is a
 * YAML flow mapping, so JSON text is accepted as it is. {@link composeText} also escapes the few
 * characters a YAML 1.1 parser would read differently from JSON (C1 controls, U+2028, U+2029...).
 *
 * What Swarm does with a stack, and how this renderer accounts for it:
 * - Everything under `deploy` is honoured only by Swarm (`docker compose` ignores most of it), and
 *   `depends_on` is ignored by `docker stack deploy`: services start in no particular order, so a
 *   client must retry until its server (e.g. the database) answers. None is rendered.
 * - Services join one overlay network (`<stack>_default`, attachable so one-off containers can
 *   join it for debugging); Swarm gives each service its compose name as a network alias, which
 *   is how `web` reaches `db` at host name `db`.
 * - Named volumes become `<stack>_<volume>` and, with the default `local` driver, live on each
 *   node separately: pin a stateful service with a placement constraint.
 * - Swarm secrets are immutable: a secret is rendered as an *external* secret whose name carries a
 *   hash of its value (see {@link swarmSecretName}). A changed value is a new secret name, which
 *   changes the service spec and rolls the service; the deployer creates the new secret before
 *   the deploy and may remove the old one after it (Swarm refuses while a service uses it).
 *   Values never appear in the compose file.
 * - The compose loader interpolates `$VAR` and `${VAR}` in every string value, from the
 *   environment of the `docker` command: every `$` is rendered as `$$`, so values arrive as given.
 * - Durations are Go duration strings (`time.ParseDuration`), memory is a byte count as a string
 *   (`units.RAMInBytes`), CPUs a decimal string (`opts.ParseCPUs`), as the 3.8 schema requires.
 * - `docker stack deploy` keeps services that left the file unless run with `--prune`.
 *
 * How the neutral spec maps to Swarm:
 * - Update pace: `update_config.order` / `parallelism` are the normalized Swarm view of the
 *   policy: `maxSurge` > 0 → `start-first` with `parallelism` = `maxSurge` (also when
 *   `maxUnavailable` > 0: Swarm cannot bound both); `maxSurge` 0 → `stop-first` with
 *   `parallelism` = `maxUnavailable`. The rollback uses the same pace.
 * - Internal ports (`expose`): every port of a task is reachable on the overlay network, so
 *   nothing is rendered.
 * - Publishing: `host` → `mode: host`; `ingress` → `mode: ingress` (the routing mesh);
 *   `loadBalancer` → `mode: ingress` too (Swarm provisions no load balancer: put one in front of
 *   the nodes). Both of the latter need the routing mesh ({@link checkSwarmCapabilities}).
 * - Discovery by name: with a service virtual IP (the default), Swarm's `vip` endpoint mode (not
 *   rendered); a cluster without one (no IPVS, as in the lab) gets `endpoint_mode: dnsrr` on
 *   every service, so `web` still reaches `db` by name through DNS round-robin.
 * - Volumes: `class` → the volume's `driver` (only when given); `size` is not expressible with
 *   the `local` driver and is left out (it is the Kubernetes PersistentVolumeClaim's request).
 * - Health: Swarm has one health check, which both gates routing and updates (a task is used once
 *   healthy) and restarts a task that turns unhealthy: it renders `liveness` (which
 *   `healthcheck` fills), else `readiness` (so a rolling update still waits for new tasks to be
 *   ready; such a task is also restarted if it stays unready), else none (the image's own).
 */
import { createHash } from "crypto";
import {
    NormalizedAppSpec,
    NormalizedHealthcheck,
    NormalizedQuantities,
    NormalizedService,
    NormalizedUpdatePolicy,
    NormalizedPort,
    PlacementConstraint,
    formatDuration,
} from "../app-spec";
import { ClusterCapabilities, FULL_CAPABILITIES } from "../../core/cluster";
import { Validator } from "../../core/validate";
import {
    ComposeDeploy,
    ComposeFile,
    ComposeHealthcheck,
    ComposeOptions,
    ComposeResources,
    ComposeService,
    ComposeUpdateConfig,
    SwarmSecret,
} from "./compose-file";

/** The compose file format rendered: every field used exists in 3.8, which `docker stack deploy` reads since Docker 19.03. */
export const COMPOSE_FILE_VERSION = "3.8";
/** Key of the app's network in the compose file; Swarm names it `<stack>_default`. */
export const APP_NETWORK = "default";
/** Label carrying the stack name, on services, containers, the network and volumes. */
export const LABEL_APP = "flotilla.app";
/** Label carrying the service name, on services and containers. */
export const LABEL_SERVICE = "flotilla.service";
/** Label carrying the secret's name in the app, on Swarm secrets (set by the deployer). */
export const LABEL_SECRET = "flotilla.secret";
/** Hex digits of the value hash in a Swarm secret name. */
export const SECRET_HASH_LENGTH = 8;
/** Wait before a failed task is restarted. */
export const RESTART_DELAY_MS = 5_000;
/** Type token in the messages of the renderer's own checks. */
const COMPOSE_TYPE = "flotilla:workload:compose";
/** Longest Swarm service name (`<stack>_<service>`): a DNS label. */
const SERVICE_NAME_MAX = 63;
/** Longest Swarm secret name. */
const SECRET_NAME_MAX = 64;

/**
 * Name of the Swarm secret holding `value` for secret `secret` of stack `stackName`:
 * `<stack>_<secret>_<first 8 hex digits of sha256(stack NUL secret NUL value)>`. Deterministic, so
 * an unchanged value keeps its secret, and a changed one gets a new name (Swarm secrets are
 * immutable), which rolls the services that use it. The name reveals 32 bits of a hash salted
 * with the stack and secret names: harmless for generated secrets, but it lets whoever can list
 * the Swarm's secrets test guesses of a weak password.
 */
export function swarmSecretName(stackName: string, secret: string, value: string): string {
    const hash = createHash("sha256").update(`${stackName}\0${secret}\0${value}`, "utf8").digest("hex");
    return `${stackName}_${secret}_${hash.slice(0, SECRET_HASH_LENGTH)}`;
}

/** The Swarm secrets of an app, sorted by secret name, for the deployer to create before deploying. */
export function swarmSecrets(stackName: string, app: NormalizedAppSpec<string>): SwarmSecret[] {
    return Object.keys(app.secrets)
        .sort()
        .map((secret) => ({
            secret,
            name: swarmSecretName(stackName, secret, app.secrets[secret]),
            value: app.secrets[secret],
            labels: { [LABEL_APP]: stackName, [LABEL_SECRET]: secret },
        }));
}

/**
 * Validates a stack name for an app, at construction: a DNS label short enough that Swarm's
 * derived names fit, `<stack>_<service>` (at most 63 characters) and `<stack>_<secret>_<hash>`
 * (at most 64). Throws an `InvalidArgumentError` of `construct` / `resourceName` for `property`.
 */
export function validateStackName(
    construct: string,
    resourceName: string,
    property: string,
    stackName: unknown,
    app: NormalizedAppSpec<unknown>,
): string {
    const v: Validator = new Validator(construct, resourceName);
    const name = v.dnsLabel(property, stackName, SERVICE_NAME_MAX);
    const longestService = app.services.reduce((a, s) => (s.name.length > a.length ? s.name : a), "");
    const longestSecret = Object.keys(app.secrets).reduce((a, s) => (s.length > a.length ? s : a), "");
    const max = Math.min(
        SERVICE_NAME_MAX - 1 - longestService.length,
        longestSecret === "" ? SERVICE_NAME_MAX : SECRET_NAME_MAX - 2 - SECRET_HASH_LENGTH - longestSecret.length,
    );
    if (name.length > max) {
        v.fail(
            property,
            name,
            `a name of at most ${Math.max(max, 0)} characters for this app, so that Swarm's names fit: ` +
                `<stack>_<service> in 63 (longest service "${longestService}")` +
                (longestSecret === "" ? "" : ` and <stack>_<secret>_<hash> in 64 (longest secret "${longestSecret}")`),
        );
    }
    return name;
}

/** Renders nano-CPUs as the decimal string Swarm parses exactly (`500000000` → `"0.5"`). */
export function formatCpus(nanoCpus: number): string {
    const whole = Math.floor(nanoCpus / 1e9);
    const fraction = String(nanoCpus % 1e9).padStart(9, "0").replace(/0+$/, "");
    return fraction === "" ? String(whole) : `${whole}.${fraction}`;
}

/** Renders a placement constraint in Swarm syntax: `node.labels.<label> == <value>`. */
export function swarmConstraint(c: PlacementConstraint): string {
    return `node.labels.${c.label} ${c.operator} ${c.value}`;
}

/** The Swarm endpoint mode for a cluster: `vip` with service virtual IPs, else `dnsrr` (DNS round-robin). */
export function swarmEndpointMode(capabilities: ClusterCapabilities): "vip" | "dnsrr" {
    return capabilities.serviceVirtualIp ? "vip" : "dnsrr";
}

/** The Swarm publish mode of a port: `host`, or `ingress` (the routing mesh) for `ingress` and `loadBalancer`. */
export function swarmPublishMode(port: NormalizedPort): "host" | "ingress" {
    return port.mode === "host" ? "host" : "ingress";
}

/**
 * Checks that a cluster with `capabilities` can run `app` as a Swarm stack; pure, so a deployer
 * can call it in an `apply` on the cluster's reported capabilities, and {@link renderCompose}
 * calls it. A port published through the routing mesh (`ingress` or `loadBalancer`) needs the
 * routing mesh, and a service virtual IP (Swarm refuses `endpoint_mode: dnsrr` for such ports).
 * Throws an `InvalidArgumentError` of `construct` / `resourceName` naming the port
 * (`services.web.ports[0]`), why and the fix (publish in `host` mode).
 */
export function checkSwarmCapabilities(
    construct: string,
    resourceName: string,
    app: NormalizedAppSpec<unknown>,
    capabilities: ClusterCapabilities,
): void {
    const v: Validator = new Validator(construct, resourceName);
    for (const service of app.services) {
        service.ports.forEach((port, i) => {
            if (swarmPublishMode(port) === "host") {
                return;
            }
            const fix = `a port published in "host" mode (set its mode, or the app's publishMode, to "host")`;
            if (!capabilities.routingMesh) {
                v.fail(
                    `services.${service.name}.ports[${i}]`,
                    port,
                    `${fix}: this cluster has no routing mesh (e.g. no IPVS in its kernel), which "${port.mode}" ` +
                        "publishing needs on Swarm",
                );
            }
            if (!capabilities.serviceVirtualIp) {
                v.fail(
                    `services.${service.name}.ports[${i}]`,
                    port,
                    `${fix}: this cluster has no service virtual IP (e.g. no IPVS in its kernel), so services use ` +
                        'DNS round-robin endpoints (endpoint_mode "dnsrr"), which Swarm refuses for ports published ' +
                        "through the routing mesh",
                );
            }
        });
    }
}

/**
 * Renders the compose file of an app deployed as stack `stackName`, every Input resolved
 * ({@link resolveAppSpec}). Secret values are used only to name the Swarm secrets. The stack name
 * must pass {@link validateStackName} (checked again here), and the app must suit the cluster's
 * capabilities ({@link checkSwarmCapabilities}, with `opts.capabilities`).
 */
export function renderCompose(
    stackName: string,
    app: NormalizedAppSpec<string>,
    opts: ComposeOptions = {},
): ComposeFile {
    validateStackName(COMPOSE_TYPE, stackName, "stackName", stackName, app);
    const capabilities = opts.capabilities ?? FULL_CAPABILITIES;
    checkSwarmCapabilities(COMPOSE_TYPE, stackName, app, capabilities);
    const appLabels = sortKeys({ ...(opts.labels ?? {}), [LABEL_APP]: stackName });
    const services: Record<string, ComposeService> = {};
    for (const service of app.services) {
        services[service.name] = renderService(stackName, service, opts.labels ?? {}, swarmEndpointMode(capabilities));
    }
    const compose: ComposeFile = {
        version: COMPOSE_FILE_VERSION,
        services,
        networks: { [APP_NETWORK]: { driver: "overlay", attachable: true, labels: appLabels } },
        ...(app.volumes.length > 0
            ? {
                  volumes: Object.fromEntries(
                      app.volumes.map((volume) => [
                          volume.name,
                          { ...(volume.class !== undefined ? { driver: volume.class } : {}), labels: appLabels },
                      ]),
                  ),
              }
            : {}),
        ...(Object.keys(app.secrets).length > 0
            ? {
                  secrets: Object.fromEntries(
                      swarmSecrets(stackName, app).map((s) => [s.secret, { external: true as const, name: s.name }]),
                  ),
              }
            : {}),
    };
    return escapeDollars(compose);
}

function renderService(
    stackName: string,
    s: NormalizedService<string>,
    extraLabels: Readonly<Record<string, string>>,
    endpointMode: "vip" | "dnsrr",
): ComposeService {
    const labels = sortKeys({ ...s.labels, ...extraLabels, [LABEL_APP]: stackName, [LABEL_SERVICE]: s.name });
    const limits = quantities(s.resources.limits);
    const reservations = quantities(s.resources.reservations);
    const deploy: ComposeDeploy = {
        mode: s.mode,
        ...(s.replicas !== undefined ? { replicas: s.replicas } : {}),
        ...(endpointMode === "dnsrr" ? { endpoint_mode: "dnsrr" as const } : {}),
        labels,
        ...(limits || reservations
            ? { resources: { ...(limits ? { limits } : {}), ...(reservations ? { reservations } : {}) } }
            : {}),
        restart_policy: { condition: "any", delay: formatDuration(RESTART_DELAY_MS) },
        ...(s.placement.length > 0 ? { placement: { constraints: s.placement.map(swarmConstraint) } } : {}),
        update_config: updateConfig(s.update, s.update.failureAction),
        rollback_config: updateConfig(s.update, "pause"),
    };
    const env = Object.keys(s.env);
    // Swarm's one health check: liveness (what `healthcheck` fills), else readiness.
    const check = s.liveness ?? s.readiness;
    return {
        image: s.image,
        ...(s.command ? { command: [...s.command] } : {}),
        ...(s.entrypoint ? { entrypoint: [...s.entrypoint] } : {}),
        ...(env.length > 0 ? { environment: Object.fromEntries(env.sort().map((k) => [k, s.env[k]])) } : {}),
        ...(s.ports.length > 0
            ? {
                  ports: s.ports.map((p) => ({
                      target: p.target,
                      published: p.published,
                      protocol: p.protocol,
                      mode: swarmPublishMode(p),
                  })),
              }
            : {}),
        ...(s.volumes.length > 0
            ? {
                  volumes: s.volumes.map((m) => ({
                      type: "volume" as const,
                      source: m.volume,
                      target: m.path,
                      read_only: m.readOnly,
                  })),
              }
            : {}),
        ...(s.secrets.length > 0 ? { secrets: s.secrets.map((name) => ({ source: name, target: name })) } : {}),
        ...(check ? { healthcheck: healthcheck(check) } : {}),
        networks: [APP_NETWORK],
        labels,
        deploy,
    };
}

function quantities(q: NormalizedQuantities): ComposeResources | undefined {
    if (q.nanoCpus === undefined && q.memoryBytes === undefined) {
        return undefined;
    }
    return {
        ...(q.nanoCpus !== undefined ? { cpus: formatCpus(q.nanoCpus) } : {}),
        ...(q.memoryBytes !== undefined ? { memory: String(q.memoryBytes) } : {}),
    };
}

function updateConfig(u: NormalizedUpdatePolicy, failureAction: string): ComposeUpdateConfig {
    return {
        parallelism: u.parallelism,
        delay: formatDuration(u.delayMs),
        order: u.order,
        failure_action: failureAction,
        monitor: formatDuration(u.monitorMs),
    };
}

function healthcheck(h: NormalizedHealthcheck): ComposeHealthcheck {
    return {
        test: typeof h.command === "string" ? ["CMD-SHELL", h.command] : ["CMD", ...h.command],
        interval: formatDuration(h.intervalMs),
        timeout: formatDuration(h.timeoutMs),
        retries: h.retries,
        start_period: formatDuration(h.startPeriodMs),
    };
}

function sortKeys(record: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Doubles every `$` in every string value (not keys): the compose loader reads `$$` as `$`. */
function escapeDollars<T>(value: T): T {
    if (typeof value === "string") {
        return value.replace(/\$/g, "$$$$") as T;
    }
    if (Array.isArray(value)) {
        return value.map(escapeDollars) as T;
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, escapeDollars(x)])) as T;
    }
    return value;
}

/**
 * The compose file as text for `docker stack deploy -c`: JSON (two-space indented, newline at the
 * end), which the Docker CLI's YAML parser reads as is. Characters that JSON leaves raw but YAML
 * 1.1 treats as line breaks or refuses (DEL, C1 controls, U+2028, U+2029, U+FEFF, U+FFFE, U+FFFF)
 * are written as `\uXXXX` escapes, which both read the same.
 */
export function composeText(compose: ComposeFile): string {
    const json = JSON.stringify(compose, null, 2).replace(
        /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    return `${json}\n`;
}
