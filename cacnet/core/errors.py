"""Exceptions that service functions raise; the views turn them into 403s and form messages."""


class ServiceError(Exception):
    """A request that cannot be carried out; ``message`` is safe (and translated) to show the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class PermissionDenied(ServiceError):
    """The actor may not do this. Views answer 403."""


class StateConflict(ServiceError):
    """The object is not in a state that allows this (or someone else changed it first)."""
