"""Errors the services raise; views and API views turn them into 403, 404 and 409."""

from __future__ import annotations


class WorkflowError(Exception):
    status_code = 400
    default_message = "This action cannot be taken."

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class NotFound(WorkflowError):
    # The same answer whether the object does not exist or belongs to someone else.
    status_code = 404
    default_message = "Not found."


class Forbidden(WorkflowError):
    status_code = 403
    default_message = "Your role does not allow this action."


class Conflict(WorkflowError):
    status_code = 409
    default_message = "This action is not allowed in the prescription's current status."
