"""Transports (Telegram, Matrix, console), scheduler wiring, settings and the CLI."""
