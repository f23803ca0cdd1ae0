/** kubernetesImageArchives: a Kubernetes build's cache → LabRegistry's `archives` map. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { kubernetesImageArchives } from "../../../lib/hosts/lab/kubernetes-archives";

let dir = "";
beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "flotilla-k8s-cache-"));
    fs.mkdirSync(path.join(dir, "images"));
    fs.mkdirSync(path.join(dir, "bundle"));
    fs.writeFileSync(path.join(dir, "bundle", "node-bundle.tar"), "");
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (text: string) => fs.writeFileSync(path.join(dir, "images", "images.txt"), text);

test("every image of images.txt under k8s/, and the node bundle of the API server's version", () => {
    write("flotilla.local/k8s/kube-apiserver:v1.37.2 kube-apiserver.tar 119215104\nflotilla.local/k8s/pause:3.10.2 pause.tar 702464\n\n");
    expect(kubernetesImageArchives(dir)).toEqual({
        "k8s/kube-apiserver:v1.37.2": path.join(dir, "images", "kube-apiserver.tar"),
        "k8s/pause:3.10.2": path.join(dir, "images", "pause.tar"),
        "k8s/node-bundle:v1.37.2": path.join(dir, "bundle", "node-bundle.tar"),
    });
});

test("an incomplete or foreign cache is refused, naming what is wrong", () => {
    expect(() => kubernetesImageArchives("relative/cache")).toThrow(/absolute path .* got "relative\/cache"/);
    expect(() => kubernetesImageArchives(dir)).toThrow(new RegExp(`not a complete Kubernetes build: ${dir}/images/images.txt is missing`));
    write("docker.io/library/nginx:1 nginx.tar 1\n");
    expect(() => kubernetesImageArchives(dir)).toThrow(/unexpected line "docker.io\/library\/nginx:1 nginx.tar 1"/);
    write("flotilla.local/k8s/pause:3.10.2 pause.tar 702464\n");
    expect(() => kubernetesImageArchives(dir)).toThrow(/lists no k8s\/kube-apiserver/);
});
