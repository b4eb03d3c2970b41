"""Conversation structure, the same for every format: the title, who interviews, which turns
ask, and which question each turn replies to.

Every format's parser finds turns and speakers; ``link_replies`` then reads the conversation they
make, so that the same interview gives the same structure, hence the same answers, as prose,
``Name: text`` lines, SRT cues or JSON turns.
"""

from __future__ import annotations

import dataclasses
import re

from .base import LINE_BREAK, Turn, TurnKind

# Share of a host's runs of turns that end by asking a question another speaker answers.
HOST_SHARE = 0.6
TITLE_CHARS = 150  # longest first line read as a title


def is_question(sentence: str) -> bool:
    return sentence.rstrip(" \"'”’)]").endswith("?")


def asks(turn: Turn) -> bool:
    """Whether a turn ends by asking: its last sentence ends in "?" (a question mark inside,
    "You know? It was hard.", is a turn of phrase, not a question put to someone)."""
    return is_question(turn.text)


_OPENING_QUESTION = re.compile(r"[^.!?…]*\?")


def puts_a_question(turn: Turn) -> bool:
    """Whether the next speaker may be answering this turn: it ends by asking, or opens with a
    question ("Are you ready? We leave now." / "Yes.")."""
    return asks(turn) or _OPENING_QUESTION.match(turn.text) is not None


def _asked_runs(turns: list[Turn]) -> tuple[list[list[int]], dict[str, list[int]]]:
    """The runs of spoken turns (a speaker's consecutive turns, as cues split them), and by
    speaker the positions of their runs that end by asking and that another speaker answers."""
    runs: list[list[int]] = []
    for i, t in enumerate(turns):
        if t.kind != TurnKind.SPEECH or not t.speaker:
            continue
        if runs and turns[runs[-1][-1]].speaker == t.speaker:
            runs[-1].append(i)
        else:
            runs.append([i])
    answered: dict[str, list[int]] = {}
    for n, run in enumerate(runs[:-1]):
        if asks(turns[run[-1]]):
            answered.setdefault(turns[run[-1]].speaker or "", []).append(n)
    return runs, answered


def _hosts(turns: list[Turn]) -> dict[str, list[list[int]]]:
    """The speakers who interview the others, in a transcript whose labels do not say so, with
    the runs of turns in which they ask.

    A host is a speaker at least two of whose runs of turns end by asking a question that
    another speaker then answers, at least ``HOST_SHARE`` of whose runs do, and whose questions
    the others' runs mostly follow: "Anna Schmidt: What is your best-selling bread?" then
    "Jonas Weber: The sourdough rye." In a dialogue where everyone asks now and then (a sitcom
    scene, a meeting) the others mostly speak after one another, so nobody qualifies.
    """
    runs, answered = _asked_runs(turns)
    speakers = {turns[run[0]].speaker for run in runs}
    if len(speakers) < 2:
        return {}
    hosts = {}
    for name, asked in answered.items():
        own = sum(1 for run in runs if turns[run[0]].speaker == name)
        # The others' runs that come right after one of these questions (on a panel, both
        # guests may answer in turn, so half of them is enough).
        follow = sum(1 for n in asked if turns[runs[n + 1][0]].speaker != name)
        others = len(runs) - own
        if len(asked) >= 2 and len(asked) >= HOST_SHARE * own and follow >= others / 2:
            hosts[name] = [runs[n] for n in asked]
    # Everyone "hosting" is a quiz or a quarrel, not an interview.
    return hosts if len(hosts) < len(speakers) else {}


def _titled(turns: list[Turn]) -> list[Turn]:
    """The first turn as the title when it reads as one: a single short line nobody says, before
    anyone speaks, that ends in no punctuation ("Viktor Ivanov Russia's Anti-Narcotics Official
    Interview"), and is not a stage direction ("[Scene: ...]"). A title names the transcript; it
    is never quoted as an answer, whatever the format."""
    if not turns or turns[0].speaker is not None \
            or turns[0].kind not in (TurnKind.NARRATION, TurnKind.SPEECH):
        return turns
    first = turns[0].text
    if len(first) > TITLE_CHARS or LINE_BREAK.search(first) or first[0] in "[(" \
            or first[-1] in ".?!:;,\"'’”)]…-":
        return turns
    return [dataclasses.replace(turns[0], kind=TurnKind.TITLE), *turns[1:]]


def link_replies(turns: list[Turn]) -> list[Turn]:
    """Number the turns, find who asks, and point each spoken turn at the question it answers.

    Where labels or the sidecar name an interviewer, their turns are the questions already. Where
    they do not, a host found by ``_hosts`` has each question of theirs that another speaker
    answers turned into a question turn: it is the reply's ``in_reply_to``, not an answer of its
    own. The reply to a question is every spoken turn after it, up to the next question. In a
    dialogue with no host, a turn replies to the turn before it when another speaker asked
    something there.
    """
    turns = _titled(turns)
    if not any(t.kind == TurnKind.QUESTION for t in turns):
        asking = {i for runs in _hosts(turns).values() for run in runs for i in run}
        turns = [dataclasses.replace(t, kind=TurnKind.QUESTION) if i in asking else t
                 for i, t in enumerate(turns)]
    has_interviewer = any(t.kind == TurnKind.QUESTION for t in turns)
    linked: list[Turn] = []
    last_question: int | None = None
    for i, turn in enumerate(turns):
        reply_to = None
        if turn.kind == TurnKind.SPEECH:
            if has_interviewer:
                reply_to = last_question
            elif linked and linked[-1].kind == TurnKind.SPEECH and linked[-1].speaker != turn.speaker \
                    and puts_a_question(linked[-1]):
                reply_to = i - 1
        if turn.kind == TurnKind.QUESTION:
            last_question = i
        linked.append(dataclasses.replace(turn, index=i, reply_to=reply_to))
    return linked
