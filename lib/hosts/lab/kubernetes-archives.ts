/**
 * The Kubernetes images a kubeadm lab cluster pulls from its `LabRegistry`, as the registry's
 * `archives` map, read from the cache `scripts/kubernetes-build.sh` fills (`images/images.txt`
 * lists each image and its tarball; `bundle/node-bundle.tar` is the node bundle). A program names
 * the cache, not nine tarballs.
 */
import * as fs from "fs";
import * as path from "path";

/** The local registry prefix the build tags its images with (dropped: the lab registry's names start at `k8s/`). */
const BUILD_PREFIX = "flotilla.local/";

/**
 * The `archives` map for {@link LabRegistryArgs.archives} of a Kubernetes build's cache directory
 * (`scripts/kubernetes-build.sh` prints it last): `k8s/<image>:<tag>` → the image's tarball, for
 * every image of `images/images.txt`, plus `k8s/node-bundle:<kubernetes version>` → the node bundle.
 * Throws, naming the directory and the file, when the cache is not a complete build.
 */
export function kubernetesImageArchives(cacheDir: string): Record<string, string> {
    if (typeof cacheDir !== "string" || !path.isAbsolute(cacheDir)) {
        throw new Error(`kubernetesImageArchives: cacheDir must be the absolute path of a Kubernetes build's cache (scripts/kubernetes-build.sh prints it), got ${JSON.stringify(cacheDir)}`);
    }
    const list = path.join(cacheDir, "images", "images.txt");
    const bundle = path.join(cacheDir, "bundle", "node-bundle.tar");
    for (const file of [list, bundle]) {
        if (!fs.existsSync(file)) throw new Error(`kubernetesImageArchives: ${cacheDir} is not a complete Kubernetes build: ${file} is missing (run scripts/kubernetes-build.sh)`);
    }
    const archives: Record<string, string> = {};
    let version: string | undefined;
    for (const line of fs.readFileSync(list, "utf8").split("\n")) {
        const [ref, tarball] = line.trim().split(/\s+/);
        if (!ref) continue;
        if (!ref.startsWith(BUILD_PREFIX) || !tarball || !/^[A-Za-z0-9._-]+\.tar$/.test(tarball)) {
            throw new Error(`kubernetesImageArchives: ${list}: unexpected line ${JSON.stringify(line)} (expected "${BUILD_PREFIX}k8s/<image>:<tag> <file>.tar <bytes>")`);
        }
        const name = ref.slice(BUILD_PREFIX.length);
        archives[name] = path.join(cacheDir, "images", tarball);
        const apiserver = /^k8s\/kube-apiserver:(v\d+\.\d+\.\d+)$/.exec(name);
        if (apiserver) version = apiserver[1];
    }
    if (!version) throw new Error(`kubernetesImageArchives: ${list} lists no k8s/kube-apiserver:<version> image`);
    archives[`k8s/node-bundle:${version}`] = bundle;
    return archives;
}
