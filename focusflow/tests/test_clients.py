"""The schema as client developers use it: they generate their API layer from it.

These tests do what they do: generate a Python client (openapi-python-client) and TypeScript
types (openapi-typescript) from the schema exactly as `GET /api/schema/` serves it, type-check
a short app day written against each (`clients/python/app_day.py` with `mypy --strict`,
`clients/typescript/app_day.ts` with `tsc --strict`), play both app days against a live server,
and lint the schema with Redocly's recommended rules (`redocly.yaml`). The Python tools are in
requirements-dev.txt, the npm ones in package-lock.json; `make test` installs both.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.clients

ROOT = Path(settings.BASE_DIR)
CLIENTS = ROOT / "clients"
NODE_MODULES = ROOT / "node_modules"
VENV_BIN = Path(sys.executable).parent


def run(*command, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a tool from the project's root; what it said is the failure message."""
    args = [str(part) for part in command]
    result = subprocess.run(
        args, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, (
        f"{' '.join(args)} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
    return result


def npm_tool(name: str) -> Path:
    tool = NODE_MODULES / ".bin" / name
    if not tool.exists():
        pytest.fail(f"{tool} is missing: run `npm ci` (make test does)")
    return tool


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clients")


@pytest.fixture(scope="module")
def schema_file(workdir) -> Path:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    path = workdir / "openapi.json"
    path.write_bytes(response.content)
    return path


@pytest.fixture(scope="module")
def python_client(workdir, schema_file) -> Path:
    """The folder that holds the generated package `focusflow_client`."""
    folder = workdir / "python"
    generated = run(
        VENV_BIN / "openapi-python-client",
        "generate",
        "--path",
        schema_file,
        "--config",
        CLIENTS / "python" / "openapi-python-client.yaml",
        "--meta",
        "none",
        "--output-path",
        folder / "focusflow_client",
    )
    # A warning means a part of the schema the generator could not turn into code.
    said = generated.stdout + generated.stderr
    assert "warning" not in said.lower(), said
    return folder


@pytest.fixture(scope="module")
def typescript_build(workdir, schema_file) -> Path:
    """`clients/typescript/app_day.ts` type-checked against the generated types (the module
    "focusflow-api") and compiled; returns the folder of the JavaScript."""
    folder = workdir / "typescript"
    generated = run(npm_tool("openapi-typescript"), schema_file, "--output", folder / "focusflow-api.d.ts")
    said = generated.stdout + generated.stderr
    assert "warn" not in said.lower(), said
    project = folder / "tsconfig.json"
    project.write_text(
        json.dumps(
            {
                "extends": str(CLIENTS / "typescript" / "tsconfig.json"),
                "compilerOptions": {
                    "paths": {"focusflow-api": ["./focusflow-api.d.ts"]},
                    "noEmit": False,
                    "outDir": "./js",
                },
            }
        )
    )
    run(npm_tool("tsc"), "--project", project)
    return folder / "js"


def test_the_python_client_type_checks_an_app_day_with_mypy_strict(python_client, workdir):
    run(
        VENV_BIN / "mypy",
        "--strict",
        "--cache-dir",
        workdir / "mypy-cache",
        CLIENTS / "python" / "app_day.py",
        python_client / "focusflow_client",
        env={"MYPYPATH": str(python_client)},
    )


def test_the_typescript_client_type_checks_an_app_day_with_tsc_strict(typescript_build):
    assert (typescript_build / "app_day.js").exists()


def test_redocly_lint_with_the_recommended_rules_finds_nothing(schema_file):
    linted = run(
        npm_tool("redocly"),
        "lint",
        "--config",
        ROOT / "redocly.yaml",
        "--format",
        "json",
        schema_file,
        env={"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    report = json.loads(linted.stdout)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, linted.stdout


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_python_app_day_plays_against_a_live_server(python_client, gunicorn):
    played = run(
        sys.executable,
        CLIENTS / "python" / "app_day.py",
        gunicorn.url,
        env={"PYTHONPATH": str(python_client)},
    )
    assert "Signed out: the account is gone." in played.stdout


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_typescript_app_day_plays_against_a_live_server(typescript_build, gunicorn):
    # Compiled to CommonJS, whose require() finds openapi-fetch through NODE_PATH.
    played = run("node", typescript_build / "app_day.js", gunicorn.url, env={"NODE_PATH": str(NODE_MODULES)})
    assert "Signed out: the account is gone." in played.stdout
