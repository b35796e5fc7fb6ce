"""The one exception type the pipeline raises for bad input or configuration."""


class PipelineError(Exception):
    """A problem the user can fix: bad data, bad config, missing file.

    The message is a complete explanation (what, where, what was expected); the command line
    prints it without a traceback and exits non-zero.
    """
