"""The one exception type the pipeline raises for bad input or configuration, and how a command
reports it: `guarded` prints it as one paragraph and returns exit status 1 instead of a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable


class PipelineError(Exception):
    """A problem the user can fix: bad data, bad config, missing file.

    The message is a complete explanation (what, where, what was expected); the command line
    prints it without a traceback and exits non-zero.
    """


def guarded(action: Callable[[], object], name: str) -> int:
    """Call `action`; print a `PipelineError` as one paragraph and return 1 instead of raising."""
    configure_logging()
    try:
        action()
    except PipelineError as exc:
        print(f"error in {name}: {exc}", file=sys.stderr)
        return 1
    return 0


def configure_logging() -> None:
    """Log INFO and above to stderr, unless logging is already configured."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
