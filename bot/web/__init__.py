"""The bot's HTTP surface for operators: `/healthz` and `/metrics` (Starlette on uvicorn, in the bot's loop).

Why in the bot's own event loop and not a sidecar: health must say what *this* process sees (its
transports, its scheduler, its database connection), and counters live in its memory. Telegram's
webhook keeps its own small Tornado endpoint (`bot.telegram.webhook`, a different port): it refuses
bad requests on their headers before reading a body, and mixing it into this app would give that up.
"""
