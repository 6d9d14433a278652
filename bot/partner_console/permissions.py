"""Who may change what: an admin everything, an editor only the content of their institutions.

Every page that changes an event or an offer asks these functions with the stored row, before
anything is written, and again for the values in the posted form (an editor cannot hand an event
to another institution, nor create one in its name). A "no" is a 403, never a silent skip.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException

from db.console_accounts import ConsoleAccount
from db.event_models import Event
from db.models import OfferRecord


def may_act_for(account: ConsoleAccount, institution: str | None) -> bool:
    return account.is_admin or (institution is not None and institution in account.institutions)


def may_edit_event(account: ConsoleAccount, event: Event) -> bool:
    return may_act_for(account, event.organiser)


def may_edit_offer(account: ConsoleAccount, offer: OfferRecord) -> bool:
    return may_act_for(account, str(offer.data.get("provider") or "") or None)


def forbid_unless(allowed: bool) -> None:
    if not allowed:
        raise HTTPException(403, "Dafür fehlt Ihrem Konto die Berechtigung.")


def require_admin(account: ConsoleAccount) -> None:
    forbid_unless(account.is_admin)
