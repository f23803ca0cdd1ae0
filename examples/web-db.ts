/**
 * A web + database app as an orchestrator-neutral {@link AppSpec}: the web tier (two replicas,
 * published on port 80) reaches the database at host name `db`; both read the database password
 * from `/run/secrets/db-password`; the database keeps its data in the named volume `db-data` on
 * a node of zone `a`.
 *
 * Importing this file creates nothing: it exports functions. A program deploys the spec with a
 * deployer such as `SwarmApp`; {@link webDbCompose} shows what `docker stack deploy` would get.
 */
import * as pulumi from "@pulumi/pulumi";
import { AppSpec, composeText, normalizeAppSpec, renderCompose, resolveAppSpec, validateStackName } from "../lib";

/** The app. `registry` is where the web image lives, e.g. the lab's registry `10.213.0.2:5000`. */
export function webDbApp(dbPassword: pulumi.Input<string>, registry = "registry.lab:5000"): AppSpec {
    return {
        // The lab's kernel has no IPVS, so no routing mesh: publish on the nodes running a task.
        publishMode: "host",
        secrets: { "db-password": dbPassword },
        services: {
            web: {
                image: `${registry}/shop/web:1.4.2`,
                replicas: 2,
                ports: [{ target: 8080, published: 80 }],
                env: { DB_HOST: "db", DB_PASSWORD_FILE: "/run/secrets/db-password" },
                secrets: ["db-password"],
                resources: { limits: { cpu: "0.5", memory: "256Mi" }, reservations: { cpu: "100m", memory: "64Mi" } },
                healthcheck: { command: ["wget", "-q", "-O-", "http://localhost:8080/health"], interval: "10s" },
                update: { parallelism: 1, delay: "5s", failureAction: "rollback" },
            },
            db: {
                image: "postgres:16",
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

/** The compose file (JSON text) `docker stack deploy -c - <stack>` would read for this app. Secret while the password is. */
export function webDbCompose(stackName: string, dbPassword: pulumi.Input<string>): pulumi.Output<string> {
    const app = normalizeAppSpec("example:web-db", stackName, webDbApp(dbPassword));
    validateStackName("example:web-db", stackName, "stackName", stackName, app);
    return resolveAppSpec(app).apply((resolved) => composeText(renderCompose(stackName, resolved)));
}
