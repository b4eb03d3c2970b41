"""Example questions for the transcripts in scope, each one checked to answer before it is shown.

A transcript with an interviewer offers its own questions: the ones a speaker answers. One without
offers questions built from its most distinctive words ("What does Jonas Weber say about rye?"):
words said often in a few turns and seldom in the rest of the transcript. With no filter, the
curated questions (``ui.EXAMPLES``) come first, then each transcript's in turn. A candidate is
shown only if ``bot.ask`` answers it (``no_answer`` false) in the same scope, so no example ever
leads to "No answer".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, zip_longest
from typing import Any

from .parsers.base import Transcript, TurnKind
from .parsers.structure import is_question

COUNT = 5  # buttons in the app
MAX_CHARS = 120  # a longer question makes a poor button
TRIES = 4  # candidates asked per example shown, at most: each costs one question's encoding
_SENTENCE = re.compile(r"[^.!?…]+[.!?…]+[\"'”’)\]]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
# Words of four letters or more that say nothing about a topic (shorter ones are skipped anyway).
_COMMON_WORDS = """
about above after again against also always among another anyone anything around because been
before being below between both cannot come comes coming could does doing done down during each
either else enough even ever every everyone everything from get gets getting give given goes going
gone good got great have having here hers herself himself into itself just keep kind know known
last less like little look lot lots made make makes making many maybe mean might more most much
must myself need never next nothing okay once only other others ours over own perhaps please
quite rather really right said same say saying says see seem seems shall should since some
someone something sometimes still such sure take than that thank thanks that's their theirs them
themselves then there these they thing things think this those though through thus time today
told too took toward under until upon very want wanted wants well went were what when where
whether which while whom whose will with within without would yeah year years yes yet your
yours yourself yourselves don't didn't doesn't it's i'm you're we're they're isn't wasn't can't
won't i've you've we've i'll you'll there's what's let's
"""
_COMMON = frozenset(_COMMON_WORDS.split())


def suggest(bot: Any, transcript: str | None = None, speaker: str | None = None,
            count: int = COUNT, curated: Sequence[str] = ()) -> tuple[str, ...]:
    """Up to ``count`` questions that ``bot`` answers in this scope, most useful first.

    Args:
        bot: a loaded ``QaBot`` (its transcripts and ``ask``).
        transcript: the transcript filter (its file name), or None for all.
        speaker: the speaker filter, or None for all.
        count: most questions returned.
        curated: questions to try first when no transcript is chosen (the app's own examples).
    """
    transcript = bot.resolve_transcript(transcript)
    if transcript is not None:
        pool: Iterable[str] = candidates(bot.transcripts[transcript], speaker)
    else:
        per_transcript = [candidates(t, speaker) for _, t in sorted(bot.transcripts.items())]
        pool = chain(curated, _interleave(per_transcript))
    found: list[str] = []
    for n, question in enumerate(_unique(pool)):
        if len(found) == count or n == count * TRIES:
            break
        if not bot.ask(question, 1, transcript, speaker).no_answer:
            found.append(question)
    return tuple(found)


def candidates(transcript: Transcript, speaker: str | None = None) -> list[str]:
    """The transcript's own questions that get an answer (from ``speaker``, when given), spread
    over the conversation, then questions on its most distinctive words."""
    asked = interviewer_questions(transcript, speaker)
    return [*_spread(asked), *term_questions(transcript, speaker)]


def interviewer_questions(transcript: Transcript, speaker: str | None = None) -> list[str]:
    """The questions put in the transcript that a speaker's turn replies to, as short questions:
    a long turn gives its last sentence that asks, if that is short enough to stand alone."""
    answered = {t.reply_to for t in transcript.turns if t.kind == TurnKind.SPEECH
                and t.reply_to is not None and (speaker is None or t.speaker == speaker)}
    out = []
    for turn in transcript.turns:
        if turn.index not in answered or (turn.kind != TurnKind.QUESTION and not is_question(turn.text)):
            continue
        text = " ".join(turn.text.split())
        if len(text) > MAX_CHARS:
            asks = [s.strip() for s in _SENTENCE.findall(text) if is_question(s)]
            text = asks[-1] if asks else ""
        if 10 <= len(text) <= MAX_CHARS:
            out.append(text)
    return out


def distinctive_terms(transcript: Transcript, speaker: str | None = None) -> list[tuple[str, str | None]]:
    """Words of the spoken turns (``speaker``'s only, when given), most distinctive first, each
    with who says it most: a word's weight is how often it is said times its IDF over the
    transcript's turns, so a word said often in a few turns beats one said once or everywhere."""
    turns = [t for t in transcript.turns if t.kind == TurnKind.SPEECH]
    names = {w.lower() for t in transcript.turns if t.speaker for w in _WORD.findall(t.speaker)}
    bags = [Counter(w for w in (m.lower() for m in _WORD.findall(t.text))
                    if len(w) >= 4 and w not in _COMMON and w not in names) for t in turns]
    df = Counter(w for bag in bags for w in bag)
    said: Counter[str] = Counter()
    by: dict[str, Counter[str | None]] = {}
    for turn, bag in zip(turns, bags, strict=True):
        if speaker is not None and turn.speaker != speaker:
            continue
        for word, n in bag.items():
            said[word] += n
            by.setdefault(word, Counter())[turn.speaker] += n
    total = len(turns)
    weight = {w: n * math.log((total + 1) / df[w]) for w, n in said.items()}
    ranked = sorted(weight, key=lambda w: (-weight[w], -len(w), w))  # a longer word says more
    # shown as it is written most often ("Saturdays", "USSR"), not lower-cased
    spelled = Counter(m for t in turns for m in _WORD.findall(t.text) if m.lower() in weight)
    written: dict[str, str] = {}
    for form, _ in spelled.most_common():
        written.setdefault(form.lower(), form)
    return [(written.get(w, w), by[w].most_common(1)[0][0]) for w in ranked]


def term_questions(transcript: Transcript, speaker: str | None = None, limit: int = COUNT * 2) -> list[str]:
    """"What does <speaker> say about <word>?" for the most distinctive words."""
    out = []
    for word, who in distinctive_terms(transcript, speaker)[:limit]:
        out.append(f"What does {who} say about {word}?" if who else f"What is said about {word}?")
    return out


def _spread(questions: list[str], count: int = COUNT * 2) -> list[str]:
    """Questions from across the conversation (not only its opening), in order."""
    if len(questions) <= count:
        return questions
    step = len(questions) / count
    return [questions[int(i * step)] for i in range(count)]


def _interleave(lists: Sequence[list[str]]) -> Iterator[str]:
    for row in zip_longest(*lists):
        yield from (q for q in row if q is not None)


def _unique(questions: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for q in questions:
        if q.lower() not in seen:
            seen.add(q.lower())
            yield q
