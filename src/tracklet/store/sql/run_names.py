"""Random run names in MLflow's ``adjective-animal-NNN`` style."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "able", "agile", "amazing", "amusing", "aged", "bemused", "bold", "brave", "bright",
    "calm", "capable", "carefree", "casual", "caring", "clean", "clever", "colorful", "crisp",
    "dapper", "dashing", "delicate", "eager", "efficient", "fearless", "fun", "funny", "gentle",
    "glamorous", "gaudy", "grandiose", "handsome", "honorable", "industrious", "intrigued",
    "judicious", "kindly", "languid", "learned", "lyrical", "merciful", "mysterious", "nimble",
    "orderly", "overjoyed", "placid", "polite", "popular", "redolent", "resilient", "rogue",
    "rumbling", "secretive", "selective", "serious", "shivering", "silent", "skillful",
    "smiling", "stately", "sedate", "suave", "sincere", "spiffy", "stylish", "thoughtful",
    "tasteful", "traveling", "trusting", "unequaled", "upbeat", "valuable", "victorious",
    "vaunted", "welcoming", "wise", "worried", "youthful", "zealous",
)
_ANIMALS = (
    "ant", "ape", "asp", "auk", "bass", "bat", "bear", "bee", "bird", "boar", "bug", "calf",
    "carp", "cat", "chimp", "cod", "colt", "conch", "cow", "crab", "crane", "croc", "crow",
    "cub", "deer", "doe", "dog", "dolphin", "donkey", "dove", "duck", "eel", "elk", "fawn",
    "finch", "fish", "flea", "fly", "foal", "fowl", "fox", "frog", "gnat", "gnu", "goat",
    "goose", "grouse", "grub", "gull", "hare", "hawk", "hen", "hog", "horse", "hound", "jay",
    "kit", "kite", "koi", "lamb", "lark", "loon", "lynx", "mare", "midge", "mink", "mole",
    "moose", "moth", "mouse", "mule", "newt", "owl", "ox", "panda", "penguin", "perch", "pig",
    "pug", "quail", "ram", "rat", "ray", "robin", "roo", "rook", "seal", "shad", "shark",
    "sheep", "shoat", "shrew", "shrike", "shrimp", "skink", "skunk", "sloth", "slug", "smelt",
    "snail", "snake", "snipe", "sow", "sponge", "squid", "squirrel", "stag", "steed", "stoat",
    "stork", "swan", "tern", "toad", "trout", "turtle", "vole", "wasp", "whale", "wolf", "worm",
    "wren", "yak", "zebra",
)


def random_run_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_ANIMALS)}-{random.randint(0, 999)}"
