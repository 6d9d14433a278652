"""Privacy (DSGVO) and language commands: /datenschutz, /meinedaten, /loeschen, /sprache.

Export and deletion show or remove one person's data, so they work only in a private chat with
that person. In a group chat or a room with several people the conversation is shared: any
member could read the export or wipe it. There the bot says so and points to a private chat.
"""

from __future__ import annotations

import json

from db import privacy, users
from handlers.catalogue import DEFAULT_LANGUAGE, LANGUAGES, messages
from handlers.dates import date_text
from handlers.features import FeatureContext, FeatureHandler, FeatureRegistry
from handlers.turn import Attachment, Link, Option, Reply

PENDING_DELETE = "delete"


def privacy_notice(ctx: FeatureContext) -> list[Reply]:
    s = ctx.settings
    return [
        Reply(
            ctx.t(
                "privacy.notice",
                operator=s.operator_name,
                contact=s.privacy_contact,
                months=s.inactive_purge_months,
            )
        )
    ]


def go_private(ctx: FeatureContext) -> list[Reply]:
    """One sentence: not here, but in a private chat (with a link when the transport has one)."""
    if ctx.turn.direct_url:
        link = Link(ctx.t("link.private_chat"), ctx.turn.direct_url)
        return [Reply(ctx.t("privacy.private_only_link"), links=(link,))]
    specific = f"privacy.private_only.{ctx.turn.transport}"
    return [Reply(ctx.t(specific if specific in messages(DEFAULT_LANGUAGE) else "privacy.private_only"))]


def private_only(handler: FeatureHandler) -> FeatureHandler:
    def guarded(ctx: FeatureContext) -> list[Reply]:
        return handler(ctx) if ctx.private else go_private(ctx)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


@private_only
def my_data(ctx: FeatureContext) -> list[Reply]:
    data = privacy.export_user_data(ctx.session, ctx.user)
    profile = users.load_profile(ctx.session, ctx.user.id) if ctx.user.id is not None else None
    unset = ctx.t("profile.unset")

    def label(kind: str, value: str | None) -> str:
        return ctx.t(f"{kind}.{value}") if value else unset

    lines = [
        ctx.t("privacy.mydata_header"),
        ctx.t(
            "privacy.mydata_account",
            transport=ctx.user.transport,
            since=date_text(ctx.lang, ctx.user.created_at),
        ),
        ctx.t("privacy.mydata_language", name=ctx.t(f"language.name.{ctx.state.language}")),
        ctx.t(
            "privacy.mydata_profile",
            situation=label("situation", profile.situation if profile else None),
            district=label("district", profile.district if profile else None),
            sector=label("sector", profile.sector if profile else None),
            goal=label("goal", profile.goal if profile else None),
        ),
    ]
    others = {k: len(v) for k, v in data.items() if k not in ("users", "conversations", "profiles")}
    for table, count in sorted(others.items()):
        lines.append(ctx.t("privacy.mydata_rows", table=table, count=count))
    lines.append(ctx.t("privacy.mydata_file"))
    payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    attachment = Attachment("meine-daten-bildungslotse.json", "application/json", payload)
    return [Reply("\n".join(lines), attachment=attachment)]


@private_only
def ask_delete(ctx: FeatureContext) -> list[Reply]:
    ctx.state.pending = PENDING_DELETE
    options = (
        Option("priv:delete_yes", ctx.t("privacy.delete_yes")),
        Option("priv:delete_no", ctx.t("privacy.delete_no")),
    )
    return [Reply(ctx.t("privacy.delete_confirm"), options=options, question=True)]


@private_only
def delete_answer(ctx: FeatureContext) -> list[Reply]:
    option = ctx.turn.option_id
    text = ctx.turn.text.strip().lower()
    confirmed = option == "priv:delete_yes" or (
        not option and text in ("ja", "ja, löschen", "ja loeschen", "yes")
    )
    if ctx.state.pending != PENDING_DELETE:
        return [Reply(ctx.t("stale_option"))]
    if confirmed:
        text = ctx.t("privacy.deleted")
        privacy.delete_user(ctx.session, ctx.user)
        ctx.user_deleted = True
        return [Reply(text)]
    ctx.state.pending = None
    return [Reply(ctx.t("privacy.delete_cancelled"))]


def choose_language(ctx: FeatureContext) -> list[Reply]:
    wanted = (ctx.turn.args or ctx.turn.option_id.partition(":")[2]).strip().lower()[:5]
    if wanted in LANGUAGES:
        ctx.state.language = wanted
        ctx.state.language_source = "chosen"  # an explicit choice: never overridden by detection
        return [Reply(ctx.t("language.changed"))]
    options = tuple(Option(f"lang:{code}", ctx.t(f"language.name.{code}")) for code in LANGUAGES)
    return [Reply(ctx.t("language.choose"), options=options, question=True)]


def register(registry: FeatureRegistry) -> None:
    registry.command("datenschutz", "privacy")(privacy_notice)
    registry.command("meinedaten", "mydata")(my_data)
    registry.command("loeschen", "löschen", "delete")(ask_delete)
    registry.command("sprache", "language")(choose_language)
    registry.options("priv", owned=True)(delete_answer)
    registry.options("lang")(choose_language)
    registry.on_pending(PENDING_DELETE)(delete_answer)
