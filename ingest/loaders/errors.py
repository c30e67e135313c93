"""The one error type loaders raise: its message is shown to the user as is."""


class LoadError(Exception):
    """A file that cannot be ingested; the message names the reason and what to do."""
