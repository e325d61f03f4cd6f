"""Labelled training sentences for the seed stage model, generated from templates.

Every template is a sentence with ``{a|b|c}`` alternatives; ``generate``
expands them with a seeded random generator, so the same seed always gives
the same corpus. Stage phrasing is deliberately non-explicit and written
independently of the platform simulator's phrase lists, so that detection
measured on simulated traffic is not a test of memorised sentences.

Benign texts include the hard cases the detectors must not confuse with
grooming: teenagers chatting, coaches, teachers and tutors, relatives,
gamers and adults flirting with adults, plus near misses for each stage
("how old is your dog", "send me a pic of your worksheet", "don't tell mum
about the surprise party").
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import Final

_ALTERNATIVES: Final = re.compile(r"\{([^{}]*)\}")

STAGE_TEMPLATES: Final[dict[str, tuple[str, ...]]] = {
    "age_probe": (
        "{how old|what age} {are you|r u|are u|ru}{| again| btw| exactly| now}{?|}",
        "{what grade|which grade|what year|which year} {are you in|r u in|you in}{| at school"
        "| now}",
        "{are you|r u|u} {still|} in {middle school|high school|junior high|year 8|year 9"
        "|7th grade}",
        "{when is|whens} {your|ur} birthday{, how old will you be|, how old are you turning|}",
        "{asl|age?|ur age?|age pls|what's your age|whats ur age}",
        "{are you|r u} {over|under|older than|younger than} {13|14|16|18}{?|}",
        "{so|} {you're|ur|you are} {like|about|} {12|13|14|15}{ right| then|?|}",
        "{what year|which year} {were you|was u} born{?|}",
        "{mind if i ask|can i ask|is it ok to ask} how old {you are|u are}",
        "{how old|what age} {were you|will you be} {on your birthday|next year|this summer}",
        "{you|u} {look|sound|seem} {young|pretty young}, how old {are you|r u}",
        "{are you|r u} {old enough|allowed} to {have a phone|be on here|stay up late}",
    ),
    "flattery": (
        "{you're|ur|you are} {so|really|way|super} {mature|grown up|smart|wise} for {your|ur} age",
        "{you|u} {seem|act|sound|talk} {way|so much|much} older than {you are|ur age"
        "|kids your age}",
        "{you're|ur} not like {other|the other} {kids|girls|boys} {your age|at your school|ur age}",
        "{you're|ur|you are} {special|different|one of a kind}{, i can tell| to me| honestly|}",
        "{nobody|no one} {your age|ur age} {gets|understands} {things|stuff|me} like you do",
        "{you're|ur} {wise|smart|clever|talented} beyond {your|ur} years",
        "{honestly|tbh|} {you're|ur} {more mature|smarter} than {most adults|people my age"
        "|my friends}",
        "{you|u} {could|could easily} pass for {18|older|an adult}{, seriously| honestly|}",
        "{you're|ur} {so|really} {pretty|cute|beautiful}{, you know that|, i mean it|}",
        "{i|i really} {love|like} how {mature|grown up|deep} {you are|u are|our talks are}",
        "{you're|ur} {way|so much} {cooler|more interesting} than {other|most} kids",
        "{i've|ive} never met {anyone|someone} {your age|ur age} {as|so} {mature|smart"
        "|easy to talk to}",
    ),
    "gifts": (
        "{i'll|ill|i will|let me} {send|buy|get} {you|u} {a gift card|some robux|vbucks|a new skin|"
        "the battle pass|a new phone|headphones|some credits|gems}",
        "{want|do you want|wanna} {me to|} {buy|get} {you|u} {something|a present|a new game|"
        "that skin|some gems}{?|}",
        "{i can|i could} {top up|pay for|cover} {your|ur} {phone|account|subscription"
        "|game pass|data}",
        "{i got|i bought|i've got|ive got} {you|u} {a surprise|a present|something special|"
        "a little gift}",
        "{tell me|just tell me} what {you want|u want} {for your birthday|and it's yours|"
        "i'll get it}{, my treat|}",
        "{check|look at} {your|ur} {inbox|account|wallet}, {i sent|sent} {you|u} {some money|"
        "a little something|credits|coins}",
        "{i'll|ill} {pay|cover|pay for it} {no problem|don't worry about money|it's on me}",
        "{i can|i'll} {send|give} {you|u} {money|cash|$20|50 bucks} {if you want|whenever|for it}",
        "{need|want} {money|cash|robux|vbucks}{? i can help|? just ask me|}",
    ),
    "secrecy": (
        "{don't|dont|do not} tell {your|ur} {parents|mom|mum|dad|family|sister|brother} {about us|"
        "we talk|about this|that we chat|about me}",
        "{this|it|what we talk about} {stays|is} {between us|our secret|just between you and me}",
        "{delete|clear|erase} {our|the|these} {messages|chat|convo|texts} {after|when you're done|"
        "ok|tonight}",
        "{keep|let's keep|lets keep} {this|us|our chats|it} {secret|private|a secret|quiet|"
        "to ourselves}",
        "{are your|r ur|is your} {parents|mom|dad|mum} {home|around|watching|"
        "checking your phone}{?|}",
        "{nobody|no one} {needs to|has to|should} know {about this|we talk|about us}",
        "{your|ur} {parents|mom|dad} {wouldn't|would not|won't} understand{, so don't mention me|"
        " us| this|}",
        "{make sure|be sure} {to|} {hide|lock|delete} {your|ur|the} {phone|chats|app}",
        "{if anyone asks|if they ask}, {you|u} {don't know me|never talked to me|"
        "were talking to a friend}",
        "{don't|dont} {mention|say} {me|anything} to {anyone|your teacher|your parents}",
    ),
    "isolation": (
        "{your|ur} friends {don't|dont} {get|understand} {you|u} like {i do|me}",
        "{i'm|im|i am} the only one who {really|truly|} {understands|gets|cares about} {you|u}",
        "{your|ur} {parents|family|mom|dad} {don't|dont|never} {listen to|care about|understand} "
        "{you|u}",
        "{you|u} {don't|dont} need {them|those friends|anyone else}{, you have me| anymore|}",
        "{they're|theyre|they are} just jealous of {you|us|what we have}",
        "{only|just} {talk to|trust} me{, not them| about this| from now on|}",
        "{your|ur} {friends|sister|teachers} {are|r} {holding you back|so immature|fake|"
        "bad for you}",
        "{nobody|no one} {else|} {cares|will ever care} about {you|u} {like i do|the way i do}",
        "{why do you|why do u} {even|} {hang out with|talk to} them{, they don't deserve you|?}",
        "{you|u} can {always|only} {count on|rely on} me{, not them| not your family|}",
    ),
    "platform_move": (
        "{add|text|message|hit} me {up|} on {snap|snapchat|insta|instagram|whatsapp|telegram|kik|"
        "discord|signal}{, it's more private| so we can talk properly| instead|}",
        "{what's|whats|wats} {your|ur} {snap|insta|number|whatsapp|discord|telegram}{?|}",
        "{let's|lets} {move|go|talk} {to|on} {snap|whatsapp|telegram|another app|a private app}"
        "{, this app is watched|, more private|}",
        "{download|get|install} {telegram|kik|signal|wickr} {so we can|and we'll} {chat|talk} "
        "{there|privately|in private}",
        "{give me|send me} {your|ur} {number|phone number|snap|username on there}",
        "{this app|this chat|here} {is|gets} {monitored|watched|checked|read by mods}"
        "{, let's go elsewhere|, add me somewhere else|}",
        "{we can|we could} {talk|chat} {more|better|freely} on {snap|whatsapp|telegram"
        "|another app}",
    ),
    "photo_request": (
        "{send|show} me a {pic|picture|photo|selfie} of {you|urself|yourself}"
        "{ now| pls| please|}",
        "{can|could} i see {a pic of you|what you look like|a selfie of you|a photo of you}",
        "{take|snap} a {selfie|pic|photo} {for me|and send it|right now}",
        "{what do you look like|wat do u look like}{, send a pic|? show me|}",
        "{turn on|switch on} {your|ur} {camera|cam|video}{ so i can see you|}",
        "{show|send} me {your|ur} outfit {today|tonight|right now}",
        "{one|just one} more {pic|photo|selfie} {please|pls|of you}",
        "{send|post} {a|another} {pic|photo|selfie} {just for me|only for me}",
        "{i|i'd} {wanna|want to|like to} see {you|ur face|how you look} {now|tonight|}"
        "{, send one|, pic?|}",
    ),
    "meeting_request": (
        "{we should|let's|lets} {meet up|meet|hang out} {sometime|irl|this weekend|soon|in person}",
        "{i can|i could} {pick you up|come get you|drive to your town|visit you}"
        "{ after school| on saturday|}",
        "{when|where} can we meet{ up|}{?|}",
        "{i'll|ill} {be|come} {near|to} {your|ur} {school|town|area} {on saturday|this weekend|"
        "on friday}{, wanna meet|}",
        "{wanna|want to|do you want to} meet {me|} {at the mall|at the park|after school|irl}{?|}",
        "{tell me|what's|whats} {your|ur} {address|school name|home address}{ so i can visit|"
        ", i'll come by|}",
        "{just|} come alone{, don't bring anyone| ok|}",
        "{i'll|ill} {buy|get} {you|u} {a bus ticket|an uber|a train ticket} to {come see me"
        "|meet me}",
        "{can you|could you} {sneak out|get out} {tonight|this weekend|after dinner} to meet{ me|}",
    ),
}

BENIGN_TEMPLATES: Final[tuple[str, ...]] = (
    # teenagers among themselves
    "{lol|lmao|haha} {that's|thats} {so|} {funny|dumb|weird|cringe}",
    "{did|did u|have you} {finish|do} the {math|science|history} {homework|hw|project}{?|}",
    "{omg|bro|bruh} {that|this} {song|video|game} {slaps|is fire|is so good}",
    "{wyd|what are u doing|hbu|sup}{?|}",
    "{my|} {mom|mum|dad} {said|says} i {can't|cant} {go out|play|game} {tonight|till 9|this week}",
    "{how old|what age} is {your|ur} {dog|cat|brother|sister|phone|laptop}{?|}",
    "{the|this} {teacher|sub|test} {is|was} so {annoying|boring|hard}",
    "{who|anyone} {is going|going} to {the game|prom|the concert} {friday|saturday}{?|}",
    "{she|he} {literally|actually} {said that|left me on read|posted it}",
    "{can't|cant} wait for {summer|the weekend|winter break}",
    # coaches
    "{practice|training} {is moved|moved|is} to {5|6pm|thursday|the gym}{ today| this week|}",
    "{great|awesome|nice} {hustle|game|effort} today {team|everyone|guys}{!|}",
    "{remember|don't forget} {your|} {shin guards|water bottle|permission slip|kit}",
    "{you|u} {played|did} {really|so} well today, keep {working on|practicing} {your|ur} "
    "{passing|serve|footwork|free throws}",
    "{bus|the bus} leaves at {7|8|9} {sharp|am|from school}",
    "{parents|families}, please {sign|return} the {form|permission slip} by {friday|monday}",
    "{proud of|so proud of} {you all|the whole team|everyone} for {today|that comeback}",
    # teachers and tutors
    "{send|upload} {me|} {a pic|a photo|a picture} of {your|ur} {worksheet|homework|answers|notes}",
    "{your|ur} essay {was|is} {great|really good|much better}{, well done|, nice work|}",
    "{we'll|let's} {go over|review} {chapter|unit} {3|4|5} {next session|tomorrow|on tuesday}",
    "{don't forget|remember} the {quiz|test|lesson} on {monday|friday|wednesday}",
    "{you're|ur} {making|showing} {great|real} progress {in math|with fractions|in reading}",
    "{try|do} {questions|problems} {1 to 10|on page 42|from the sheet} {before next time|tonight}",
    "{the|our} {session|lesson} {is|will be} {online|at the library} {this week|on thursday}",
    # relatives
    "{happy birthday|hbd} {sweetie|kiddo|buddy}{, love grandma|, from uncle joe|!|}",
    "{tell|say hi to} {your|ur} {mom|dad|parents} {i said hi|we miss them}",
    "{we're|we are} {coming|visiting} for {thanksgiving|christmas|the holidays}",
    "{did|did you} {get|like} the {card|package|letter} {we|i} sent{?|}",
    "{your|ur} {mom|mum} {says|told me} {you|u} {got|made} the team{, so proud|, congrats|}",
    "{don't|dont} tell {mom|dad} about the surprise party{!|, it's saturday|}",
    "{grandma|grandpa} {wants|would love} to {hear|see} {how school is going|"
    "your recital video}",
    "{dinner|lunch} at {grandma's|auntie's} on {sunday|saturday}{, your dad is driving|}",
    # gamers
    "{gg|good game} {wp|well played|}",
    "{need|we need} a {healer|tank|support} for the {raid|dungeon|next match}",
    "{join|hop in} {the|my} {lobby|party|squad} {in 5|now|after this round}",
    "{nice|sick|insane} {clutch|play|shot}{!|}",
    "{friend me|add me} {in game|on the leaderboard} {for the tournament|after the match}",
    "{whats|what's} {your|ur} {rank|main|loadout}{?|}",
    "{lag|ping} {is|was} {terrible|so bad} {tonight|in that match}",
    # adults flirting with adults
    "{you look|u look} {amazing|great|stunning} {tonight|in that photo|today}",
    "{drinks|dinner|coffee} {friday|this weekend|tomorrow}{? my treat|?|}",
    "{miss you|missed you} {babe|already|so much}",
    "{can't|cant} stop thinking about {our date|last night|you}",
    "{wine|cocktails} after work{?|, the usual place?}",
    # everyday
    "{thanks|thank you|thx} {so much|a lot|}",
    "{see you|see u|cya} {tomorrow|later|at school|at work}",
    "{ok|okay|k|sure|sounds good}",
    "{it's|its} {so|really} {cold|hot|rainy} {today|out}",
    "{what's|whats} for {dinner|lunch}{?|}",
    "{did you|did u} see the {match|game|news|new episode} {last night|yesterday}",
    "{i'm|im} {so|really} {tired|hungry|bored} {lol|today|rn}",
)

_PREFIXES: Final = ("", "", "", "hey ", "so ", "btw ", "lol ", "ok ", "hi ", "hmm ")
_SUFFIXES: Final = ("", "", "", " :)", " lol", " ok?", "!!", " haha", " xx", " ;)")
_LEET: Final = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def expand(template: str, rng: random.Random) -> str:
    """One sentence from a template, each ``{a|b}`` replaced by a random choice."""
    return _ALTERNATIVES.sub(lambda m: rng.choice(m.group(1).split("|")), template)


def _disguise(text: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return "".join(_LEET.get(ch, ch) if rng.random() < 0.5 else ch for ch in text)
    if roll < 0.12:
        words = text.split()
        index = rng.randrange(len(words))
        words[index] = " ".join(words[index])
        return " ".join(words)
    if roll < 0.18:
        return text.upper()
    if roll < 0.24:
        vowels = [i for i, ch in enumerate(text) if ch in "aeiouy"]
        if vowels:
            i = rng.choice(vowels)
            return text[:i] + text[i] * rng.randint(3, 6) + text[i + 1 :]
    return text


def _dress(text: str, rng: random.Random) -> str:
    return _disguise(rng.choice(_PREFIXES) + text + rng.choice(_SUFFIXES), rng)


def generate(seed: int = 1, per_stage: int = 1200, benign: int = 7000,
             mixed: int = 600) -> Iterator[tuple[str, frozenset[str]]]:
    """Yield ``(text, stages)`` pairs; an empty set marks a benign text.

    ``mixed`` two-sentence messages join a stage sentence to a benign one or
    two stage sentences, so the model sees stages inside ordinary chatter.
    """
    rng = random.Random(seed)
    stages = sorted(STAGE_TEMPLATES)
    for stage in stages:
        templates = STAGE_TEMPLATES[stage]
        for _ in range(per_stage):
            yield _dress(expand(rng.choice(templates), rng), rng), frozenset((stage,))
    for _ in range(benign):
        yield _dress(expand(rng.choice(BENIGN_TEMPLATES), rng), rng), frozenset()
    for _ in range(mixed):
        first = rng.choice(stages)
        text = expand(rng.choice(STAGE_TEMPLATES[first]), rng)
        if rng.random() < 0.5:
            other = expand(rng.choice(BENIGN_TEMPLATES), rng)
            labels = frozenset((first,))
        else:
            second = rng.choice(stages)
            other = expand(rng.choice(STAGE_TEMPLATES[second]), rng)
            labels = frozenset((first, second))
        pair = (text, other) if rng.random() < 0.5 else (other, text)
        yield _dress(". ".join(pair), rng), labels
