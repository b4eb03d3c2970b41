"""Unrelated transcripts change no answer: adding 100 everyday conversations to the corpus leaves
every interview question's top answer (and its no-answer flag) where it was.

A question about the interview has its answer in the interview whatever else sits beside it;
if cooking shows and flat-share squabbles move that answer, a score depends on the rest of the
corpus (a normalisation over it, word statistics, a bonus for any turn after a question that
sounds alike) rather than on how well the passage answers. The added conversations are generated
here, seeded, so the test is the same on every run: ordinary questions and answers between named
speakers, in the three kinds of file users add, some with generic lines that share words with the
interview questions ("Well, where is he?", "How much money did you put into it?") but never its
subject (nor paraphrase one of its questions: "Where did the meeting take place?" would be a fair
answer to "Where did the meeting with the envoy take place?" asked of the whole corpus). The
subject is checked too: were they about it, a moved answer could be right.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import time
from pathlib import Path

import pytest
from helpers import CORPUS, INTERVIEW, ROOT, write_corpus

import qa_bot
from qa_bot.bot import QaBot

QUESTIONS = [json.loads(line)["question"] for line in
             (ROOT / "tests" / "data" / "interview_questions.jsonl").read_text("utf-8").splitlines()
             if line.strip()]
ADDED = 100
SEED = 20240611

# What the interview is about: none of it may appear in an added transcript.
OFF_LIMITS = re.compile(
    r"drug|narcot|heroin|cocaine|opium|traffick|cartel|mafia|smuggl|russia|soviet|ussr|moscow|"
    r"kremlin|putin|kgb|afghan|kyrgyz|tajik|uzbek|kazakh|central asia|caucas|america|\bu\.s\.|"
    r"united states|washington|clinton|governm|president|minister|politic|g8|elysee|\bparis\b|ivanov|"
    r"unemploy|jobless|guerr|paramilitar|weapon|kill|tumou?r|metasta",
    re.IGNORECASE)

FIRST_NAMES = ["Maria", "Tom", "Priya", "Jonas", "Chloe", "Sam", "Aisha", "Ben", "Lucia", "Oliver",
               "Hannah", "Kwame", "Ines", "Marco", "Grace", "Tariq", "Nora", "Felix", "Ruth", "Dev",
               "Elena", "Gus", "Maya", "Leo", "Rosa", "Callum", "Yuki", "Omar", "Freya", "Pete"]
SURNAMES = ["Okafor", "Lindqvist", "Hughes", "Moreau", "Bianchi", "Kowalski", "Patel", "Brennan",
            "Dubois", "Fischer", "Nakamura", "Alvarez", "Murphy", "Jensen", "Costa", "Walsh"]

# Generic lines that share words with the interview questions (where, how much money, put into,
# break up, expect, sorry, the end of, fail, plan, team up, pay for, come from, normal...) in
# everyday settings.
GENERIC = [
    ("Well, where is he? He is supposed to be here.",
     "He texted that the bus is late. Give him ten minutes."),
    ("How much money did you put into it?", "More than I like to admit. Most of it went on the tools."),
    ("How much is it worth now?", "Maybe half what we paid. Nobody wants a second-hand one."),
    ("Did you expect them to break up?", "Honestly, no. They seemed so happy at the barbecue."),
    ("Does he feel sorry about it?", "He says he does, but he keeps doing it every week."),
    ("What did she say about the end of the film?",
     "She said the ending was the biggest letdown of the year."),
    ("Why did the old plan fail?", "Nobody stuck to it. We had no routine, we just winged it."),
    ("What happens when the orders grow?", "We take on another pair of hands for the weekends."),
    ("How do they deal with each other?", "They mostly ignore each other and leave notes on the fridge."),
    ("Is that normal?", "For this house? Completely normal."),
    ("Why should we pay for it?", "Because we all use it, that is why."),
    ("Can we team up on this?", "Sure. You take the left side and I will take the right."),
    ("Where does it come from?", "The farm shop at the end of the lane."),
    ("Who is actually here today?", "Just the three of us and the dog."),
    ("What is the plan for next year?", "Same as this year, but with better snacks."),
    ("Was it a perfect model?", "Not at all, but it worked for a while."),
    ("What kind of help does the neighbour need?",
     "Just someone to hold the ladder while he fixes the gutter."),
    ("How high is the rent going?", "Up by forty a month from March."),
]

# Per topic: a title, the asking role's phrasing (question, answer) with {slots}, and the slots.
TOPICS: dict[str, dict] = {
    "cooking": {"pairs": [
        ("How long do the {veg} need in the oven?",
         "About {n} minutes at two hundred degrees. Turn them once halfway."),
        ("Should I salt the water for the {pasta}?", "Yes, generously. It should taste like the sea."),
        ("What goes into your {dish}?", "Onions, garlic, a tin of tomatoes and a good glug of olive oil."),
        ("Can I use butter instead of oil?", "You can, but keep the heat lower or it will burn."),
        ("Why is my {dish} so watery?", "You covered the pan. Leave the lid off for the last {n} minutes."),
        ("What do you serve it with?", "Crusty bread, or rice if the kids are eating."),
        ("How do you know when the {veg} are done?", "A knife slides in with no effort at all."),
        ("Is fresh basil better than dried?", "For this, yes. Tear it in right at the end."),
    ], "slots": {"veg": ["potatoes", "carrots", "parsnips", "peppers", "beetroots"],
                 "pasta": ["spaghetti", "penne", "fusilli", "linguine"],
                 "dish": ["stew", "curry", "soup", "risotto", "sauce"]}},
    "gardening": {"pairs": [
        ("When should I plant the {plant}?", "After the last frost, so late April or early May."),
        ("Why are the leaves on my {plant} going yellow?",
         "Too much water. Let the soil dry out between waterings."),
        ("How often do you water the {plant}?", "Every {n} days in summer, less when it rains."),
        ("Do slugs eat the {plant}?", "They love them. I put a ring of crushed eggshells around each one."),
        ("What compost do you use?", "Our own, from the heap behind the shed, mixed with a little sand."),
        ("Should I prune the roses now?",
         "Wait until the end of winter, then cut just above an outward bud."),
        ("How deep do the bulbs go?", "About three times their own height."),
        ("Is it too late to sow carrots?", "Not if you get them in this week and keep the fleece on."),
    ], "slots": {"plant": ["tomatoes", "courgettes", "runner beans", "lettuces", "dahlias", "strawberries"]}},
    "football": {"pairs": [
        ("Who is starting in goal on {day}?", "{name2}, if his ankle holds up in training."),
        ("Why did we lose the last match?",
         "We stopped pressing after half time and they scored twice from corners."),
        ("What formation are we playing?", "Four four two, with {name2} pushing up on the left."),
        ("How many goals did {name2} score this season?",
         "{n} so far, which is a club record for a defender."),
        ("Is the pitch playable after all that rain?",
         "The groundsman says yes, but the far corner is a swamp."),
        ("What did the coach say at half time?",
         "Keep the ball on the ground and stop arguing with the referee."),
        ("When is training this week?", "Thursday at seven, and bring your shin pads this time."),
    ], "slots": {"day": ["Saturday", "Sunday", "Wednesday"]}},
    "flatshare": {"pairs": [
        ("Who ate my yoghurt?", "Not me. Ask {name2}, they were up at three making toast."),
        ("Whose turn is it to take the bins out?", "Yours. It has been yours since Monday."),
        ("Why is there a bicycle in the bathroom?",
         "The hallway was full and it was raining. It is a temporary arrangement."),
        ("Can you please wash your pans?", "They are soaking. Soaking is part of washing."),
        ("Did you invite people round again?", "Only four, and they left before midnight. Mostly."),
        ("Who used all the hot water?", "{name2} had a forty-minute shower. I timed it."),
        ("Are we getting a cat or not?", "The landlord said no pets, so officially, no."),
        ("Why is the thermostat on thirty?", "Because some of us are cold-blooded and like to be warm."),
    ], "slots": {}},
    "techsupport": {"pairs": [
        ("Have you tried turning it off and on again?",
         "Twice. The light blinks orange and then nothing happens."),
        ("What does the error message say?", "It says the printer is offline, but it is right next to me."),
        ("Which version of the app are you running?",
         "Version {n} point two, I think. It updated last night."),
        ("Can you see the wifi network in the list?",
         "I can see it, but it will not connect with my password."),
        ("When did the problem start?", "This morning, right after the update finished."),
        ("Is the cable plugged in at both ends?", "Oh. It was not. Sorry, it works now."),
        ("Could you read me the serial number?", "It starts with K, then {n}, then a lot of zeros."),
    ], "slots": {}},
    "school": {"pairs": [
        ("How is {child} getting on with reading?",
         "Much better since Christmas. She reads to the class now."),
        ("When is the school trip to the {place}?",
         "The second week of June, if we get enough parent helpers."),
        ("How much does the trip cost per child?",
         "Twelve pounds, which covers the coach and the packed lunch."),
        ("Is the homework too much for them?", "Twenty minutes a night is what we aim for, no more."),
        ("Who is running the cake sale this term?", "{name2} volunteered, with the year four parents."),
        ("What can we do about the car park at pick-up time?",
         "We are asking families to park on the next street and walk."),
        ("Does {child} have any friends in the class?", "Two close ones. They are inseparable at lunch."),
    ], "slots": {"child": ["Mia", "Noah", "Isla", "Arlo", "Zara"],
                 "place": ["science museum", "zoo", "seaside", "castle", "farm"]}},
    "bakery": {"pairs": [
        ("When did you open the bakery?", "Eleven years ago, in the old shoe shop on the high street."),
        ("What time do you start in the morning?", "Four o'clock. The sourdough needs the most time."),
        ("Which bread sells best?", "The seeded rye, then the cinnamon buns on Saturdays."),
        ("Where did you learn to bake?", "From my grandmother, and then two years in a bakery in Lyon."),
        ("How much money did you put into the new oven?",
         "Nearly twenty thousand. It paid for itself in three years."),
        ("What happens to the bread you do not sell?",
         "It goes to the food bank down the road every evening."),
        ("Why did you stop making croissants?",
         "Too much butter, too little profit, and I hated laminating."),
    ], "slots": {}},
    "carrepair": {"pairs": [
        ("What is that grinding noise when I brake?",
         "Your pads are worn down to the metal. They need changing today."),
        ("How much will the new clutch cost?", "About four hundred with labour, give or take."),
        ("When can I pick the car up?", "Friday afternoon, after the part arrives."),
        ("Is it safe to drive with the warning light on?", "For a few miles, but come straight here."),
        ("Why does it pull to the left?", "The tracking is out. You probably clipped a kerb."),
        ("Do the tyres need replacing?", "The front two, yes. The back ones have another winter in them."),
        ("Can you look at the air conditioning too?", "Sure, it probably just needs regassing."),
    ], "slots": {}},
    "vet": {"pairs": [
        ("How long has {pet} been off his food?", "Since Sunday. He sniffs the bowl and walks away."),
        ("Is {pet} up to date with his jabs?", "I think so, the card is in the car."),
        ("Has he been drinking more than usual?", "Yes, he empties the bowl twice a day now."),
        ("Can he go for walks after the operation?",
         "Short ones on the lead for two weeks, then back to normal."),
        ("What should he eat while he recovers?", "Plain chicken and rice, little and often."),
        ("Why does he keep scratching his ear?", "There is a bit of infection in there. Drops twice a day."),
        ("How much should he weigh?", "About four kilos less than he does. Fewer treats."),
    ], "slots": {"pet": ["Biscuit", "Rufus", "Pepper", "Luna", "Bramble"]}},
    "bookclub": {"pairs": [
        ("Did everyone finish the book this month?", "All but {name2}, who says the middle was too slow."),
        ("What did you think of the ending?", "Too neat. Real families never make up that quickly."),
        ("Who picks the next book?", "It is {name2}'s turn, and she promised something short."),
        ("Was the narrator telling the truth?", "I do not think so. She hides the letter for half the book."),
        ("Where are we meeting next time?", "At mine, if nobody minds the builders."),
        ("Who was your favourite character?", "The grandmother. Every scene with her was funny."),
        ("Would you read another one by her?", "Yes, but I would start with the short stories."),
    ], "slots": {}},
    "wedding": {"pairs": [
        ("How many guests are coming?", "A hundred and ten, if the cousins all reply."),
        ("Have you chosen the cake yet?", "Lemon and elderflower, three tiers."),
        ("Where is the reception?", "In a barn outside the village, with a dance floor in the hayloft."),
        ("Who is giving the speech?", "{name2}, and we have begged him to keep it under ten minutes."),
        ("What if it rains?", "There is a marquee, and a lot of umbrellas."),
        ("What are you wearing?", "My mother's dress, taken in at the waist."),
        ("Is there a band or a playlist?",
         "A ceilidh band until ten, then a playlist nobody is allowed to touch."),
    ], "slots": {}},
    "choir": {"pairs": [
        ("Which piece are we singing at the concert?", "The Fauré, and two carols to finish."),
        ("Can the altos come in a bar earlier?", "Yes, and softer, please, it is a whisper, not a shout."),
        ("When is the dress rehearsal?", "The Friday before, at the church hall, seven sharp."),
        ("Do we need the folders on stage?", "Black folders only, held at chest height."),
        ("Why do the tenors keep rushing?", "They are nervous about the high note, so they run at it."),
        ("Should we breathe at the comma?",
         "No, carry the phrase through and breathe at the end of the line."),
        ("What do we wear for the concert?", "Black, with the red scarves we had last year."),
    ], "slots": {}},
}
# Who asks in each topic, and how the file calls them (a name, or a role label that recurs).
ASKERS = {"techsupport": "Support", "bakery": "Interviewer", "school": "Teacher"}
REACTIONS = ["Right.", "Fair enough.", "Oh, I see.", "Really?", "Go on.", "Okay, thanks.",
             "That makes sense.", "Brilliant.", "No way.", "Huh.", "Good to know."]


def _name(rng: random.Random) -> str:
    first = rng.choice(FIRST_NAMES)
    return f"{first} {rng.choice(SURNAMES)}" if rng.random() < 0.4 else first


def conversation(rng: random.Random, topic: str) -> list[tuple[str, str]]:
    """10 to 40 (speaker, text) turns on ``topic``: questions, answers and reactions."""
    spec = TOPICS[topic]
    people: list[str] = []
    wanted = rng.randint(2, 4)
    while len(people) < wanted:
        name = _name(rng)
        if name.split()[0] not in {p.split()[0] for p in people}:
            people.append(name)
    asker = ASKERS.get(topic, people[0])
    turns: list[tuple[str, str]] = []
    target = rng.randint(10, 40)
    # Drawn without replacement, so that nobody asks the same thing twice in one conversation.
    own, shared = rng.sample(spec["pairs"], len(spec["pairs"])), rng.sample(GENERIC, len(GENERIC))
    while len(turns) < target and (own or shared):
        generic = not own or (bool(shared) and rng.random() < 0.25)
        question, answer = (shared if generic else own).pop()
        who_asks = rng.choice(people) if generic and topic not in ASKERS else asker
        who_answers = rng.choice([p for p in people if p != who_asks])
        third = [p for p in people if p not in (who_asks, who_answers)] or [who_asks]
        slots = {key: rng.choice(values) for key, values in spec["slots"].items()}
        slots |= {"n": rng.randint(3, 45), "name2": rng.choice(third).split()[0]}
        turns.append((who_asks, question.format(**slots)))
        turns.append((who_answers, answer.format(**slots)))
        if rng.random() < 0.3:
            turns.append((who_asks, rng.choice(REACTIONS)))
    return turns[:target]


def _srt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, minutes, secs = millis // 3_600_000, millis // 60_000 % 60, millis // 1000 % 60
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis % 1000:03d}"


def render(turns: list[tuple[str, str]], fmt: str, rng: random.Random) -> str:
    """The turns as a labelled .txt, an .srt with ``Name:`` prefixes, or a .json of turns."""
    if fmt == "txt":
        return "".join(f"{who}: {text}\n" for who, text in turns)
    clock, cues = rng.uniform(0, 600), []
    for who, text in turns:
        length = 1.0 + len(text) / 15
        cues.append((round(clock, 3), round(clock + length, 3), who, text))
        clock += length + rng.uniform(0.2, 2.0)
    if fmt == "srt":
        return "".join(f"{n}\n{_srt_time(a)} --> {_srt_time(b)}\n{who}: {text}\n\n"
                       for n, (a, b, who, text) in enumerate(cues, 1))
    return json.dumps({"turns": [{"speaker": who, "text": text, "start": a, "end": b}
                                 for a, b, who, text in cues]}, indent=1, ensure_ascii=False)


def unrelated_transcripts(count: int = ADDED, seed: int = SEED) -> dict[str, str]:
    """``count`` everyday conversations, file name -> text, the same for the same seed."""
    rng = random.Random(seed)
    topics = sorted(TOPICS)
    files = {}
    for n in range(count):
        topic = topics[n % len(topics)] if n < len(topics) else rng.choice(topics)
        fmt = ("txt", "srt", "json")[n % 3]
        files[f"{n:03d}-{topic}.{fmt}"] = render(conversation(rng, topic), fmt, rng)
    return files


def top_answers(bot: QaBot) -> list[tuple[str | None, int | None, int | None, bool]]:
    """(transcript, start, end, no_answer) of each question's top answer, over all transcripts."""
    out = []
    for question in QUESTIONS:
        result = bot.ask(question, transcript=None)  # every transcript, the added ones too
        top = result.top
        out.append((top.transcript if top else None, top.start if top else None,
                    top.end if top else None, result.no_answer))
    return out


def test_the_generator_is_seeded_varied_and_off_the_interviews_subject():
    files = unrelated_transcripts()
    assert files == unrelated_transcripts()
    assert len(files) == ADDED
    assert {Path(name).suffix for name in files} == {".txt", ".srt", ".json"}
    assert {name.split("-", 1)[1].rsplit(".", 1)[0] for name in files} == set(TOPICS)
    for name, text in files.items():
        assert not OFF_LIMITS.search(text), (name, OFF_LIMITS.search(text))
    generic = {q for q, _ in GENERIC}
    assert sum(any(q in text for q in generic) for text in files.values()) > ADDED // 2


@pytest.mark.integration
@pytest.mark.xfail(strict=True, reason=(
    "issue 10, not met yet: scores no longer depend on the corpus, but 5 of 40 interview questions "
    "whose best interview passage is weak (relevance 0.20-0.31, at the no-answer threshold) find a "
    "generic line elsewhere that scores higher; strict, so the fix shows as an unexpected pass"))
def test_unrelated_transcripts_change_no_interview_answer(real_embedder, tmp_path):
    started = time.perf_counter()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for source in (INTERVIEW, CORPUS / f"{INTERVIEW.name}.meta.json"):
        shutil.copy2(source, corpus / source.name)
    index_dir = tmp_path / "index"
    bot = qa_bot.load(corpus, index_dir, embedder=real_embedder)
    assert list(bot.transcripts) == [INTERVIEW.name]
    before = top_answers(bot)

    added = unrelated_transcripts()
    write_corpus(corpus, added)
    bot = QaBot.open(corpus, index_dir, embedder=real_embedder)
    assert not bot.errors, bot.errors
    assert len(bot.transcripts) == 1 + ADDED
    # Each added file parsed into its named speakers' 10 to 40 turns, none of them narration.
    for name in added:
        turns = bot.transcripts[name].turns
        assert 10 <= len(turns) <= 40 and all(t.speaker for t in turns), name
        assert len(bot.speakers(name)) >= 2, name
    after = top_answers(bot)

    moved = [(q, b, a) for q, b, a in zip(QUESTIONS, before, after, strict=True) if b != a]
    from_added = [q for q, a in zip(QUESTIONS, after, strict=True) if a[0] in added]
    report = "\n".join([f"{len(moved)} of {len(QUESTIONS)} top answers moved, {len(from_added)} to an "
                        f"added transcript ({time.perf_counter() - started:.1f} s):",
                        *(f"  {q}: {b} -> {a}" for q, b, a in moved)])
    print(report)
    assert not from_added, report
    assert not moved, report
