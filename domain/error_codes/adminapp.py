"""Codes of HQ's revenue and upload-health routes (``cloud.hqrevenue``) and the admin app."""

from __future__ import annotations

from domain.error_codes.base import Code
from domain.errors import InvalidInput

__all__ = ["Revenue"]


class Revenue(Code):
    BAD_PERIOD = (
        "revenue.bad_period",
        InvalidInput,
        "Choose a period of day, week or month.",
    )
