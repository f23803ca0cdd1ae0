/**
 * A web + database app as an orchestrator-neutral {@link AppSpec}: the web tier (two replicas,
 * published on port 80, taking traffic once ready) reaches the database at host name `db` on its
 * internal port 5432; both read the database password from `/run/secrets/db-password`; the
 * database keeps its data in the named volume `db-data` (10 GiB where the cluster can size
 * volumes) on a node of zone `a`.
 *
 * Importing this file creates nothing: it exports functions. A program deploys the spec with a
 * deployer such as `SwarmApp`; {@link webDbCompose} shows what `docker stack deploy` would get,
 * {@link webDbKubernetes} what `kubectl apply -f -` would.
 */
import * as pulumi from "@pulumi/pulumi";
import { AppSpec, ClusterCapabilities, renderComposeText, renderKubernetesManifest } from "../lib";

/** The app. `registry` is where the web image lives, e.g. the lab's registry `10.213.0.2:5000`. */
export function webDbApp(dbPassword: pulumi.Input<string>, registry = "registry.lab:5000"): AppSpec {
    return {
        // The lab's kernel has no IPVS, so no routing mesh: publish on the nodes running a task.
        publishMode: "host",
        secrets: { "db-password": dbPassword },
        // Kubernetes: a 10 GiB claim of the default class; Swarm: a `local` volume (no size).
        volumes: { "db-data": { size: "10Gi" } },
        services: {
            web: {
                image: `${registry}/shop/web:1.4.2`,
                replicas: 2,
                ports: [{ target: 8080, published: 80 }],
                env: { DB_HOST: "db", DB_PASSWORD_FILE: "/run/secrets/db-password" },
                secrets: ["db-password"],
                resources: { limits: { cpu: "0.5", memory: "256Mi" }, reservations: { cpu: "100m", memory: "64Mi" } },
                // Traffic only once the app answers (Swarm: its one health check).
                readiness: { command: ["wget", "-q", "-O-", "http://localhost:8080/health"], interval: "10s" },
                // One extra task at a time, none taken down early (Swarm: start-first, parallelism 1).
                update: { maxSurge: 1, maxUnavailable: 0, delay: "5s", failureAction: "rollback" },
            },
            db: {
                image: "postgres:16",
                // Reached by the web tier only, never published.
                expose: [5432],
                env: { POSTGRES_PASSWORD_FILE: "/run/secrets/db-password" },
                secrets: ["db-password"],
                volumes: { "db-data": "/var/lib/postgresql/data" },
                // A local volume lives on one node: keep the database there.
                placement: ["zone==a"],
                resources: { limits: { memory: "1Gi" } },
                healthcheck: { command: "pg_isready -U postgres", startPeriod: "30s" },
            },
        },
    };
}

/**
 * The compose file (JSON text) `docker stack deploy -c - <stack>` would read for this app on a
 * cluster with `capabilities` (default: everything; the lab has no service virtual IPs, so its
 * services get DNS round-robin endpoints). Secret while the password is.
 */
export function webDbCompose(
    stackName: string,
    dbPassword: pulumi.Input<string>,
    capabilities?: ClusterCapabilities,
): pulumi.Output<string> {
    return renderComposeText(stackName, webDbApp(dbPassword), { capabilities });
}

/**
 * The Kubernetes objects (a multi-document YAML stream) `kubectl apply -n <namespace> -f -` would
 * take for this app on a cluster with `capabilities`: the same spec, so `web` reaches `db` by
 * name through a Service, `db-data` is a 10 GiB claim, the password a file under `/run/secrets`.
 * Always secret: the text holds the password (in its Secret). Never log it.
 */
export function webDbKubernetes(
    appName: string,
    namespace: string,
    dbPassword: pulumi.Input<string>,
    capabilities?: ClusterCapabilities,
): pulumi.Output<string> {
    return renderKubernetesManifest(webDbApp(dbPassword), { appName, namespace, capabilities });
}
