"""The advisory dialog end to end on the pure state machine (no transport, no database)."""

from __future__ import annotations

import pytest

from handlers.dialog import PAGE_SIZE
from handlers.state import Step
from knowledge.base import KnowledgeBase
from knowledge.vocabulary import GOALS_BY_SITUATION, District, Situation
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
    assert user.state.step is Step.SITUATION
    assert len([o for o in user.option_ids() if o.startswith("sit:")]) == 6


@pytest.mark.parametrize("situation", list(Situation))
@pytest.mark.parametrize("district", ["Lüneburg", "Harburg", "Uelzen", "Lüchow-Dannenberg"])
def test_every_situation_by_buttons_ends_in_explained_results(
    user: DialogDriver, situation: Situation, district: str
) -> None:
    user.command("start")
    user.press(SITUATION_BUTTON[situation])
    assert user.state.step is Step.DISTRICT
    user.press(district)
    assert user.state.step is Step.SECTOR
    user.press("Weiß ich noch nicht")
    assert user.state.step is Step.GOAL
    goal_buttons = [o for o in user.option_ids() if o.startswith("goal:")]
    assert goal_buttons == [f"goal:{g.value}" for g in GOALS_BY_SITUATION[situation]]
    user.option(goal_buttons[0])
    assert user.state.step is Step.RESULTS
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
    assert user.replies[0].question and user.state.step is Step.DISTRICT
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
    assert user.state.situation is Situation.ARBEITSUCHEND and user.state.step is Step.DISTRICT
    user.text("Lühneburg")
    assert user.state.district is District.LUENEBURG and user.state.step is Step.SECTOR
    user.text("zurück")
    assert user.state.district is None and user.state.step is Step.DISTRICT
    user.text("21423")
    assert user.state.district is District.HARBURG
    assert "Landkreis Harburg" in user.text_out
    user.text("Pflegekraft")
    assert user.state.sector == "gesundheit" and user.state.step is Step.GOAL
    user.text("Umschuhlung")
    assert user.state.goal == "umschulung" and user.state.step is Step.RESULTS


def test_ambiguous_place_leads_to_one_question_instead_of_a_guess(user: DialogDriver) -> None:
    user.command("start")
    user.press("Beschäftigt")
    user.text("Ich wohne in Barum")
    assert user.state.step is Step.PLACE
    assert user.state.district is None
    assert set(user.option_ids()) >= {"dist:lueneburg", "dist:uelzen"}
    user.press("Uelzen")
    assert user.state.district is District.UELZEN and user.state.step is Step.SECTOR


def test_unclear_answer_gets_friendly_reask_with_options(user: DialogDriver) -> None:
    user.command("start")
    user.text("blablub qwertz")
    assert "nicht ganz verstanden" in user.text_out
    assert user.state.step is Step.SITUATION
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
    assert user.state.situation == before.situation and user.state.step is Step.DISTRICT
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
    assert "/termine" in user.text_out and user.state.step is Step.DISTRICT
    user.text("abbrechen")
    assert user.state.step is Step.IDLE and user.state.situation is None
    assert "abgebrochen" in user.text_out
    user.command("neu")
    assert user.state.step is Step.SITUATION


def test_matrix_users_see_bang_commands_in_help(kb: KnowledgeBase) -> None:
    user = DialogDriver(kb, transport="matrix")
    user.command("hilfe")
    assert "!termine" in user.text_out and "/termine" not in user.text_out


def test_back_at_the_first_question_stays_there(user: DialogDriver) -> None:
    user.command("start")
    user.text("zurück")
    assert "ersten Frage" in user.text_out and user.state.step is Step.SITUATION


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
    assert user.state.district is District.AUSSERHALB
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
    assert user.state.district is District.UELZEN
    assert "Landkreis Uelzen" in user.text_out


def test_profile_shows_answers_and_lets_the_user_change_one(user: DialogDriver) -> None:
    _results_for(user, "Arbeitgeber", "Harburg", "Logistik", "Azubis")
    user.command("profil")
    assert "Landkreis Harburg" in user.text_out and "Logistik" in user.text_out
    user.press("Branche ändern")
    assert user.state.step is Step.SECTOR and user.state.sector is None
    user.press("IT")
    assert user.state.step is Step.RESULTS and user.state.sector == "it"


def test_unknown_command_is_answered(user: DialogDriver) -> None:
    user.command("foobar")
    assert "kenne ich nicht" in user.text_out


def test_district_contacts_name_local_counselling(user: DialogDriver) -> None:
    _results_for(user, "Arbeitsuchend", "Lüchow-Dannenberg", "Weiß ich noch nicht", "Umschulung")
    user.press("Beratung in meiner Nähe")
    assert "Landkreis Lüchow-Dannenberg" in user.text_out
    assert "Jobcenter" in user.text_out
