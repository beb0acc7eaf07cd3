#!/bin/sh
# Installs the benchmark's PyTorch peers from PyPI into a virtual environment (not needed by
# the tests): the current torch (PyPI's default Linux build), pandas + scikit-learn (the
# reference script's preprocessing), DeepCTR-Torch, and TorchRec with FBGEMM's CPU build.
# Each library is installed and imported on its own: one that does not install or import is
# reported (the last error line goes to VENV/peers-status.txt, which bench/speed.py prints
# with its tables; the whole log to VENV/install-NAME.log) and the others go on. TorchRec's
# cross modules need torch alone: bench/peers/torch_peer.py loads them from the installed file
# when `import torchrec` fails.
#
# usage: bench/peers/setup.sh [VENV]     (default: bench/.venv, git-ignored)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$here/.venv}
py=${PYTHON:-python3}
"$py" -m venv "$venv" || { echo "setup: cannot create a virtual environment with $py" >&2; exit 1; }
pip="$venv/bin/pip"
status="$venv/peers-status.txt"
: > "$status"
"$pip" install --upgrade pip >/dev/null 2>&1 || true
step() {  # name, import statement, pip arguments...
    name=$1; imp=$2; shift 2
    log="$venv/install-$name.log"
    if "$pip" install "$@" > "$log" 2>&1 && "$venv/bin/python" -c "$imp" >> "$log" 2>&1; then
        echo "$name ok $("$venv/bin/python" -c "$imp; print('version:', v)" 2>/dev/null | sed -n 's/.*version: //p')" >> "$status"
    else
        echo "$name FAILED: $(grep -E 'Error' "$log" | tail -3 | tr '\n' ' ')" >> "$status"
    fi
}
step torch "import torch; v = torch.__version__" torch numpy pandas scikit-learn
# deepctr_torch imports requests (for a version check) without declaring it.
step deepctr-torch "import deepctr_torch; v = deepctr_torch.__version__" deepctr-torch requests
# torchrec depends on fbgemm-gpu (the CUDA build, which needs libnvidia-ml); on a CPU the
# fbgemm-gpu-cpu build takes its place (both install the same fbgemm_gpu folder).
"$pip" install torchrec > "$venv/install-torchrec-deps.log" 2>&1
"$pip" uninstall -y fbgemm-gpu fbgemm-gpu-cpu >> "$venv/install-torchrec-deps.log" 2>&1
step torchrec "import torchrec, fbgemm_gpu; from torchrec.modules.crossnet import CrossNet; v = torchrec.__version__ + ' fbgemm ' + fbgemm_gpu.__version__" --no-deps fbgemm-gpu-cpu
cat "$status"
