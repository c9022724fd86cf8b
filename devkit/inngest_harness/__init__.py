"""Plays Inngest against a Python Inngest app in-process, for tests (see README.md).

Never imports the app under test, nor the Inngest SDK's private modules.
"""

from inngest_harness.catalog import new_event
from inngest_harness.driver import DriverError, InngestDriver
from inngest_harness.eventapi import EventAPI
from inngest_harness.records import Run

__all__ = ["DriverError", "EventAPI", "InngestDriver", "Run", "new_event"]
