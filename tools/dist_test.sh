#!/usr/bin/env bash
# Distributed testing: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# (torchrun; NNODES, NODE_RANK, MASTER_ADDR, PORT and PYTHON as in
# tools/torchrun_tool.sh).
set -euo pipefail
exec "$(dirname "$0")/torchrun_tool.sh" test.py "$3" "$1" "$2" "${@:4}"
