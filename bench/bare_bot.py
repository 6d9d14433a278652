"""The reference bot of the dialog benchmark: python-telegram-bot as its documentation shows it.

It answers /start with one keyboard message and a button press with answerCallbackQuery +
editMessageText, nothing of ours. `bench.dialog` runs it in its own process (polling); the
two-process variant (`bench.dialog_webhook`) starts it as a process of its own with PTB's webhook
server:

    TELEGRAM_BOT_TOKEN=… TELEGRAM_API_BASE_URL=… TELEGRAM_WEBHOOK_URL=… TELEGRAM_WEBHOOK_PORT=… \
    TELEGRAM_WEBHOOK_SECRET=… python -m bench.bare_bot

(the variables `tests.service_support.bot_env` sets for the whole bot, so both get the same ones;
`BARE_CLIENT=aiohttp` runs it on the whole bot's Bot API client instead of PTB's default httpx).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

# what the bare bot shows: one question with as many buttons as a real one, in the same format
BARE_OPTIONS = ("sit:a", "dist:a", "sec:a", "goal:a", "nav:back", "nav:more", "offer:a", "contact:a")
BARE_TEXT = "✓ Antwort\n\nIn welchem Landkreis wohnen oder arbeiten Sie? Sie können auch Ihren Ort nennen."


def bare_application(base_url: str, token: str, client: str = "httpx") -> Any:
    """The reference: python-telegram-bot as its documentation shows it, nothing of ours.

    `client="aiohttp"`: the same bot on the Bot API client the whole bot uses
    (bot/telegram/aiohttp_request.py), the second baseline: what our own code costs."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(o.split(":")[0], callback_data=f"v1|q|{o}")
                for o in BARE_OPTIONS[i : i + 2]
            ]
            for i in range(0, len(BARE_OPTIONS), 2)
        ]
    )

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(BARE_TEXT, reply_markup=keyboard)

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        # a different text each time, as the real bot's next question is ("not modified" would raise);
        # the update's id, not a count: with two processes each would count on its own
        await query.edit_message_text(f"{update.update_id}. {BARE_TEXT}", reply_markup=keyboard)

    builder = ApplicationBuilder().token(token).base_url(f"{base_url.rstrip('/')}/bot")
    if client == "aiohttp":
        from bot.telegram.aiohttp_request import AiohttpRequest

        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest(1))
    app = builder.concurrent_updates(True).job_queue(None).build()
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    app.add_handler(CallbackQueryHandler(on_press))
    return app


def main() -> None:
    """PTB's own webhook server, with the same secret-header check the whole bot makes; stops on SIGTERM."""
    url = os.environ["TELEGRAM_WEBHOOK_URL"]
    app = bare_application(
        os.environ["TELEGRAM_API_BASE_URL"],
        os.environ["TELEGRAM_BOT_TOKEN"],
        os.environ.get("BARE_CLIENT", "httpx"),
    )
    app.run_webhook(
        listen="127.0.0.1",
        port=int(os.environ["TELEGRAM_WEBHOOK_PORT"]),
        url_path=urlsplit(url).path.strip("/"),
        webhook_url=url,
        secret_token=os.environ["TELEGRAM_WEBHOOK_SECRET"],
        allowed_updates=["message", "callback_query"],
    )


if __name__ == "__main__":
    main()
