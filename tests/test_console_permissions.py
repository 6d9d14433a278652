"""Who may do what in the partner console: sign-in rules, CSRF on every form, and editors who can
never touch another institution's events or offers – by any route, including forged posts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlmodel import select
from starlette.routing import Route

from db import audit
from db.console_accounts import MAX_FAILED, get_by_login
from db.engine import session_scope
from db.event_models import Event
from db.models import InstitutionRecord, OfferRecord
from tests.console_support import HWK, IHK, NOW, PASSWORD, Console, sign_in, token

IHK_OFFER = "ihk_aufstiegsfortbildung"  # an offer of the IHK in the bundled offer base


def _event(console: Console, event_id: int) -> Event:
    with session_scope(console.engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        return event


def _offer(console: Console, ident: str) -> OfferRecord:
    with session_scope(console.engine) as session:
        row = session.get(OfferRecord, ident)
        assert row is not None
        return row


def _ihk_offer(console: Console) -> str:
    with session_scope(console.engine) as session:
        rows = session.exec(select(OfferRecord)).all()
        return next(r.id for r in rows if r.data.get("provider") == IHK)


def _hwk_owned_offer(console: Console) -> str:
    with session_scope(console.engine) as session:
        rows = session.exec(select(OfferRecord)).all()
        return next(r.id for r in rows if r.data.get("provider") != IHK)


def _event_form(**changes: Any) -> dict[str, Any]:
    start = (NOW + dt.timedelta(days=20)).astimezone(dt.UTC)
    form: dict[str, Any] = {
        "title": "Infoabend Weiterbildung",
        "description": "",
        "start": start.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M"),
        "end": "",
        "place": "Lüneburg",
        "online_url": "",
        "registration_url": "",
        "organiser": IHK,
        "schritt": "speichern",
    }
    form.update(changes)
    return form


# --- sign-in and sessions --------------------------------------------------------------------


def test_sign_in_sets_a_signed_httponly_samesite_cookie_and_a_wrong_password_does_not(
    console: Console,
) -> None:
    client = console.client()
    wrong = sign_in(client, "ida", "falsches-passwort-123")
    assert wrong.status_code == 401 and "stimmt nicht" in wrong.text
    assert client.get("/termine").status_code == 303  # still signed out
    right = sign_in(client, "ida", PASSWORD)
    assert right.status_code == 303 and right.headers["location"] == "/termine"
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert PASSWORD not in right.headers["set-cookie"]
    assert client.get("/termine").status_code == 200


def test_cookies_are_secure_when_the_console_is_served_over_https(console: Console) -> None:
    from bot.partner_console.app import create_app
    from tests.console_support import BERLIN, SECRET

    app = create_app(console.engine, SECRET, tz=BERLIN, clock=lambda: NOW, secure_cookies=True)
    from starlette.testclient import TestClient

    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    response = sign_in(client, "ida", PASSWORD)
    assert "secure" in response.headers["set-cookie"].lower()


def test_passwords_are_stored_as_argon2_hashes_only(console: Console) -> None:
    with session_scope(console.engine) as session:
        account = get_by_login(session, "ida")
        assert account is not None
        assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash


def test_repeated_failures_lock_the_account_even_for_the_right_password(console: Console) -> None:
    client = console.client()
    for _ in range(MAX_FAILED):
        assert sign_in(client, "hans", "nicht-das-passwort").status_code == 401
    assert sign_in(client, "hans", PASSWORD).status_code == 401
    assert sign_in(client, "ida", PASSWORD).status_code == 303  # other accounts are not affected


def test_many_attempts_from_one_address_are_slowed_down(console: Console) -> None:
    client = console.client()
    statuses = [sign_in(client, f"unbekannt{i}", "egal-egal-egal").status_code for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


def test_every_page_needs_a_signed_in_account(console: Console) -> None:
    client = console.client()
    for path in (
        "/termine",
        "/termine/neu",
        f"/termine/{console.ihk_event}",
        "/angebote",
        "/protokoll",
        "/statistik",
        "/statistik/landkreise.csv",
        "/rundschreiben",
        f"/termine/{console.ihk_event}/bearbeiten",
    ):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/anmelden", path


def test_sign_out_everywhere_ends_the_sessions_on_other_devices(console: Console) -> None:
    laptop, tablet = console.client("ida"), console.client("ida")
    assert tablet.get("/termine").status_code == 200
    assert laptop.post("/ueberall-abmelden", data={"csrf": token(laptop)}).status_code == 303
    assert tablet.get("/termine").status_code == 303
    assert laptop.get("/termine").status_code == 303


def test_a_disabled_account_is_signed_out_at_its_next_click(console: Console) -> None:
    from db.console_accounts import disable

    client = console.client("hans")
    with session_scope(console.engine) as session:
        account = get_by_login(session, "hans")
        assert account is not None
        disable(session, account, NOW)
    assert client.get("/termine").status_code == 303
    assert sign_in(console.client(), "hans", PASSWORD).status_code == 401


# --- CSRF ------------------------------------------------------------------------------------


def _post_routes(console: Console) -> list[str]:
    paths = []
    for route in console.app.routes:
        if isinstance(route, Route) and "POST" in (route.methods or set()):
            paths.append(
                route.path.replace("{event_id}", str(console.ihk_event)).replace(
                    "{offer_id}", _ihk_offer(console)
                )
            )
    return paths


@pytest.mark.parametrize("sent", [None, "gefälscht"])
def test_every_form_without_the_sessions_csrf_token_is_refused(console: Console, sent: str | None) -> None:
    client = console.client("anna")  # even the admin: the token, not the role, proves the form is ours
    paths = _post_routes(console)
    assert {"/anmelden", "/abmelden", "/ueberall-abmelden", "/termine/neu"} <= set(paths)
    assert any(p.endswith("/absagen") for p in paths) and any(p.endswith("/geprueft") for p in paths)
    for path in paths:
        data = _event_form(bestaetigt="ja", login="anna", password=PASSWORD)
        if sent is not None:
            data["csrf"] = sent
        assert client.post(path, data=data).status_code == 403, path
    assert _event(console, console.ihk_event).status == "planned"
    assert _offer(console, _ihk_offer(console)).verified_on is None
    assert client.get("/termine").status_code == 200  # still signed in: sign-out needs the token too


# --- editors and other institutions ----------------------------------------------------------


def test_an_editor_cannot_open_edit_or_cancel_another_institutions_event(console: Console) -> None:
    ida = console.client("ida")
    csrf = token(ida)
    before = _event(console, console.hwk_event)
    assert ida.get(f"/termine/{console.hwk_event}/bearbeiten").status_code == 403
    forged = ida.post(f"/termine/{console.hwk_event}/bearbeiten", data=_event_form(csrf=csrf, organiser=IHK))
    assert forged.status_code == 403
    forged_keep = ida.post(
        f"/termine/{console.hwk_event}/bearbeiten", data=_event_form(csrf=csrf, organiser=HWK)
    )
    assert forged_keep.status_code == 403
    cancel = ida.post(f"/termine/{console.hwk_event}/absagen", data={"csrf": csrf, "bestaetigt": "ja"})
    assert cancel.status_code == 403
    after = _event(console, console.hwk_event)
    assert (after.title, after.starts_at, after.status, after.organiser) == (
        before.title,
        before.starts_at,
        "planned",
        HWK,
    )
    page = ida.get(f"/termine/{console.hwk_event}").text
    assert "absagen" not in page and "Bearbeiten" not in page  # no button that would fail anyway


def test_an_editor_cannot_create_an_event_in_another_institutions_name(console: Console) -> None:
    ida = console.client("ida")
    for organiser in (HWK, ""):
        response = ida.post("/termine/neu", data=_event_form(csrf=token(ida), organiser=organiser))
        assert response.status_code == 403
    with session_scope(console.engine) as session:
        assert len(session.exec(select(Event)).all()) == 2


def test_an_editor_cannot_hand_their_event_to_another_institution(console: Console) -> None:
    ida = console.client("ida")
    response = ida.post(
        f"/termine/{console.ihk_event}/bearbeiten", data=_event_form(csrf=token(ida), organiser=HWK)
    )
    assert response.status_code == 403
    assert _event(console, console.ihk_event).organiser == IHK


def test_an_editor_cannot_check_or_edit_another_institutions_offer(console: Console) -> None:
    hans = console.client("hans")
    offer = _ihk_offer(console)
    csrf = token(hans)
    before = _offer(console, offer)
    assert hans.post(f"/angebote/{offer}/geprueft", data={"csrf": csrf}).status_code == 403
    assert hans.get(f"/angebote/{offer}/bearbeiten").status_code == 403
    forged = hans.post(
        f"/angebote/{offer}/bearbeiten",
        data={"csrf": csrf, "summary": "Gefälscht", "next_step": "Gefälscht", "phone": "0"},
    )
    assert forged.status_code == 403
    after = _offer(console, offer)
    assert after.verified_on is None and after.data == before.data and after.edited_at is None
    with session_scope(console.engine) as session:
        ihk = session.get(InstitutionRecord, IHK)
        assert ihk is not None and ihk.data.get("phone") != "0"


def test_an_editor_changes_and_cancels_their_own_event_through_the_chat_code(console: Console) -> None:
    ida = console.client("ida")
    moved = _event_form(csrf=token(ida), title="IHK-Ausbildungstag (neuer Raum)", place="Lüneburg, Saal 2")
    response = ida.post(f"/termine/{console.ihk_event}/bearbeiten", data=moved)
    assert response.status_code == 303
    event = _event(console, console.ihk_event)
    assert event.place == "Lüneburg, Saal 2" and event.notice_seq == 1 and event.status == "changed"
    confirm = ida.post(f"/termine/{console.ihk_event}/absagen", data={"csrf": token(ida)})
    assert confirm.status_code == 200 and "Ja, Termin absagen" in confirm.text  # asks first
    assert _event(console, console.ihk_event).status == "changed"
    done = ida.post(f"/termine/{console.ihk_event}/absagen", data={"csrf": token(ida), "bestaetigt": "ja"})
    assert done.status_code == 303
    event = _event(console, console.ihk_event)
    assert event.status == "cancelled" and event.notice_seq == 2
    with session_scope(console.engine) as session:
        actions = [(e.actor, e.action) for e in audit.recent(session)]
    assert ("web:ida", "event_cancel") in actions and ("web:ida", "event_change") in actions


def test_an_editor_creates_an_event_after_a_preview(console: Console) -> None:
    ida = console.client("ida")
    first = ida.post("/termine/neu", data=_event_form(csrf=token(ida), schritt="vorschau"))
    assert first.status_code == 200 and "Telegram" in first.text and "Infoabend Weiterbildung" in first.text
    with session_scope(console.engine) as session:
        assert len(session.exec(select(Event)).all()) == 2  # the preview stores nothing
    saved = ida.post("/termine/neu", data=_event_form(csrf=token(ida)))
    assert saved.status_code == 303
    with session_scope(console.engine) as session:
        event = session.exec(select(Event).where(Event.title == "Infoabend Weiterbildung")).one()
        assert event.organiser == IHK and event.source == "web"


def test_invalid_event_forms_say_what_is_wrong_and_store_nothing(console: Console) -> None:
    anna = console.client("anna")
    past = (NOW - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = anna.post(
        "/termine/neu",
        data=_event_form(csrf=token(anna), title="x", start=past, place="", online_url="kein-link"),
    )
    assert response.status_code == 400
    text = response.text
    assert "3 bis 200 Zeichen" in text and "in der Zukunft" in text
    with session_scope(console.engine) as session:
        assert len(session.exec(select(Event)).all()) == 2


def test_an_editor_checks_and_edits_their_own_offer(console: Console) -> None:
    ida = console.client("ida")
    offer = _ihk_offer(console)
    # the form says how soon the bots show the edit: the interval the operator set for them
    console.app.state.console.offer_refresh_seconds = 90
    assert "binnen 90 Sekunden" in ida.get(f"/angebote/{offer}/bearbeiten").text
    assert ida.post(f"/angebote/{offer}/geprueft", data={"csrf": token(ida)}).status_code == 303
    row = _offer(console, offer)
    assert row.verified_by == "Ida IHK" and row.verified_on == dt.date(2027, 3, 1)
    edit = ida.post(
        f"/angebote/{offer}/bearbeiten",
        data={
            "csrf": token(ida),
            "summary": "Neuer Text der IHK.",
            "next_step": "Rufen Sie uns an.",
            "phone": "04131 742-0",
            "email": "",
            "address": "",
        },
    )
    assert edit.status_code == 303
    row = _offer(console, offer)
    assert row.data["summary"] == "Neuer Text der IHK." and row.edited_by == "web:ida"
    with session_scope(console.engine) as session:
        actions = {e.action for e in audit.recent(session) if e.actor == "web:ida"}
    assert {"offer_verified", "offer_edit", "institution_edit"} <= actions


# --- broadcast -------------------------------------------------------------------------------


def _subscribers(console: Console, district: str, n: int) -> None:
    from db.events import subscribe
    from db.models import User

    with session_scope(console.engine) as session:
        for i in range(n):
            user = User(transport="telegram", external_id=f"{district}{i}")
            session.add(user)
            session.flush()
            assert user.id is not None
            subscribe(session, user.id, NOW, situation=None, district=district, sector=None)


def test_only_admins_may_broadcast_even_with_a_forged_form(console: Console) -> None:
    from db.event_models import Broadcast, Delivery

    _subscribers(console, "uelzen", 2)
    ida = console.client("ida")
    assert ida.get("/rundschreiben").status_code == 403
    forged = ida.post(
        "/rundschreiben",
        data={
            "csrf": token(ida),
            "target": "district:uelzen",
            "text": "Hallo",
            "schritt": "senden",
            "bestaetigt": "ja",
        },
    )
    assert forged.status_code == 403
    with session_scope(console.engine) as session:
        assert session.exec(select(Broadcast)).all() == [] and session.exec(select(Delivery)).all() == []
    assert "Rundschreiben" not in ida.get("/termine").text


def test_a_broadcast_is_sent_only_after_preview_count_and_confirmation(console: Console) -> None:
    from db.event_models import Broadcast, Delivery

    _subscribers(console, "uelzen", 3)
    _subscribers(console, "harburg", 1)
    anna = console.client("anna")
    message = {"target": "district:uelzen", "text": "Neue Förderrunde ab Mai."}
    preview = anna.post(
        "/rundschreiben", data={"csrf": token(anna, "/rundschreiben"), **message, "schritt": "vorschau"}
    )
    assert preview.status_code == 200
    assert "an <strong>3</strong> Abonnements" in preview.text and "Neue Förderrunde ab Mai." in preview.text
    unconfirmed = anna.post(
        "/rundschreiben", data={"csrf": token(anna, "/rundschreiben"), **message, "schritt": "senden"}
    )
    assert unconfirmed.status_code == 200  # without the tick: the preview again, nothing queued
    with session_scope(console.engine) as session:
        assert session.exec(select(Broadcast)).all() == []
    sent = anna.post(
        "/rundschreiben",
        data={"csrf": token(anna, "/rundschreiben"), **message, "schritt": "senden", "bestaetigt": "ja"},
    )
    assert sent.status_code == 303
    with session_scope(console.engine) as session:
        item = session.exec(select(Broadcast)).one()
        rows = session.exec(select(Delivery).where(Delivery.broadcast_id == item.id)).all()
    assert item.recipients == 3 and len(rows) == 3 and item.created_by == "web:anna"
    status = anna.get(sent.headers["location"])
    assert "0 von 3 zugestellt, 3 ausstehend" in status.text


# --- .ics upload -----------------------------------------------------------------------------

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//DE
BEGIN:VEVENT
UID:{uid}
SUMMARY:{title}
DTSTART;TZID=Europe/Berlin:20270410T180000
DTEND;TZID=Europe/Berlin:20270410T200000
LOCATION:Lüneburg
END:VEVENT
END:VCALENDAR
"""


def _ics(uid: str, title: str) -> bytes:
    return ICS.format(uid=uid, title=title).replace("\n", "\r\n").encode()


def test_an_ics_upload_is_previewed_then_imported_for_the_editors_institution(console: Console) -> None:
    ida = console.client("ida")
    upload = {"datei": ("kalender.ics", _ics("kal-1@ihk", "Sprechtag Weiterbildung"), "text/calendar")}
    preview = ida.post(
        "/termine/import", data={"csrf": token(ida), "organiser": IHK, "schritt": "vorschau"}, files=upload
    )
    assert (
        preview.status_code == 200 and "Sprechtag Weiterbildung" in preview.text and ">neu<" in preview.text
    )
    with session_scope(console.engine) as session:
        assert len(session.exec(select(Event)).all()) == 2
    import base64

    confirm = {
        "csrf": token(ida),
        "organiser": IHK,
        "name": "kalender.ics",
        "schritt": "importieren",
        "inhalt": base64.b64encode(_ics("kal-1@ihk", "Sprechtag Weiterbildung")).decode(),
    }
    assert ida.post("/termine/import", data=confirm).status_code == 303
    with session_scope(console.engine) as session:
        event = session.exec(select(Event).where(Event.uid == "kal-1@ihk")).one()
    assert event.organiser == IHK and event.source == "ics"


def test_an_ics_upload_cannot_touch_another_institutions_event(console: Console) -> None:
    import base64

    ida = console.client("ida")
    hijack = base64.b64encode(_ics("hwk-tag", "Übernommen")).decode()
    for organiser in (IHK, HWK):
        response = ida.post(
            "/termine/import",
            data={"csrf": token(ida), "organiser": organiser, "schritt": "importieren", "inhalt": hijack},
        )
        assert response.status_code == (400 if organiser == IHK else 403)
    after = _event(console, console.hwk_event)
    assert after.title == "Meistertag der HWK" and after.organiser == HWK


def test_a_cancelled_event_can_no_longer_be_edited(console: Console) -> None:
    ida = console.client("ida")
    assert (
        ida.post(
            f"/termine/{console.ihk_event}/absagen", data={"csrf": token(ida), "bestaetigt": "ja"}
        ).status_code
        == 303
    )
    assert ida.get(f"/termine/{console.ihk_event}/bearbeiten").status_code == 409
    again = ida.post(f"/termine/{console.ihk_event}/bearbeiten", data=_event_form(csrf=token(ida)))
    assert again.status_code == 409 and _event(console, console.ihk_event).title == "IHK-Ausbildungstag"
    assert "bearbeiten" not in ida.get("/termine?ansicht=abgesagte").text.split("<tbody>")[1]


# --- accounts --------------------------------------------------------------------------------


def test_only_admins_manage_accounts_and_a_new_editor_can_sign_in(console: Console) -> None:
    hans = console.client("hans")
    assert hans.get("/konten").status_code == 403
    forged = hans.post(
        "/konten", data={"csrf": token(hans), "login": "mallory", "password": PASSWORD, "role": "admin"}
    )
    assert forged.status_code == 403
    with session_scope(console.engine) as session:
        ida = get_by_login(session, "ida")
        assert ida is not None and ida.id is not None
        ida_id = ida.id
    assert hans.post(f"/konten/{ida_id}/sperren", data={"csrf": token(hans)}).status_code == 403
    assert sign_in(console.client(), "mallory", PASSWORD).status_code == 401

    anna = console.client("anna")
    added = anna.post(
        "/konten",
        data={
            "csrf": token(anna, "/konten"),
            "login": "Lena",
            "name": "Lena LK",
            "password": PASSWORD,
            "role": "editor",
            "institutions": ["lk_uelzen"],
        },
    )
    assert added.status_code == 303
    lena = console.client("lena")
    assert "Lena LK" in lena.get("/termine").text
    assert anna.post(f"/konten/{ida_id}/sperren", data={"csrf": token(anna, "/konten")}).status_code == 303
    assert sign_in(console.client(), "ida", PASSWORD).status_code == 401


def test_the_address_limit_lifts_after_its_window_and_forgets_quiet_addresses() -> None:
    from bot.partner_console.security import AttemptLimiter

    limiter = AttemptLimiter(limit=2, window=dt.timedelta(minutes=5))
    assert limiter.allow("a", NOW) and limiter.allow("a", NOW + dt.timedelta(minutes=1))
    assert not limiter.allow("a", NOW + dt.timedelta(minutes=2))
    assert limiter.allow("b", NOW + dt.timedelta(minutes=2))  # another address is not slowed down
    assert limiter.allow("a", NOW + dt.timedelta(minutes=5, seconds=1))
    limiter.allow("c", NOW + dt.timedelta(hours=1))
    assert set(limiter._seen) == {"c"}


# --- lists and filters -----------------------------------------------------------------------


def _titles(html: str) -> list[str]:
    import re

    return re.findall(r'<a href="/termine/\d+">([^<]+)</a>', html)


def test_event_lists_split_upcoming_past_and_cancelled_and_filter(console: Console) -> None:
    from db.events import upsert_events
    from knowledge.events import EventIn

    with session_scope(console.engine) as session:
        upsert_events(
            session,
            [
                EventIn(
                    id="alt", title="Vergangener Sprechtag", start=NOW - dt.timedelta(days=3), place="Uelzen"
                ),
                EventIn(
                    id="weg",
                    title="Abgesagter Sprechtag",
                    start=NOW + dt.timedelta(days=3),
                    place="Uelzen",
                    status="cancelled",
                    districts=["uelzen"],
                ),
                EventIn(
                    id="harburg",
                    title="Harburger Abend",
                    start=NOW + dt.timedelta(days=4),
                    place="Winsen",
                    districts=["harburg"],
                    sectors=["handwerk"],
                    organiser=HWK,
                ),
            ],
            NOW,
        )
    anna = console.client("anna")
    assert _titles(anna.get("/termine").text) == [
        "Harburger Abend",
        "IHK-Ausbildungstag",
        "Meistertag der HWK",
    ]
    assert _titles(anna.get("/termine?ansicht=vergangene").text) == ["Vergangener Sprechtag"]
    assert _titles(anna.get("/termine?ansicht=abgesagte").text) == ["Abgesagter Sprechtag"]
    # an event for every district counts for each district; one for Harburg only does not count for Uelzen
    assert "Harburger Abend" not in _titles(anna.get("/termine?landkreis=uelzen").text)
    assert _titles(anna.get(f"/termine?veranstalter={HWK}").text) == ["Harburger Abend", "Meistertag der HWK"]
    assert _titles(anna.get("/termine?branche=industrie").text) == [
        "IHK-Ausbildungstag",
        "Meistertag der HWK",
    ]


def test_offer_filters_find_old_and_unchecked_offers(console: Console) -> None:
    old = _ihk_offer(console)
    with session_scope(console.engine) as session:
        rows = session.exec(select(OfferRecord)).all()
        for row in rows:
            row.verified_on, row.verified_by = dt.date(2027, 2, 1), "Prüferin"
            session.add(row)
        stale = session.get(OfferRecord, old)
        assert stale is not None
        stale.verified_on = dt.date(2025, 12, 1)
        unchecked = next(r for r in rows if r.id != old)
        unchecked.verified_on = unchecked.verified_by = None
        unchecked_id = unchecked.id
    anna = console.client("anna")
    old_page = anna.get("/angebote?alt=1").text
    assert f'id="angebot-{old}"' in old_page and "1 Angebote." in old_page
    never = anna.get("/angebote?ungeprueft=1").text
    assert f'id="angebot-{unchecked_id}"' in never and "1 Angebote." in never


def test_statistics_csv_downloads_hide_small_cells(console: Console) -> None:
    from db.models import Profile, User

    with session_scope(console.engine) as session:
        for i in range(6):
            user = User(transport="telegram", external_id=f"s{i}")
            session.add(user)
            session.flush()
            assert user.id is not None
            session.add(Profile(user_id=user.id, district="uelzen" if i < 5 else "harburg", updated_at=NOW))
    anna = console.client("hans")  # statistics are for every partner
    response = anna.get("/statistik/landkreise.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines() == ["Wert;Anzahl", "Landkreis Uelzen;5", "Landkreis Harburg;< 5"]
    assert anna.get("/statistik/gibtsnicht.csv").status_code == 404


def test_an_edit_can_be_previewed_without_saving(console: Console) -> None:
    ida = console.client("ida")
    form = _event_form(csrf=token(ida), title="IHK-Ausbildungstag am Abend", schritt="vorschau")
    shown = ida.post(f"/termine/{console.ihk_event}/bearbeiten", data=form)
    assert (
        shown.status_code == 200 and "IHK-Ausbildungstag am Abend" in shown.text and "Telegram" in shown.text
    )
    assert _event(console, console.ihk_event).title == "IHK-Ausbildungstag"


def test_failed_sign_ins_are_logged_without_echoing_unknown_names(console: Console) -> None:
    client = console.client()
    sign_in(client, "ida", "falsch-falsch-falsch")
    sign_in(client, "mein-geheimes-passwort", "x")  # the password typed into the name field
    with session_scope(console.engine) as session:
        failed = [e.actor for e in audit.recent(session) if e.action == "web_login_failed"]
    assert sorted(failed) == ["web:?", "web:ida"]
