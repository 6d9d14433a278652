"""Property-based robustness: random texts, commands and forged option ids never break the dialog.

Every turn gets at least one reply, no exception escapes, and the state always re-validates.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation import ConversationService
from handlers import dialog
from handlers.state import ConversationState
from handlers.turn import Turn, TurnKind
from knowledge.base import KnowledgeBase
from tests.turns import make_turn

# 1,000 random sequences in every run; `make test-long` (and CI) runs 10,000
SEQUENCES = int(os.environ.get("DIALOG_PROPERTY_EXAMPLES", "1000"))

REAL_OPTIONS = [
    "sit:betrieb", "sit:ausland", "dist:uelzen", "dist:ausserhalb", "sec:it", "sec:unbekannt",
    "goal:aufstieg", "goal:foerderung", "nav:back", "nav:more", "nav:start", "nav:contact",
    "nav:results", "edit:sector", "offer:aufstiegs_bafoeg", "contact:bab",
]  # fmt: skip
PHRASES = [
    "Ich bin Dachdecker aus Winsen und will meinen Meister machen", "zurück", "neu", "hilfe",
    "abbrechen", "mehr", "21423", "Barum", "Lühneburg", "ja", "nein", "Pflegekraft",
    "'; DROP TABLE users; --", "<b>x</b>", "1",
]  # fmt: skip
COMMANDS = ["start", "neu", "hilfe", "zurueck", "abbrechen", "angebote", "profil", "resume", "xyz", ""]

texts = st.one_of(
    st.sampled_from(PHRASES),
    st.text(max_size=60),
    st.text(
        alphabet=st.characters(categories=["Cc", "Cf", "Zs", "So"]), max_size=20
    ),  # control, RTL marks, emoji
    st.builds(lambda c, n: c * n, st.sampled_from(["a", "ü", "😀", "\u202e", "ب"]), st.integers(4000, 5000)),
)
turns = st.one_of(
    st.builds(lambda t: make_turn("console", "p", TurnKind.TEXT, text=t), texts),
    st.builds(
        lambda o: make_turn("console", "p", TurnKind.OPTION, option_id=o), st.sampled_from(REAL_OPTIONS)
    ),
    st.builds(lambda o: make_turn("console", "p", TurnKind.OPTION, option_id=o), st.text(max_size=70)),
    st.builds(lambda c: make_turn("console", "p", TurnKind.COMMAND, command=c), st.sampled_from(COMMANDS)),
    st.builds(
        lambda la, lo: make_turn("console", "p", TurnKind.LOCATION, lat=la, lon=lo),
        st.floats(-90, 90),
        st.floats(-180, 180),
    ),
    st.just(make_turn("console", "p", TurnKind.UNSUPPORTED)),
)


@settings(
    max_examples=SEQUENCES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(sequence=st.lists(turns, min_size=1, max_size=6))
def test_random_turn_sequences_never_break_the_dialog(kb: KnowledgeBase, sequence: list[Turn]) -> None:
    ctx = dialog.DialogContext(kb=kb, result_extras=(("abo:start", "option.results"),))
    state = ConversationState()
    for turn in sequence:
        state, replies = dialog.step(state, turn, ctx)
        assert replies, f"no reply to {turn.kind}"
        assert all(r.text.strip() for r in replies)
        assert all(len(o.id.encode()) <= 60 for r in replies for o in r.options)
        assert ConversationState.restore(state.dump()) == state


FEATURE_COMMANDS = ["termine", "abo", "stop", "meinedaten", "loeschen", "sprache", "datenschutz", "statistik"]
FEATURE_OPTIONS = [
    "abo:start", "abo:stop", "abo:xyz", "ev:ics:999999", "ev:more:2", "priv:delete_no", "priv:delete_yes",
    "lang:en", "lang:xx", "adm:save", "adm:cancel:1", "adm:dist:uelzen",
]  # fmt: skip
service_turns = st.one_of(
    turns,
    st.builds(
        lambda c: make_turn("console", "p", TurnKind.COMMAND, command=c), st.sampled_from(FEATURE_COMMANDS)
    ),
    st.builds(
        lambda o: make_turn("console", "p", TurnKind.OPTION, option_id=o), st.sampled_from(FEATURE_OPTIONS)
    ),
)


@settings(
    max_examples=int(os.environ.get("SERVICE_PROPERTY_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    database=None,
)
@given(sequence=st.lists(service_turns, min_size=1, max_size=6))
def test_random_sequences_through_the_service_and_features(
    service_for_properties: ConversationService, sequence: list[Turn]
) -> None:
    from sqlmodel import Session, select

    from db.models import Conversation, User

    service = service_for_properties
    for turn in sequence:
        replies = service.handle_sync(turn)
        assert replies, f"no reply to {turn.kind}"
        assert not any("schiefgelaufen" in r.text for r in replies), turn
    with Session(service.engine) as s:
        user = s.exec(select(User).where(User.external_id == "p")).first()
        if user is not None:  # None right after a confirmed /loeschen
            stored = s.get(Conversation, user.id)
            assert stored is not None
            assert ConversationState.restore(stored.state).model_dump(mode="json") == stored.state
