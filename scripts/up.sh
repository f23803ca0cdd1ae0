#!/usr/bin/env bash
# The main job (`npm run up`): sets everything up, then `pulumi up` of the root program on the local
# lab, stack "${FLOTILLA_STACK:-dev}", state in .flotilla/ (local file backend).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$FLOTILLA_ROOT"

bash scripts/setup.sh
pulumi_env
root_stack_env
stack="${FLOTILLA_STACK:-dev}"
pulumi stack select --create "$stack" --non-interactive >/dev/null
start=$SECONDS
pulumi up --yes --non-interactive --stack "$stack" "$@"
say "pulumi up of stack $stack took $((SECONDS - start))s; outputs: pulumi stack output (with scripts/pulumi.sh)"
