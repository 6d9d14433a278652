"""/statistik: anonymous totals for partners (users, districts, situations, goals), audited."""

from __future__ import annotations

from typing import Any

from db import audit
from handlers.features import FeatureContext, FeatureRegistry
from handlers.turn import Reply


def format_statistics(ctx: FeatureContext, stats: dict[str, Any]) -> str:
    def counts(kind: str, values: dict[str, int]) -> str:
        if not values:
            return "–"
        return ", ".join(f"{ctx.t(f'{kind}.{code}')}: {n}" for code, n in values.items())

    lines = [
        ctx.t("admin.stats_header"),
        ctx.t("admin.stats_users", users=stats["users"], active=stats["active_users"]),
        ctx.t("admin.stats_by_district", values=counts("district", stats["by_district"])),
        ctx.t("admin.stats_by_situation", values=counts("situation", stats["by_situation"])),
        ctx.t("admin.stats_top_goals", values=counts("goal", stats["top_goals"])),
    ]
    if "subscriptions" in stats:
        lines.append(ctx.t("admin.stats_subscriptions", count=stats["subscriptions"]))
    if "reminders_sent" in stats:
        lines.append(ctx.t("admin.stats_reminders", count=stats["reminders_sent"]))
    return "\n".join(lines)


def statistics(ctx: FeatureContext) -> list[Reply]:
    stats = audit.statistics(ctx.session)
    audit.record(ctx.session, ctx.actor, "statistics")
    return [Reply(format_statistics(ctx, stats))]


def register(registry: FeatureRegistry) -> None:
    registry.command("statistik", "stats", admin=True)(statistics)
