"""A quiet command line: TensorFlow's, XLA's and absl's start-up logs stay off the screen.

On a CPU-only machine TensorFlow writes a dozen native log lines to stderr (oneDNN, "Could not
find cuda drivers", "failed call to cuInit", the XLA service) that look like errors and are not.
TensorFlow 2.21 logs them through absl's C++ logging before any flag is read, so the only place
to drop them is the stderr file descriptor itself: :func:`quiet_startup` routes fd 2 through a
pipe whose reader forwards everything except those native INFO/WARNING lines (and the two known
harmless CUDA/oneDNN errors). Python's own warnings, tracebacks and every other line pass
through unchanged and at once; ``lensml --verbose`` (or ``LENSML_VERBOSE=1``) keeps it all.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading

#: Native log lines that say nothing to a user: glog-style INFO / WARNING lines, absl's
#: pre-initialisation notice, the CPU-feature advice, and the errors every CPU-only machine gets.
NOISE = re.compile(
    rb"^(?:[IW]\d{4} [\d:.]+ +\d+ [\w.\-]+:\d+\]"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|To enable the following instructions: "
    rb"|E\d{4} [\d:.]+ +\d+ (?:cuda_(?:platform|executor|diagnostics)|util)\.cc:\d+\] "
    rb"(?:failed call to cuInit|oneDNN supports DT_BOOL))")
#: How a noise line can begin: a partial line starting like this waits for its end.
_PREFIX = re.compile(rb"^(?:[IWE]\d|WARNING: All|To enable)")


def _pump(read_fd: int, write_fd: int) -> None:
    pending = b""
    while True:
        try:
            chunk = os.read(read_fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            break
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        out = b"".join(line + b"\n" for line in lines if not NOISE.match(line))
        if pending and not _PREFIX.match(pending):  # progress bars: never held back
            out, pending = out + pending, b""
        if out:
            os.write(write_fd, out)
    if pending and not NOISE.match(pending):
        os.write(write_fd, pending)


def filter_native_logs() -> None:
    """Route file descriptor 2 through the noise filter for the rest of the process."""
    sys.stderr.flush()
    real = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    thread = threading.Thread(target=_pump, args=(read_fd, real), name="lensml-stderr", daemon=True)
    thread.start()

    def drain():
        # At exit: close every write end of the pipe so the reader sees EOF and forwards the rest.
        try:
            sys.stderr.flush()
        except Exception:
            pass
        os.dup2(real, 2)
        thread.join(timeout=5)

    atexit.register(drain)


def quiet_startup(verbose: bool = False) -> None:
    """Before TensorFlow or JAX load: native start-up logs filtered, absl's Python warnings and
    JAX's platform notices off, TFDS's progress bars off when stderr is not a terminal (no escape
    codes in log files). Nothing changes with ``verbose``."""
    if verbose or os.environ.get("LENSML_VERBOSE", "") not in ("", "0"):
        return
    filter_native_logs()
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)
    if not sys.stderr.isatty():
        import tensorflow_datasets as tfds

        tfds.disable_progress_bar()
