"""Keep the memory of a search's short-lived arrays in the process from one query to the next.

A search over a million stored pictures makes and drops some 80 MB of arrays a query (the
votes of each view of the query, the postings its words gathered). glibc's malloc hands
arrays of more than a few megabytes back to the kernel as soon as they are freed, and takes
them back a page at a time, each page zeroed on its first write: about 5,000 page faults a
query at a million pictures (docs/matching.md, "A search at a million pictures in fewer
passes"). Raising malloc's thresholds keeps up to TRIM_THRESHOLD of freed memory for the
next query: the process's resident size may stay that much above what it holds, a constant.
"""

from __future__ import annotations

import ctypes
import functools
import sys

# mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Arrays smaller than this come from the heap and go back to it (glibc's largest setting:
# a decoded 12 MP photo, 36 MB, is still mapped and unmapped on its own).
MMAP_THRESHOLD = 32 << 20
# Free memory at the top of the heap kept before it is given back to the kernel.
TRIM_THRESHOLD = 128 << 20


@functools.cache
def keep_working_memory() -> bool:
    """Set malloc's thresholds once per process; False where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None)  # the C library the interpreter runs on
    if not hasattr(libc, "gnu_get_libc_version"):  # musl's mallopt does nothing
        return False
    return bool(
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
