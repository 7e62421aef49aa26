from __future__ import annotations

import pytest

from analytics.generate import generate


@pytest.fixture(scope="session")
def history():
    return generate(days=28, seed=7, plant=True)


@pytest.fixture(scope="session")
def clean_history():
    return generate(days=28, seed=11, plant=False)
