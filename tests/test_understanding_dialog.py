"""Issue 10 through the conversation service, as the people in the issue wrote to the bot.

The nurse from the Philippines writes English, the electrician from abroad simple German, the young
employee names where he works ("Betrieb in 21629"). Each gets understood in one line, a one-tap
correction per understood slot, and the answer language follows what they write.
"""

from __future__ import annotations

from typing import Unpack

import pytest

from bot.app import build_features, feature_settings
from bot.conversation import ConversationService
from bot.settings import load_settings
from db.engine import make_engine
from handlers.turn import Reply, TurnKind
from knowledge.base import KnowledgeBase
from tests.turns import TurnContent, make_turn


class Person:
    """One person chatting through the service (Telegram, so the client's language is sent along)."""

    def __init__(self, service: ConversationService, name: str, client_language: str = "de") -> None:
        self.service, self.name, self.client_language = service, name, client_language
        self.replies: list[Reply] = []

    def _send(self, kind: TurnKind, **kw: Unpack[TurnContent]) -> list[Reply]:
        turn = make_turn("telegram", self.name, kind, language=self.client_language, **kw)
        self.replies = self.service.handle_sync(turn)
        return self.replies

    def command(self, name: str, args: str = "") -> list[Reply]:
        return self._send(TurnKind.COMMAND, command=name, args=args)

    def says(self, text: str) -> list[Reply]:
        return self._send(TurnKind.TEXT, text=text)

    def taps(self, option_id: str) -> list[Reply]:
        visible = [o.id for r in self.replies for o in r.options]
        assert option_id in visible, (option_id, visible)
        return self._send(TurnKind.OPTION, option_id=option_id)

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    def understood_line(self, prefix: str) -> Reply:
        (line,) = [r for r in self.replies if r.text.startswith(prefix)]
        assert "\n" not in line.text, line.text  # one line
        return line

    def option_ids(self) -> list[str]:
        return [o.id for r in self.replies for o in r.options]


@pytest.fixture
def service(sqlite_url: str, kb: KnowledgeBase) -> ConversationService:
    settings = load_settings(_env_file=None)
    return ConversationService(make_engine(sqlite_url), kb, feature_settings(settings), build_features())


def test_the_nurse_from_the_philippines_is_understood_and_answered_in_english(
    service: ConversationService,
) -> None:
    nurse = Person(service, "nurse", client_language="de")  # her phone is set to German
    nurse.command("start")
    assert "Guten Tag" in nurse.text  # the client's language before the first text
    nurse.says("I am a nurse from the Philippines living in Buchholz, my degree is not recognised yet")
    line = nurse.understood_line("Got it:")
    for part in (
        "Qualification from abroad",
        "Buchholz in der Nordheide in the district of Harburg",
        "Health",
    ):
        assert part in line.text
    assert "Get my qualification recognised" in line.text
    # every understood slot has its own correction, and the results are in English
    assert {"edit:situation", "edit:district", "edit:sector", "edit:goal"} <= set(nurse.option_ids())
    assert "These offers suit you" in nurse.text and "Why it fits:" in nurse.text
    assert "for people with a foreign qualification" in nurse.text
    # she corrects one slot: only that question comes back, then the results again
    nurse.taps("edit:district")
    assert "Which district do you live or work in?" in nurse.text
    nurse.says("Winsen")
    assert "These offers suit you" in nurse.text
    assert all(len(f"v1|q|{o}".encode()) < 64 and o.isascii() for o in nurse.option_ids())


def test_the_electrician_from_abroad_in_simple_german(service: ConversationService) -> None:
    worker = Person(service, "elektriker")
    worker.command("start")
    worker.says("Ich komme aus Syrien. Ich bin Elektriker. Ich habe Zeugnis von Schule in Syrien.")
    line = worker.understood_line("Verstanden:")
    assert "Ausländischer Berufsabschluss" in line.text and "Handwerk" in line.text
    assert "Schule, Ausbildung" not in worker.text
    assert [o.id for o in line.options] == [] and "edit:situation" in worker.option_ids()
    assert "In welchem Landkreis" in worker.text  # asks only what it does not know, in German
    worker.says("uelzen")
    assert "Verstanden: Uelzen im Landkreis Uelzen" in worker.text
    worker.taps("goal:anerkennung")
    assert "für Menschen mit ausländischem Abschluss" in worker.text


def test_the_young_employee_with_betrieb_in_21629_gets_no_employer_offers(
    service: ConversationService,
) -> None:
    employee = Person(service, "azubi_fertig")
    employee.command("start")
    employee.says("Ich habe meine Ausbildung abgeschlossen, Betrieb in 21629, will mich weiterbilden")
    line = employee.understood_line("Verstanden:")
    assert "Beschäftigt" in line.text and "Neu Wulmstorf im Landkreis Harburg" in line.text
    assert "Arbeitgeber" not in line.text
    assert "Weiterbildung" in line.text
    employee.taps("sec:handwerk")
    assert "Das passt zu Ihnen" in employee.text
    assert "für Beschäftigte" in employee.text
    assert "für Arbeitgeber und Betriebe" not in employee.text
    assert "Beschäftigte qualifizieren" not in employee.text


def test_level_readings_get_one_either_or_question_with_two_buttons(service: ConversationService) -> None:
    person = Person(service, "mixed")
    person.command("start")
    person.says("nach der elternzeit arbeitslos in lüneburg")
    question = next(r for r in person.replies if r.question)
    assert "Was trifft eher auf Sie zu?" in question.text
    assert sorted(o.id for o in question.options) == ["sit:arbeitsuchend", "sit:wiedereinstieg"]
    assert "Verstanden: Lüneburg im Landkreis Lüneburg" in person.text
    person.taps("sit:wiedereinstieg")
    assert "In welcher Branche" in person.text  # the district is kept, the next open question follows


def test_a_correction_button_only_reopens_its_own_question(service: ConversationService) -> None:
    person = Person(service, "roofer")
    person.command("start")
    person.says("Ich bin Dachdecker aus Winsen und will meinen Meister machen")
    assert "Das passt zu Ihnen" in person.text
    person.taps("edit:situation")
    assert "Was beschreibt Ihre Lage am besten?" in person.text
    person.taps("sit:arbeitsuchend")
    assert "Das passt zu Ihnen" in person.text  # district, sector and goal were kept


def test_the_answer_language_follows_the_text_but_never_a_choice(service: ConversationService) -> None:
    person = Person(service, "lang", client_language="de")
    person.command("start")
    person.says("ok")
    assert "Das habe ich leider nicht ganz verstanden" in person.text  # "ok" decides nothing
    person.says("Lüneburg")
    assert "Verstanden: Lüneburg im Landkreis Lüneburg" in person.text  # a town decides nothing either
    person.says("i am looking for work")
    assert "Got it: Looking for work" in person.text
    person.says("Handwerk")
    assert "What would you like to achieve?" in person.text  # one German word does not switch back
    person.command("neu")
    assert "Hello!" in person.text  # the language outlives a restart
    person.says("Ich bin arbeitslos und suche eine Umschulung")
    assert "Verstanden: Arbeitsuchend" in person.text  # a German sentence: German again
    person.command("sprache", args="en")
    person.says("Ich bin arbeitslos und suche eine Umschulung in der Pflege")
    assert "Got it:" in person.text  # /sprache wins over what the text looks like


def test_an_english_client_writing_german_gets_german(service: ConversationService) -> None:
    person = Person(service, "en_client", client_language="en")
    person.command("start")
    assert "Hello!" in person.text
    person.says("Ich bin Schüler und möchte eine Ausbildung machen")
    assert "Verstanden: Schule" in person.text
