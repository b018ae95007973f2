"""Modules that apps import first, before Django or DRF have loaded anything else."""

import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize(
    "module",
    [
        "focusflow.api.exceptions",
        "focusflow.api.handler",
        "focusflow.db.outage",
        "focusflow.api.parsers",
        "focusflow.api.schema",
        "focusflow.idempotency.keys",
        "focusflow.throttling.throttles",
        "focusflow.sync.feed",
    ],
)
def test_a_shared_module_imports_cleanly_on_its_own(module):
    # A fresh interpreter: inside the suite DRF is already loaded and would hide an import cycle.
    code = f"import django; django.setup(); import {module}"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={
            "DJANGO_SETTINGS_MODULE": "focusflow.settings",
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/unused",  # imports only: never connected
            "PATH": "",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
