"""The advisory dialog end to end on the pure state machine (no transport, no database)."""

from __future__ import annotations

import pytest

from handlers import render
from handlers.dialog import MAX_CONTACTS, PAGE_SIZE
from handlers.state import ConversationState, Step
from knowledge.base import KnowledgeBase
from knowledge.schema import OfferStatus
from knowledge.vocabulary import GOALS_BY_SITUATION, REGION_DISTRICTS, District, Sector, Situation
from tests.dialog_driver import DialogDriver

SITUATION_BUTTON = {
    Situation.BETRIEB: "Arbeitgeber",
    Situation.BESCHAEFTIGT: "Beschäftigt",
    Situation.ARBEITSUCHEND: "Arbeitsuchend",
    Situation.SCHULE: "Schule",
    Situation.AUSLAND: "Ausländischer",
    Situation.WIEDEREINSTIEG: "Wiedereinstieg",
}


@pytest.fixture
def user(kb: KnowledgeBase) -> DialogDriver:
    return DialogDriver(kb)


def test_start_greets_and_asks_situation_with_six_buttons(user: DialogDriver) -> None:
    user.command("start")
    assert "Bildungslotse" in user.text_out
    assert user.current().step is Step.SITUATION
    assert len([o for o in user.option_ids() if o.startswith("sit:")]) == 6


@pytest.mark.parametrize("situation", list(Situation))
@pytest.mark.parametrize("district", ["Lüneburg", "Harburg", "Uelzen", "Lüchow-Dannenberg"])
def test_every_situation_by_buttons_ends_in_explained_results(
    user: DialogDriver, situation: Situation, district: str
) -> None:
    user.command("start")
    user.press(SITUATION_BUTTON[situation])
    assert user.current().step is Step.DISTRICT
    user.press(district)
    assert user.current().step is Step.SECTOR
    user.press("Weiß ich noch nicht")
    assert user.current().step is Step.GOAL
    goal_buttons = [o for o in user.option_ids() if o.startswith("goal:")]
    assert goal_buttons == [f"goal:{g.value}" for g in GOALS_BY_SITUATION[situation]]
    user.option(goal_buttons[0])
    assert user.current().step is Step.RESULTS
    # one message: the answer on top, then short numbered entries with a numbered button each
    [page] = user.replies
    assert page.question and page.text.startswith("✓ ")
    assert "Das passt zu Ihnen" in page.text
    numbered = [o for o in page.options if o.id.startswith("offer:")]
    assert 1 <= len(numbered) <= PAGE_SIZE
    assert [o.label for o in numbered] == [f"Nr. {n}" for n in range(1, len(numbered) + 1)]
    entries = page.text.split("\n\n")[1 + 1 : 2 + len(numbered)]
    for n, entry in enumerate(entries, start=1):
        assert entry.startswith(f"{n}. ") and "Warum:" in entry and "Ansprechpartner:" in entry
    details = user.option(numbered[0].id)
    assert [o.label for o in details[0].options] == ["Kontakt", "Zu den Ergebnissen"]


def test_a_pressed_answer_stays_visible_in_the_first_line_of_the_next_question(user: DialogDriver) -> None:
    user.command("start")
    user.press("Arbeitsuchend")
    assert user.text_out.splitlines()[0] == "✓ Arbeitsuchend / Neuorientierung"
    assert user.replies[0].question and user.current().step is Step.DISTRICT
    user.text("Uelzen")  # typed answers get no tick: the user's own words are on screen
    assert not user.text_out.startswith("✓")


def test_several_slots_in_one_message_skip_questions_and_confirm(user: DialogDriver) -> None:
    user.command("start")
    user.text("Ich bin Dachdecker aus Winsen und will meinen Meister machen")
    s = user.state
    assert (s.situation, s.district, s.sector, s.goal) == ("beschaeftigt", "harburg", "handwerk", "aufstieg")
    assert s.step is Step.RESULTS
    (line,) = [r for r in user.replies if r.text.startswith("Verstanden:")]  # one line says it all
    assert "\n" not in line.text
    assert "Winsen (Luhe) im Landkreis Harburg" in line.text
    assert "Handwerk" in line.text and "Aufstieg" in line.text
    assert [o.id for o in line.options] == ["edit:situation", "edit:district", "edit:sector", "edit:goal"]
    top = user.offer_ids()[:3]
    assert "aufstiegs_bafoeg" in user.offer_ids()
    assert any(
        user.kb.offers_by_id[i].sectors == "all" or "handwerk" in user.kb.offers_by_id[i].sectors for i in top
    )


def test_free_text_with_typos_towns_and_postcodes(user: DialogDriver) -> None:
    user.command("start")
    user.text("ich bin arbeitslos")
    assert user.current().situation is Situation.ARBEITSUCHEND and user.current().step is Step.DISTRICT
    user.text("Lühneburg")
    assert user.current().district is District.LUENEBURG and user.current().step is Step.SECTOR
    user.text("zurück")
    assert user.current().district is None and user.current().step is Step.DISTRICT
    user.text("21423")
    assert user.current().district is District.HARBURG
    assert "Landkreis Harburg" in user.text_out
    user.text("Pflegekraft")
    assert user.current().sector == "gesundheit" and user.current().step is Step.GOAL
    user.text("Umschuhlung")
    assert user.current().goal == "umschulung" and user.current().step is Step.RESULTS


def test_ambiguous_place_leads_to_one_question_instead_of_a_guess(user: DialogDriver) -> None:
    user.command("start")
    user.press("Beschäftigt")
    user.text("Ich wohne in Barum")
    assert user.current().step is Step.PLACE
    assert user.current().district is None
    assert set(user.option_ids()) >= {"dist:lueneburg", "dist:uelzen"}
    user.press("Uelzen")
    assert user.current().district is District.UELZEN and user.current().step is Step.SECTOR


def test_unclear_answer_gets_friendly_reask_with_options(user: DialogDriver) -> None:
    user.command("start")
    user.text("blablub qwertz")
    assert "nicht ganz verstanden" in user.text_out
    assert user.current().step is Step.SITUATION
    assert len(user.options) >= 6


@pytest.mark.parametrize(
    "forged", ["sit:kaiser", "offer:gibtsnicht", "contact:", "xyz", "", "edit:foo", "nav:rm -rf"]
)
def test_forged_or_stale_options_are_answered_kindly(user: DialogDriver, forged: str) -> None:
    user.command("start")
    user.press("Arbeitgeber")
    before = user.state.model_copy(deep=True)
    user.option(forged)
    assert "nicht mehr aktuell" in user.text_out
    assert user.current().situation == before.situation and user.current().step is Step.DISTRICT
    assert user.question() is not None


def test_empty_message_and_stickers_get_a_hint_and_the_question_again(user: DialogDriver) -> None:
    user.command("start")
    user.text("   ")
    assert "leer" in user.text_out and user.question() is not None
    user.unsupported()
    assert "Sticker" in user.text_out and user.question() is not None


def test_help_cancel_and_restart_work_anywhere(user: DialogDriver) -> None:
    user.command("start")
    user.press("Schule")
    user.text("hilfe")
    assert "/termine" in user.text_out and user.current().step is Step.DISTRICT
    user.text("abbrechen")
    assert user.current().step is Step.IDLE and user.current().situation is None
    assert "abgebrochen" in user.text_out
    user.command("neu")
    assert user.current().step is Step.SITUATION


def test_matrix_users_see_bang_commands_in_help(kb: KnowledgeBase) -> None:
    user = DialogDriver(kb, transport="matrix")
    user.command("hilfe")
    assert "!termine" in user.text_out and "/termine" not in user.text_out


def test_back_at_the_first_question_stays_there(user: DialogDriver) -> None:
    user.command("start")
    user.text("zurück")
    assert "ersten Frage" in user.text_out and user.current().step is Step.SITUATION


def _results_for(user: DialogDriver, *answers: str) -> None:
    user.command("start")
    for answer in answers:
        user.press(answer)


def test_more_pages_through_results(user: DialogDriver) -> None:
    _results_for(user, "Beschäftigt", "Lüneburg", "Weiß ich noch nicht", "Weiterbildung")
    first = user.offer_ids()
    assert "nav:more" in user.option_ids()
    user.text("mehr")
    second = user.offer_ids()
    assert second and not set(first) & set(second)
    assert f"{PAGE_SIZE + 1} bis" in user.text_out


def test_details_show_amounts_with_stand_and_counselling_note(user: DialogDriver) -> None:
    _results_for(user, "Beschäftigt", "Uelzen", "Handwerk", "Aufstieg")
    user.option("offer:aufstiegs_bafoeg")
    assert "Stand:" in user.text_out
    assert "persönlichen Beratung" in user.text_out
    assert "Quelle:" in user.text_out
    user.press("Kontakt")
    assert "Kontakt:" in user.text_out


def test_outside_the_region_shows_only_offers_that_apply_everywhere(user: DialogDriver) -> None:
    user.command("start")
    user.press("Beschäftigt")
    user.text("Ich wohne in Hamburg")
    assert user.current().district is District.AUSSERHALB
    user.press("Handwerk")
    user.press("Aufstieg")
    assert user.offer_ids()
    for oid in user.offer_ids():
        assert user.kb.offers_by_id[oid].scope != "region"
    assert "örtliche Agentur für Arbeit" in user.text_out


def test_shared_location_sets_the_district(user: DialogDriver) -> None:
    user.command("start")
    user.press("Arbeitgeber")
    user.location(52.965, 10.56)
    assert user.current().district is District.UELZEN
    assert "Landkreis Uelzen" in user.text_out


def test_profile_shows_answers_and_lets_the_user_change_one(user: DialogDriver) -> None:
    _results_for(user, "Arbeitgeber", "Harburg", "Logistik", "Azubis")
    user.command("profil")
    assert "Landkreis Harburg" in user.text_out and "Logistik" in user.text_out
    user.press("Branche ändern")
    assert user.current().step is Step.SECTOR and user.current().sector is None
    user.press("IT")
    assert user.current().step is Step.RESULTS and user.current().sector == "it"


def test_unknown_command_is_answered(user: DialogDriver) -> None:
    user.command("foobar")
    assert "kenne ich nicht" in user.text_out


def test_district_contacts_name_local_counselling(user: DialogDriver) -> None:
    _results_for(user, "Arbeitsuchend", "Lüchow-Dannenberg", "Weiß ich noch nicht", "Umschulung")
    user.press("Beratung in meiner Nähe")
    assert "Landkreis Lüchow-Dannenberg" in user.text_out
    assert "Jobcenter" in user.text_out


def _contact_blocks(text: str) -> dict[str, str]:
    """The listed contacts of "Beratung in meiner Nähe" in the order shown: name -> its block."""
    blocks = text.split("\n\n")[1:]
    shown: dict[str, str] = {}
    for block in blocks:
        first, *rest = block.split("\n")
        assert first.startswith(("Kontakt: ", "Contact: ")), block
        shown[first.split(": ", 1)[1]] = "\n".join(rest)
    return shown


def _why(block: str, prefix: str = "Warum: ") -> list[str]:
    [line] = [line for line in block.split("\n") if line.startswith(prefix)]
    return line.removeprefix(prefix).split(" · ")


def test_near_me_in_uelzen_lists_the_districts_own_bodies_before_region_wide_ones(user: DialogDriver) -> None:
    _results_for(user, "Arbeitsuchend", "Uelzen", "Weiß ich noch nicht", "Umschulung")
    user.press("Beratung in meiner Nähe")
    assert user.text_out.startswith("Persönliche Beratung im Landkreis Uelzen:")
    shown = _contact_blocks(user.text_out)
    assert list(shown) == [
        # in or for the district, counselling bodies first
        "Jobcenter Landkreis Uelzen",
        "Koordinierungsstelle Frau & Wirtschaft Lüneburg.Uelzen (Träger feffa e. V.)",
        "Kreisvolkshochschule (KVHS) Uelzen/Lüchow-Dannenberg",
        "Pro-Aktiv-Center (PACE) Uelzen",
        # then region-wide bodies with something for job seekers
        "Agentur für Arbeit Lüneburg-Uelzen",
        "IHK Lüneburg-Wolfsburg (IHKLW)",
    ]
    assert _why(shown["Pro-Aktiv-Center (PACE) Uelzen"]) == [
        "zuständig für den Landkreis Uelzen",
        "für Arbeitsuchende",
    ]
    assert _why(shown["Agentur für Arbeit Lüneburg-Uelzen"]) == ["für Arbeitsuchende", "für die ganze Region"]


def test_near_me_for_a_craftsman_names_the_trade_behind_the_district(user: DialogDriver) -> None:
    _results_for(user, "Beschäftigt", "Uelzen", "Handwerk", "Aufstieg")
    user.press("Beratung in meiner Nähe")
    shown = _contact_blocks(user.text_out)
    assert list(shown)[:2] == [
        "Koordinierungsstelle Frau & Wirtschaft Lüneburg.Uelzen (Träger feffa e. V.)",
        "Kreisvolkshochschule (KVHS) Uelzen/Lüchow-Dannenberg",
    ]
    # the handicraft chamber's centres before the general agency: their offers name the trade
    assert list(shown)[2:5] == [
        "Kompetenzzentrum für Nutzfahrzeug- und Landmaschinentechnik Lüneburg",
        "Technologiezentrum der Handwerkskammer (TZH) Lüneburg",
        "Agentur für Arbeit Lüneburg-Uelzen",
    ]
    assert _why(shown["Technologiezentrum der Handwerkskammer (TZH) Lüneburg"]) == [
        "für Beschäftigte",
        "Branche: Handwerk",
        "für die ganze Region",
    ]
    # schools and the job centre of the district are for other situations: not on a list of six
    assert not {"BBS I Uelzen", "Jobcenter Landkreis Uelzen"} & set(shown)


def test_near_me_for_a_business_in_luechow_dannenberg(user: DialogDriver) -> None:
    _results_for(user, "Arbeitgeber", "Lüchow-Dannenberg", "Weiß ich noch nicht", "Fachkräfte")
    user.press("Beratung in meiner Nähe")
    shown = _contact_blocks(user.text_out)
    assert list(shown) == [
        "Landkreis Lüchow-Dannenberg",
        "Agentur Wendlandleben (Landkreis Lüchow-Dannenberg)",
        "Arbeitgeber-Service der Agentur für Arbeit Lüneburg-Uelzen",
        "Handwerkskammer Braunschweig-Lüneburg-Stade (HWK BLS)",
        "IHK Lüneburg-Wolfsburg (IHKLW)",
        "Landwirtschaftliches Bildungszentrum (LBZ) Echem",
    ]
    assert _why(shown["Agentur Wendlandleben (Landkreis Lüchow-Dannenberg)"]) == [
        "zuständig für den Landkreis Lüchow-Dannenberg",
        "für Arbeitgeber und Betriebe",
    ]
    assert _why(shown["IHK Lüneburg-Wolfsburg (IHKLW)"]) == [
        "für Arbeitgeber und Betriebe",
        "für die ganze Region",
    ]


@pytest.mark.parametrize(
    ("answers", "district"),
    [
        (("Arbeitsuchend", "Uelzen", "Weiß ich noch nicht", "Umschulung"), District.UELZEN),
        (("Schule", "Lüneburg", "Handel", "Ausbildung"), District.LUENEBURG),
        (("Wiedereinstieg", "Harburg", "Weiß ich noch nicht", "Weiterbildung"), District.HARBURG),
        (("Beschäftigt", "Lüchow-Dannenberg", "Landwirtschaft", "Aufstieg"), District.LUECHOW_DANNENBERG),
    ],
)
def test_every_near_me_contact_says_truthfully_why_it_is_listed(
    user: DialogDriver, kb: KnowledgeBase, answers: tuple[str, ...], district: District
) -> None:
    _results_for(user, *answers)
    user.press("Beratung in meiner Nähe")
    situation = user.current().situation
    sector = None if user.current().sector is Sector.UNBEKANNT else user.current().sector
    by_name = {i.name: i for i in kb.institutions.values()}
    shown = _contact_blocks(user.text_out)
    assert len(shown) == MAX_CONTACTS
    region_seen = False
    for name, block in shown.items():
        inst = by_name[name]
        why = _why(block)
        region_wide = inst.districts == "all" or set(REGION_DISTRICTS) <= set(inst.districts)
        assert inst.districts == "all" or district in inst.districts
        assert ("zuständig für den " + render.label("de", "district", district) in why) is not region_wide
        assert region_wide is ("für die ganze Region" in why or "überregional (Land oder Bund)" in why)
        serves = [
            o
            for o in kb.offers
            if o.provider == inst.id
            and o.status is OfferStatus.CURRENT
            and situation in o.situations
            and o.serves_district(district)
            and (sector is None or o.sectors == "all" or sector in o.sectors)
        ]
        assert (render.label("de", "audience", situation) in why) is bool(serves), name
        named_sector = sector is not None and any(o.sectors != "all" for o in serves)
        assert any(w.startswith("Branche: ") for w in why) is named_sector, name
        if named_sector:
            assert f"Branche: {render.label('de', 'sector', sector)}" in why, name
        # a region-wide contact never stands before a district one that fits
        if region_wide:
            region_seen = True
        elif serves:
            assert not region_seen, name


def test_near_me_in_english_explains_each_contact(kb: KnowledgeBase) -> None:
    user = DialogDriver(kb, state=ConversationState(language="en", language_source="chosen"))
    _results_for(user, "Looking for work", "Uelzen", "know yet", "Retraining")
    user.press("Advice near me")
    assert user.text_out.startswith("Advice in person in the district of Uelzen:")
    shown = _contact_blocks(user.text_out)
    assert next(iter(shown)) == "Jobcenter Landkreis Uelzen"
    assert _why(shown["Jobcenter Landkreis Uelzen"], "Why: ") == [
        "serves the district of Uelzen",
        "for job seekers",
    ]
    assert _why(shown["Agentur für Arbeit Lüneburg-Uelzen"], "Why: ") == [
        "for job seekers",
        "for the whole region",
    ]
