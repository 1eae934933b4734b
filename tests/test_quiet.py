"""The quiet command line: native start-up log lines dropped, everything else kept, in order."""

import subprocess
import sys

import pytest

NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796409996.118355    9838 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1796409996.118763    9838 cudart_stub.cc:31] Could not find cuda drivers on your machine.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.",
    "E0000 00:00:1796410002.319654    9838 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error",
    "W0000 00:00:1796409087.057155    4190 cache_dataset_ops.cc:912] The calling iterator did not fully read",
]
KEPT = [
    "E0000 00:00:1796410002.319654    9838 some_op.cc:52] a real native error",
    "Traceback (most recent call last):",
    "ValueError: `image` must be (H, W) or (H, W, 1)",
    "Image 3 of 10",  # starts like nothing the filter holds back
]

CHILD = r"""
import os, sys
from lensml._quiet import quiet_startup
quiet_startup(verbose={verbose})
lines = {lines!r}
for line in lines:
    os.write(2, (line + "\n").encode())      # native code writes to fd 2 directly
sys.stderr.write("python warning\n")
os.write(2, b"\rprogress 50%")               # a bar without its newline is not held back
os.write(2, b"\rprogress 100%\n")
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_native_noise_is_dropped_and_the_rest_kept_in_order(verbose):
    lines = [x for pair in zip(NOISE, KEPT + ["Image 4 of 10"] * 2) for x in pair]
    out = subprocess.run([sys.executable, "-c", CHILD.format(verbose=verbose, lines=lines)],
                         capture_output=True, timeout=60, env={"PATH": "", "LENSML_VERBOSE": "0"})
    stderr = out.stderr.decode()  # bytes as written: carriage returns kept
    assert out.returncode == 0, stderr
    expected = lines if verbose else [x for x in lines if x not in NOISE]
    assert stderr.split("\n")[:len(expected)] == expected
    assert stderr.endswith("python warning\n\rprogress 50%\rprogress 100%\n")

