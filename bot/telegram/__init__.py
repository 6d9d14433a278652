"""The Telegram transport (python-telegram-bot): updates -> Turns, Replies -> messages, outbound sender."""
