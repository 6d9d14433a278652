"""Property-based robustness: random texts, commands and forged option ids never break the dialog.

Every turn gets at least one reply, no exception escapes, and the state always re-validates.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import dialog
from handlers.state import ConversationState
from handlers.turn import Turn, TurnKind
from knowledge.base import KnowledgeBase

SEQUENCES = int(os.environ.get("DIALOG_PROPERTY_EXAMPLES", "10000"))

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
    st.builds(lambda t: Turn("console", "p", TurnKind.TEXT, text=t), texts),
    st.builds(lambda o: Turn("console", "p", TurnKind.OPTION, option_id=o), st.sampled_from(REAL_OPTIONS)),
    st.builds(lambda o: Turn("console", "p", TurnKind.OPTION, option_id=o), st.text(max_size=70)),
    st.builds(lambda c: Turn("console", "p", TurnKind.COMMAND, command=c), st.sampled_from(COMMANDS)),
    st.builds(
        lambda la, lo: Turn("console", "p", TurnKind.LOCATION, lat=la, lon=lo),
        st.floats(-90, 90),
        st.floats(-180, 180),
    ),
    st.just(Turn("console", "p", TurnKind.UNSUPPORTED)),
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
