/**
 * Test order: jest's own (files that failed last time first, then the slowest known, else the
 * largest), except that lab files needing the Kubernetes build (they call
 * scripts/kubernetes-build.sh) come last. scripts/test.sh starts that build in the background, so
 * the Swarm and host lab files run while it compiles; the Kubernetes files then find it done (or
 * wait on its lock) instead of holding both workers idle.
 */
const fs = require("fs");
const Sequencer = require("@jest/test-sequencer").default;

const needsKubernetesBuild = (test) => /kubernetes-build\.sh/.test(fs.readFileSync(test.path, "utf8"));

class KubernetesLastSequencer extends Sequencer {
    sort(tests) {
        const sorted = super.sort(tests);
        return [...sorted.filter((t) => !needsKubernetesBuild(t)), ...sorted.filter(needsKubernetesBuild)];
    }
}

module.exports = KubernetesLastSequencer;
