import * as pulumi from "@pulumi/pulumi";

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
