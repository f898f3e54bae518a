#!/usr/bin/env bash
# Runs tools/TOOL with torchrun: tools/torchrun_tool.sh TOOL NPROC [TOOL args]
# (used by dist_train.sh and dist_test.sh). Multi-node: set NNODES,
# NODE_RANK, MASTER_ADDR and PORT on every node. Without CUDA the processes
# talk over gloo (see mrpan_mm/engine/launch.py). PYTHON selects the
# interpreter (default: python on PATH).
set -euo pipefail
TOOL=$1
NPROC=$2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" \
    --master_port="${PORT:-29500}" \
    "$ROOT/tools/$TOOL" "${@:3}" --launcher pytorch
