"""Process settings for serving requests (``mastcds serve``, and the benchmark as it): the application
log on standard error, and the garbage collector tuned for per-request garbage.

A CDS Hooks call parses a prefetch of tens of kB into thousands of short-lived
objects, so with CPython's default threshold (700 allocations) the young
generation is collected several times per call, and every tenth of those
collections walks the whole heap of imported modules. Measured with the
patient-view call (bench/cds_hooks.py): the collector took 0.09 ms of a
0.6 ms call; with the start-up heap frozen and a higher threshold, 0.01 ms.
"""

from __future__ import annotations

import gc
import logging
import sys

# Allocations between young-generation collections (CPython's default: 700), and how many
# young (then middle) collections before the next older one (defaults 10 and 10).
YOUNG_THRESHOLD = 10_000
MIDDLE_EVERY = 20
OLD_EVERY = 50


def tune_gc_for_serving() -> None:
    """Call once the application is built: what exists then lives as long as the process."""
    gc.collect()
    gc.freeze()  # the start-up heap leaves the collector's view: no later collection walks it
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_EVERY, OLD_EVERY)


def configure_logging() -> None:
    """The ``mastcds`` loggers (access lines, errors; never patient data) at INFO on standard error.

    Records skip what the line does not print (calling function, thread, process),
    as the Logging HOWTO's "Optimization" section describes: of an access line's
    cost, about a fifth went on finding the caller 25 frames deep in the middleware
    stack and on naming the thread and process (0.7% of a patient-view call,
    counted in instructions with callgrind). This process serves; it sets them.
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # the documented switch (Logging HOWTO, "Optimization")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("mastcds")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
