"""The Telegram transport: python-telegram-bot's Application around the transport-neutral dialog.

Every update becomes a `Turn` (`bot.telegram.updates`), the conversation service answers it
from the database, and the replies are rendered as messages with inline keyboards
(`bot.telegram.render`). No PTB persistence and no ConversationHandler: the dialog state lives
in our database, so a restarted process continues every conversation where it stopped.
All requests pass the rate limiter (`bot.telegram.limiter`), replies as well as reminders.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import secrets
from urllib.parse import urlsplit

from telegram import BotCommand, CallbackQuery, LinkPreviewOptions, Update
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.clock import Clock, system_clock
from bot.conversation import ConversationService
from bot.settings import Settings
from bot.telegram import render
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.limiter import PollRequest, TelegramRateLimiter
from bot.telegram.ordering import Drop, Lane, PerChatUpdateProcessor
from bot.telegram.polling import PollingBot
from bot.telegram.sender import TelegramSender
from bot.telegram.updates import message_turn, press_of
from bot.telegram.webhook import HOLD_SECONDS, WebhookServer
from handlers.catalogue import normalise_language, t
from handlers.turn import Reply, Turn

log = logging.getLogger(__name__)

# the command menu, in this order; descriptions come from the catalogue (telegram.command.<name>)
MENU_COMMANDS = ("start", "angebote", "kurse", "termine", "abo", "profil", "hilfe", "datenschutz", "neu")
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
UNREACHABLE_AFTER = 60.0  # seconds of failing Bot API requests before /healthz reports Telegram down


class TelegramStartError(Exception):
    """Start-up failed; the message is one line for the operator and never contains the token."""


def build_application(
    token: str,
    api_base_url: str,
    limiter: TelegramRateLimiter,
    updates: PerChatUpdateProcessor | None = None,
    max_pending: int | None = None,
) -> Application:
    """PTB on its own HTTP stack, pointed at `api_base_url` (Telegram's cloud or a self-hosted Bot API
    server); also used by reminder tooling that needs the bot without the dialog handlers.

    `max_pending`: polling fetches no more while that many updates are taken (`bot.telegram.polling`)."""
    base = api_base_url.rstrip("/")
    processor = updates or PerChatUpdateProcessor()
    bot = PollingBot(
        token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=AiohttpRequest(),
        get_updates_request=PollRequest(limiter),
        defaults=Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)),
        rate_limiter=limiter,
        updates=processor,
        max_pending=max_pending,
    )
    return ApplicationBuilder().bot(bot).concurrent_updates(processor).job_queue(None).build()


class TelegramRuntime:
    """Started and stopped by `bot.runner`; `sender` delivers reminders through the same bot."""

    def __init__(
        self,
        settings: Settings,
        service: ConversationService,
        *,
        limiter: TelegramRateLimiter | None = None,
        poll_timeout: float = 10.0,
        clock: Clock = system_clock,
    ) -> None:
        if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value():
            raise TelegramStartError("TELEGRAM_BOT_TOKEN ist nicht gesetzt.")
        self.settings = settings
        self.service = service
        self.poll_timeout = poll_timeout
        self.clock = clock  # stamps each turn: the dialog's "now"
        self.limiter = limiter or TelegramRateLimiter(
            settings.telegram_send_rate,
            settings.telegram_per_chat_rate,
            settings.telegram_per_chat_burst,
        )
        _quiet_library_debug_logs()
        # flood control happens when an update arrives, before it takes any shared capacity
        self.updates = PerChatUpdateProcessor(
            flood_max_messages=settings.flood_max_messages,
            flood_window_seconds=settings.flood_window_seconds,
            classify=self._lane,
            on_drop=self._on_drop,
        )
        self.application = build_application(
            settings.telegram_bot_token.get_secret_value(),
            settings.telegram_api_base_url,
            self.limiter,
            self.updates,
            settings.telegram_max_pending_updates,  # polling's back-pressure; the webhook's is below
        )
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_message))
        self.application.add_handler(CallbackQueryHandler(self._on_callback))
        self.application.add_error_handler(self._on_error)
        self.sender = TelegramSender(self.application.bot, service.engine)
        self._bot_username = ""
        self._bot_id = 0
        self._webhook: WebhookServer | None = None
        self.unreachable_after = UNREACHABLE_AFTER

    # --- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self._close_quietly()
            raise
        log.info("Telegram läuft (%s) als @%s", self.settings.telegram_mode, self._bot_username)

    async def _start(self) -> None:
        app = self.application
        try:
            await app.initialize()  # getMe: checks the token
        except InvalidToken:
            # PTB's own message quotes the token: replace it, and drop the chained original
            raise TelegramStartError(
                "Telegram hat den Bot-Token abgelehnt (TELEGRAM_BOT_TOKEN prüfen)."
            ) from None
        except TelegramError as exc:
            raise TelegramStartError(
                f"Telegram-Server {self.settings.telegram_api_base_url} nicht erreichbar "
                f"({type(exc).__name__})."
            ) from None
        self._bot_username = app.bot.username
        self._bot_id = app.bot.id
        await self._set_commands()
        assert app.updater is not None
        if self.settings.telegram_mode == "webhook":
            await self._start_webhook()
        else:
            await app.updater.start_polling(
                timeout=dt.timedelta(seconds=self.poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
        await app.start()

    async def _start_webhook(self) -> None:
        url = self.settings.telegram_webhook_url
        if not url:
            raise TelegramStartError("TELEGRAM_MODE=webhook braucht TELEGRAM_WEBHOOK_URL.")
        secret_setting = self.settings.telegram_webhook_secret
        # without a configured secret every start gets a fresh random one: the header is always checked
        configured = secret_setting.get_secret_value() if secret_setting is not None else ""
        secret = configured or secrets.token_urlsafe(32)
        if not _SECRET_TOKEN.fullmatch(secret):
            raise TelegramStartError(
                "TELEGRAM_WEBHOOK_SECRET: 1–256 Zeichen aus A–Z, a–z, 0–9, _ und - erlaubt."
            )
        listen, port = self.settings.telegram_webhook_listen, self.settings.telegram_webhook_port
        # our own small server, not PTB's: it refuses before reading a body (see bot.telegram.webhook)
        limit = self.settings.telegram_max_pending_updates
        server = WebhookServer(
            self.application.bot,
            self.application.update_queue,
            secret,
            urlsplit(url).path,
            lambda: self.updates.room(limit, HOLD_SECONDS),
        )
        try:
            server.listen(listen, port)
        except OSError as exc:
            raise TelegramStartError(
                f"Webhook kann nicht auf {listen}:{port} lauschen ({exc.strerror or exc})."
            ) from None
        self._webhook = server
        await self.application.bot.set_webhook(
            url, allowed_updates=ALLOWED_UPDATES, secret_token=secret, max_connections=40
        )

    def connected(self) -> bool:
        """For /healthz: started, receiving (webhook listening or polling), and Telegram answering:
        after UNREACHABLE_AFTER seconds of nothing but network failures the transport is down."""
        app = self.application
        receiving = self._webhook is not None or (app.updater is not None and app.updater.running)
        return app.running and receiving and self.limiter.unreachable_for() < self.unreachable_after

    async def _close_quietly(self) -> None:
        try:
            await self.stop()
        except Exception:  # already failing: the original error is the one to report
            log.debug("cleanup after a failed Telegram start failed", exc_info=True)
        with contextlib.suppress(Exception):
            await self.application.bot.shutdown()  # initialize() may have opened the HTTP clients

    async def stop(self) -> None:
        app = self.application
        if self._webhook is not None:
            await self._webhook.stop()
            self._webhook = None
        if app.updater is not None and app.updater.running:
            if isinstance(app.bot, PollingBot):
                app.bot.release()  # the Updater's last getUpdates must not wait for room
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def _set_commands(self) -> None:
        """German menu for everybody, English for clients set to English (if that catalogue exists)."""
        for language in ("de", "en"):
            try:
                commands = [BotCommand(n, t(language, f"telegram.command.{n}")) for n in MENU_COMMANDS]
                await self.application.bot.set_my_commands(
                    commands, language_code=None if language == "de" else language
                )
            except (TelegramError, OSError) as exc:  # a missing menu is no reason to stay offline
                log.warning("setting the %s command menu failed: %s", language, type(exc).__name__)

    # --- updates ---------------------------------------------------------------------------
    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None:
            return
        turn = message_turn(message, self._bot_username, self._bot_id, self.clock())
        if turn is not None:
            await self._answer_turn(turn, message.chat.id)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        press = press_of(query, self.clock(), self._bot_username)
        if press is None or press.turn is None:
            lang = normalise_language(query.from_user.language_code if query.from_user else None)
            await _answer_query(query, t(lang, "telegram.stale_button"))
            return
        await _answer_query(query)
        edit_id = press.message_id if press.on_question else None
        await self._answer_turn(press.turn, press.chat_id, edit_id)

    async def _answer_turn(self, turn: Turn, chat_id: int, edit_message_id: int | None = None) -> None:
        replies: list[Reply] = await self.service.handle(turn)
        if not replies:
            return
        try:
            await render.deliver(self.application.bot, chat_id, replies, edit_message_id)
        except Forbidden:
            await self.sender.mark_blocked(str(chat_id))
        except TelegramError as exc:
            log.warning("replying in a Telegram chat failed: %s: %s", type(exc).__name__, exc.message)

    def _lane(self, update: object) -> Lane:
        """Only updates the bot answers count against a chat's budget; group chatter does not."""
        if not isinstance(update, Update):
            return Lane.FREE
        if update.callback_query is not None:
            return Lane.PRESS
        message = update.message
        if message is None or message_turn(message, self._bot_username, self._bot_id, self.clock()) is None:
            return Lane.FREE
        return Lane.TURN

    def _on_drop(self, drop: Drop) -> None:
        """A flooding chat gets one notice per flood; a dropped press's spinner is stopped while
        the budget lasts. Both run as tasks of their own: admission never waits for Telegram."""
        update = drop.update
        if not isinstance(update, Update):
            return
        user = update.effective_user
        language = normalise_language(
            (user.language_code if user else None) or self.settings.default_language
        )
        if drop.notify:
            self.application.create_task(self._send_flood_notice(drop.chat_id, t(language, "flood")))
        if drop.answer and update.callback_query is not None:
            self.application.create_task(_answer_query(update.callback_query))

    async def _send_flood_notice(self, chat_id: int, text: str) -> None:
        try:
            await self.application.bot.send_message(chat_id, text)
        except Forbidden:
            await self.sender.mark_blocked(str(chat_id))
        except TelegramError as exc:
            log.warning("sending the flood notice failed: %s", type(exc).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.error("Telegram update failed: %s", type(error).__name__, exc_info=error)


async def _answer_query(query: CallbackQuery, text: str | None = None) -> None:
    """Stops the button's spinner; an expired query (e.g. pressed before a restart) is no error."""
    try:
        await query.answer(text=text)
    except TelegramError as exc:
        log.info("answering a callback query failed: %s", type(exc).__name__)


def _quiet_library_debug_logs() -> None:
    """PTB logs whole updates and request payloads at DEBUG level: never let message contents
    reach the log, even when the operator sets LOG_LEVEL=DEBUG."""
    for name, floor in (
        ("telegram", logging.INFO),
        ("httpx", logging.WARNING),
        ("httpcore", logging.WARNING),
    ):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < floor:
            logger.setLevel(floor)
