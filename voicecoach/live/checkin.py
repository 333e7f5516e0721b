"""The check-in at the end of a live session: how does the back feel, compared with before?

The coach asks in the session's voice (the phrase pack's ``check_in``) and the screen
names the keys; an answer is a
command like any other (``FELT_COMMANDS``: the keys 1, 2 and 3, and the spoken answers
through the same controls), accepted while the question is spoken and for ``ANSWER_S``
seconds after it. No answer in time, or ``q``, is recorded as ``unknown``: never a guess.
"""

from __future__ import annotations

from typing import Callable

from .commands import Command

# The answer -> how the back felt, as the history records it (``history.store.FELT``).
FELT_COMMANDS = {Command.FELT_BETTER: "better", Command.FELT_SAME: "same", Command.FELT_WORSE: "worse"}
KEYS = {"1": Command.FELT_BETTER, "2": Command.FELT_SAME, "3": Command.FELT_WORSE}
ON_SCREEN = "How does your back feel, compared with before?   1 better   2 the same   3 worse"
ANSWER_S = 8.0  # after the question ends
TICK_S = 0.1


def check_in(question: str, speak: Callable[[str], float], wait: Callable[[float], Command | None],
             note: Callable[[str], None], clock: Callable[[], float], answer_s: float = ANSWER_S) -> str:
    """Ask ``question`` and wait; returns 'better', 'same', 'worse' or 'unknown'.

    ``speak(text)`` starts saying it and returns how many seconds that lasts; ``wait`` is
    the controls' ``wait(timeout_s) -> command | None``; ``note(text)`` shows a line.
    """
    note(ON_SCREEN)
    deadline = clock() + speak(question) + answer_s
    while True:
        left = deadline - clock()
        if left <= 0:
            return "unknown"
        command = wait(min(TICK_S, left))
        if command in FELT_COMMANDS:
            return FELT_COMMANDS[command]
        if command == Command.QUIT:
            return "unknown"
