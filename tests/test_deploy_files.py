"""The deployment files name only settings the bot has, and keep the webhook's 1 MB limit.

No Docker engine is needed: these read the files as an operator's tools would (YAML, env names).
A typo in a setting name in docker-compose.yml would otherwise be ignored silently by the bot.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_ONLY = {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD", "BOT_DOMAIN"}


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_sets_only_real_settings_and_runs_several_processes_in_webhook_mode() -> None:
    services = compose()["services"]
    known = {name.upper() for name in Settings.model_fields} | COMPOSE_ONLY
    for name, service in services.items():
        unknown = set(service.get("environment") or {}) - known
        assert not unknown, f"{name}: {unknown}"
    for name in ("bot", "bot-2"):
        env = services[name]["environment"]
        assert env["TELEGRAM_MODE"] == "webhook" and env["DATABASE_URL"].startswith("postgresql://")
    assert services["bot-2"]["profiles"] == ["scale"]
    assert services["bot-2"]["environment"]["MATRIX_HOMESERVER"] == ""  # one Matrix sync only
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # the partner console is a service of its own, on its own port (8080 is the bot's /healthz)
    assert services["web"]["command"] == ["web"] and services["web"]["environment"]["WEB_PORT"] == "8090"


def test_the_proxies_limit_the_webhook_body_to_1_mb_and_serve_nothing_else() -> None:
    caddy = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert re.search(r"max_size 1MB", caddy) and "respond 404" in caddy
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "client_max_body_size 1m;" in nginx and "return 404;" in nginx


def test_the_image_and_the_unit_run_the_bot_unprivileged_with_a_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^USER bildungslotse$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert re.search(r'^CMD \["run"\]$', dockerfile, re.M)
    unit = (ROOT / "deploy" / "bildungslotse.service").read_text(encoding="utf-8")
    assert re.search(r"^User=bildungslotse$", unit, re.M)
    assert re.search(r"^ExecStart=\S+/bildungslotse run$", unit, re.M)


def test_the_image_builds_on_the_official_python_3_11_slim_unless_a_base_is_passed() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    # the ARG must come before the first FROM to be usable in FROM lines
    assert dockerfile.index("ARG PYTHON_IMAGE=python:3.11-slim\n") < dockerfile.index("\nFROM ")
    assert re.findall(r"^FROM (\S+)", dockerfile, re.M) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    # uid and gid fixed: an operator's bind-mounted /data is chowned to 10001:10001
    assert "--gid 10001 bildungslotse" in dockerfile and "--uid 10001 --gid 10001" in dockerfile


def test_the_container_check_needs_an_engine_and_so_stays_out_of_make_test_and_ci() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^image-check: .*\n\tbash deploy/image-check\.sh$", makefile, re.M)
    test_recipe = re.search(r"^test: .*\n((?:\t.*\n)+)", makefile, re.M)
    assert test_recipe is not None and "image" not in test_recipe.group(1)
    assert "image" not in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
