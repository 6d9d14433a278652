"""Logging set-up: secrets (bot token, passwords, access tokens) never reach a log line."""

from __future__ import annotations

import logging
import re

from bot.settings import Settings

# Telegram puts the token into every request URL (…/bot<token>/method): catch it even when unknown
_TOKEN_IN_URL = re.compile(r"(/bot|/file/bot)\d+:[A-Za-z0-9_-]{20,}")


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _TOKEN_IN_URL.sub(r"\1***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(settings: Settings) -> RedactingFilter:
    secrets = [
        s.get_secret_value()
        for s in (
            settings.telegram_bot_token,
            settings.telegram_webhook_secret,
            settings.matrix_password,
            settings.matrix_access_token,
        )
        if s is not None
    ]
    redactor = RedactingFilter(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for noisy in ("httpx", "httpcore", "apscheduler", "nio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return redactor
