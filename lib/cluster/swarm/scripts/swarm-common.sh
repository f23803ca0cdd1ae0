# shellcheck shell=bash
# Included, not executed: readScript() puts it in place of the "# flotilla:include swarm-common.sh"
# line of the scripts beside it.
# Functions shared by the Swarm scripts, besides lib/shared/scripts/common.sh (included first).

# This node's swarm state: inactive, pending, active, error or locked.
swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}'; }

# Runs a command that changes the swarm, retrying (bounded) when the managers' raft refuses it for
# a moment (leader change, concurrent update of the same object); other failures after 8 tries.
swarm_retry() { retry 8 2 "$@" >/dev/null; }

# The swarm config whose presence tells the node scripts the whole swarm is being removed (written
# by the teardown resource's delete, which runs before any node's): no drain, no removal.
TEARDOWN_MARK=flotilla-teardown
tearing_down() { docker config inspect "$TEARDOWN_MARK" >/dev/null 2>&1; }
