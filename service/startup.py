"""What a process applies from the settings before it serves or works: one place for both
the web app and the command line."""

from __future__ import annotations

from cases.deadlines import configure_workdays_file
from service.settings import Settings


def configure(settings: Settings) -> None:
    """Apply process-wide settings: the operator's working-day file for deadlines.

    Raises
    ------
    cases.workdays.BadWorkdaysFile
        When the working-day file is missing or has a bad row, naming it, so that
        the process stops at start rather than when the first case is filed.
    """
    configure_workdays_file(settings.workdays_file)
