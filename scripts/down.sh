#!/usr/bin/env bash
# `npm run down`: `pulumi destroy` of the root program's stack: removes every lab machine, volume
# and network it created.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FLOTILLA_ROOT"

pulumi_env
root_stack_env
stack="${FLOTILLA_STACK:-dev}"
start=$SECONDS
pulumi destroy --yes --non-interactive --stack "$stack" "$@"
say "pulumi destroy of stack $stack took $((SECONDS - start))s"
