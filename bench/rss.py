"""Peak resident memory of this process, for the benchmarks' per-node figures."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """The high-water mark of this process's resident set, in MB.

    Read from /proc (VmHWM), which starts afresh at exec; ``ru_maxrss`` would carry the
    parent's peak at fork into a child node's figure.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
