#!/usr/bin/env bash
# Runs the project's pulumi CLI with the root program's environment, e.g.
#   scripts/pulumi.sh stack output --show-secrets sshPrivateKey
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FLOTILLA_ROOT"
pulumi_env
root_stack_env
exec pulumi "$@"
