"""Child processes that die with their parent: a supervisor killed outright (SIGKILL to its process
group, the OOM killer) must not leave web processes, the flow worker or Redis running as orphans.

Linux: PR_SET_PDEATHSIG sends the child SIGTERM (it drains and exits) when its parent dies. Elsewhere
this does nothing; the supervisor's own SIGTERM handling still stops its children.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` for a child started from this process, or None where the OS has no such thing."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()
    # Looked up here, in the parent: between fork and exec the child may only call, not load (a
    # thread of the parent may have held the loader's lock when it forked).
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the line above: do not start at all
            os._exit(1)

    return preexec
