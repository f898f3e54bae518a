#!/usr/bin/env bash
# Distributed training: tools/dist_train.sh CONFIG GPUS [train.py args]
# (torchrun; NNODES, NODE_RANK, MASTER_ADDR, PORT and PYTHON as in
# tools/torchrun_tool.sh).
set -euo pipefail
exec "$(dirname "$0")/torchrun_tool.sh" train.py "$2" "$1" "${@:3}"
