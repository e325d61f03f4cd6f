"""Chat text templates: ordinary talk, hard-benign look-alikes and grooming-stage phrasing.

Grooming stages are represented only by non-explicit behaviour and phrasing
(asking age, flattery, gifts, secrecy, isolation, moving apps, asking for "a pic",
asking to meet). Nothing sexual is ever written here. Careful groomers draw only
from `CLEAN_TEXTS`, which hold no `STAGE_WORDS` entry.
"""

from __future__ import annotations

import random

GAMES = ("minecraft", "fortnite", "roblox", "rocket league", "valorant", "mario kart",
         "among us", "apex")
TIMES = ("4pm", "5pm", "5:30", "6pm", "6:30", "7pm")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SUBJECTS = ("algebra", "chemistry", "the essay", "reading", "geometry", "spanish", "history")
NAMES = ("sam", "alex", "jordan", "maya", "leo", "zoe", "eli", "nora", "omar", "lina")

# Stage names in the order overt groomers use them.
STAGES = ("age", "flattery", "gifts", "secrecy", "isolation", "move_app", "photo", "meeting")

TEXTS: dict[str, tuple[str, ...]] = {
    "child_chat": (
        "do you want to play {game} after school?", "I finished my drawing!!",
        "did you do the math worksheet?", "lol that was so funny", "my dog ate my sandwich",
        "are you going to the birthday party?", "I got to a new level in {game}",
        "see you at school tomorrow", "what did you get for number 5?",
        "my brother is so annoying", "can you come to the park saturday?",
    ),
    "teen_chat": (
        "did you finish {subject} homework?", "not gonna lie that test was so hard",
        "are you going to the game friday?", "did you see what happened at lunch",
        "wanna play {game} later?", "my mom is making me clean my room",
        "that song is stuck in my head", "what are you doing this weekend?",
        "I'm so tired of school", "lol same", "see you tomorrow", "the bus was late again",
        "to be honest I forgot about the quiz", "can you send me the notes from today?",
    ),
    "teen_night": (
        "are you still up?", "don't tell mom I'm still up", "can't sleep lol",
        "you're honestly the funniest person I know", "add me on snap",
        "your hair looked so good today", "this is just between us but I think {name} likes you",
        "we should hang out at the mall saturday", "send me a pic of your new shoes",
        "you're my best friend fr", "text me when you wake up", "ok going to sleep for real now",
        "I'm so tired but I don't want to sleep", "you're so pretty, did you cut your hair?",
    ),
    "school_group": (
        "what's the homework for {subject}?", "is the quiz tomorrow or friday?",
        "who has the notes from today?", "lol mr b was so funny today",
        "does anyone have a charger I can borrow tomorrow", "class starts late tomorrow right?",
    ),
    "gaming": (
        "gg", "anyone up for ranked?", "that last round was insane", "who's on tonight?",
        "I'm lagging so bad", "need one more for squad", "nice clutch",
        "new season drops {day}", "what's your rank now?", "one more game then I'm off",
    ),
    "gaming_discord": (
        "add me on discord: {handle}", "my discord is {handle}",
        "join the discord, link is in my profile", "we're in the discord voice channel",
    ),
    "public_chat": (
        "anyone know when the update comes out?", "lol", "hi everyone",
        "this server is so busy today", "does anyone have tips for level {n}?", "gg all",
        "the new map is great", "is the server down for anyone else?",
    ),
    "adult_chat": (
        "how was work today?", "are we still on for dinner {day}?",
        "did you watch the game last night?", "can you send me that recipe?",
        "traffic was awful this morning", "happy birthday!! hope it's a good one",
        "running late, be there in 10", "thanks for helping with the move",
        "the kids have a dentist appointment at {time}", "let me know when you land",
    ),
    "adult_group": (
        "who's bringing snacks saturday?", "the meeting moved to {time}",
        "reminder: rent is due friday", "photos from the weekend are in the shared album",
        "can someone cover my shift {day}?", "great job on the launch everyone",
    ),
    "family_to_minor": (
        "grandma says hi", "dinner at 6, don't be late", "did you finish your homework?",
        "love you, sleep well", "I'll pick you up from practice at {time}",
        "proud of you for that test!", "can you send me a pic of your report card?",
        "don't forget your jacket, it's cold", "auntie is coming over sunday",
        "call me when you get home", "this is just between us, it's a surprise for mom's birthday",
    ),
    "minor_to_family": (
        "ok", "love you too", "can I stay at {name}'s house?", "I'm home",
        "what's for dinner?", "can you pick me up at {time}?", "I got a B on the test!",
    ),
    "coach_group": (
        "practice moved to {time}", "bring your permission slip",
        "game {day} at 10am, be there by 9:30",
        "great effort today team", "remember water bottles and shin guards",
        "bus leaves at 7 sharp for the tournament", "practice is cancelled today because of rain",
        "uniforms will be handed out {day}",
    ),
    "coach_dm": (
        "can you make practice {day}?", "your mom said you'd be late, no problem",
        "nice work at the game today", "please bring the permission slip signed by a parent",
        "practice moved to {time}",
    ),
    "teacher_group": (
        "homework is due {day}", "remember the field trip form", "quiz on chapter 4 next week",
        "great presentations today everyone", "school pictures are on {day}",
        "office hours moved to {time}",
    ),
    "teacher_dm": (
        "you did well on the quiz", "please resubmit the essay by {day}",
        "can your parents sign the form?", "see me after class about the project",
    ),
    "tutor_dm": (
        "see you at {time} for {subject}", "nice work on the practice problems",
        "let's review chapter 3 today", "remember to bring your calculator",
        "great session today, keep it up", "can we move {day}'s session to {time}?",
        "here are the practice problems for next week",
    ),
    "student_reply": (
        "ok thank you", "will do", "ok I'll be there", "thanks!", "sorry I forgot", "got it",
    ),
    "flirt": (
        "you looked great tonight", "you're really cute, you know that?", "send a pic",
        "we should meet up for drinks {day}", "I can pick you up at 8",
        "had a really nice time with you", "can't stop thinking about our date",
        "add me on whatsapp, this app is so slow", "you have the best smile",
        "what are you up to tonight?",
    ),
    # Groomers' ordinary talk; none of it contains a STAGE_WORDS entry.
    "groomer_neutral": (
        "hey how was your day?", "what are you up to?", "you on later?", "haha that's funny",
        "what games do you like?", "how was school today?", "that sounds rough, I'm sorry",
        "you can always talk to me", "I'm bored, wanna chat?", "did you eat yet?",
        "what music are you into?", "what did you do this weekend?",
        "that level is hard, want help?",
        "lol same", "tell me more", "I get it, teachers can be annoying", "same here honestly",
    ),
    "groomer_night": (
        "you're up late", "can't sleep either?", "goodnight, talk tomorrow",
        "still awake?", "same, I never sleep lol", "what are you doing up?",
    ),
    "groomer_group": (
        "gg", "nice clutch", "who's on tonight?", "that last round was insane",
        "anyone need one more?", "good game everyone",
    ),
    "ring_chat": (
        "you around later?", "ok", "talk later", "busy today", "sounds good", "yeah",
    ),
    "victim_reply": (
        "lol", "ok", "idk", "haha", "yeah", "school was boring", "just gaming",
        "I have homework", "maybe", "nothing much", "gtg", "thanks", "I'm tired",
    ),
    "victim_deflect": (
        "idk...", "I don't think so", "I have to ask my mom", "maybe later", "I can't",
        "that's kind of weird",
    ),
    "stage_age": (
        "how old r u?", "what grade are you in?", "how old are you btw?",
        "are you in middle school?",
    ),
    "stage_flattery": (
        "you're so mature for your age", "you're really smart, not like other kids",
        "you seem way older than you are", "you're so talented, seriously",
    ),
    "stage_gifts": (
        "I can send you skins", "want a gift card?", "I'll buy you the battle pass",
        "I can get you robux if you want",
    ),
    "stage_secrecy": (
        "don't tell your parents we talk", "this is just between us",
        "keep this our secret ok?", "delete our chat after ok?",
    ),
    "stage_isolation": (
        "your friends don't get you like I do", "your parents just don't understand you",
        "I'm the only one who really listens to you",
    ),
    "stage_move_app": (
        "add me on snap, it's more private", "do you have whatsapp? it's more private",
        "let's talk on discord instead, it's more private", "download telegram so we can talk",
    ),
    "stage_photo": (
        "send me a pic of you", "can you send a selfie?", "send me a pic, I want to see you",
    ),
    "stage_meeting": (
        "we should meet up, I can pick you up", "where do you live? I could come see you",
        "let's meet at the mall saturday, just us",
    ),
}

# Words and phrases that mark a grooming stage; neutral topics never contain them.
STAGE_WORDS = (
    "how old", "your age", "what grade", "grade are you", "middle school", "mature",
    "older than", "not like other", "skins", "gift", "robux", "battle pass", "secret",
    "between us", "don't tell", "dont tell", "delete", "parents", "friends don't", "only one",
    "snap", "whatsapp", "discord", "telegram", "kik", "private", "pic", "selfie", "photo",
    "meet", "pick you up", "where do you live", "come see you", "just us",
)

# Each topic without the templates that contain a stage word: what careful groomers draw from.
CLEAN_TEXTS: dict[str, tuple[str, ...]] = {
    topic: tuple(t for t in texts if not any(word in t.lower() for word in STAGE_WORDS))
    for topic, texts in TEXTS.items()
}

REPORT_REASONS: dict[str, tuple[str, ...]] = {
    "by_victim": (
        "he keeps messaging me late at night", "made me uncomfortable",
        "asked me to keep secrets", "keeps asking where I live", "keeps asking for a pic",
    ),
    "by_stranger": ("random adult keeps adding me", "someone I don't know keeps messaging me"),
    "by_parent": ("an adult is messaging my child", "someone is contacting my kid a lot"),
    "benign": ("spam", "rude in chat", "annoying messages", "fake account", "being mean to me"),
}

MODERATION_NOTES: dict[str, tuple[str, ...]] = {
    "confirmed_grooming": ("pattern consistent with grooming", "reviewed conversation history"),
    "confirmed_other_harm": ("spam account", "harassment in public chat"),
    "cleared": ("no policy violation found", "reviewed conversation history"),
    "escalated": ("needs second review", "escalated to specialist team"),
}


def render(topic: str, rng: random.Random, clean: bool = False) -> str:
    """One template from `topic` with its slots filled; `clean` avoids every stage word."""
    choices = TEXTS[topic]
    if clean:
        choices = CLEAN_TEXTS[topic] or CLEAN_TEXTS["groomer_neutral"]
    text = rng.choice(choices)
    if "{" not in text:
        return text
    return text.format(
        game=rng.choice(GAMES), time=rng.choice(TIMES), day=rng.choice(DAYS),
        subject=rng.choice(SUBJECTS), name=rng.choice(NAMES), n=rng.randrange(2, 60),
        handle=f"{rng.choice(NAMES)}{rng.randrange(10, 999)}",
    )
