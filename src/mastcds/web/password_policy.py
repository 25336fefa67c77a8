"""Which passwords are refused besides too short or too long ones: the ones guessed first.

NIST SP 800-63B (rev. 3, §5.1.1.2, "Memorized Secret Verifiers") asks a verifier
to refuse passwords found in breach corpuses, dictionary words, repetitive or
sequential characters ("aaaaaa", "1234abcd") and context-specific words (the
service's name, the user name and derivatives), and to impose no composition
rules. A password is refused here when, ignoring case and spaces, it is made
only of such parts, give or take a few other characters ("Password2024!",
"qwertyuiopasdfgh", "carolcarolcarol1", fifteen spaces, fifteen 'x').
"""

from __future__ import annotations

from functools import cache
from importlib import resources

SERVICE_WORDS = ("mastcds", "mastocytosis", "mastcell")
# Keyboard rows and the usual walks across them, the alphabet and the digits: any run of
# three or more along one (either way) is a sequence, not a secret.
WALKS = (
    "abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "azertyuiop",
    "yxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp", "1q2w3e4r5t6y7u8i9o0p",
    "!@#$%^&*()", "qwertyuiopasdfghjklzxcvbnm",
)
MIN_PART = 3
OTHER_CHARACTERS_ALLOWED = 4
"""A password of common parts plus at most this many other characters ("1!", "2024") is still refused."""


def _normal(text: str) -> str:
    return "".join(text.casefold().split())


@cache
def common_words() -> frozenset[str]:
    text = resources.files("mastcds.web").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(_normal(line) for line in text.splitlines() if line.strip() and not line.startswith("#"))


@cache
def _sequences() -> frozenset[str]:
    runs = set()
    for walk in WALKS:
        for line in (walk, walk[::-1]):
            runs |= {line[i:j] for i in range(len(line)) for j in range(i + MIN_PART, len(line) + 1)}
    return frozenset(runs)


REPEATED_UNIT_MAX = 4
"""A piece that repeats a unit of up to this many characters ("aa", "abab", "1231 23") is repetitive."""


def _repeated(piece: str) -> bool:
    return any(
        len(piece) >= 2 * size and len(piece) % size == 0 and piece == piece[:size] * (len(piece) // size)
        for size in range(1, REPEATED_UNIT_MAX + 1)
    )


def _is_part(piece: str, context: frozenset[str]) -> bool:
    return piece in common_words() or piece in context or piece in _sequences() or _repeated(piece)


def weak_password(password: str, username: str = "") -> bool:
    """Whether ``password`` is made of common passwords, sequences, repeated characters, the user name or the service's name."""
    text = _normal(password)
    context = frozenset(word for word in (*SERVICE_WORDS, _normal(username)) if len(word) >= MIN_PART)
    longest = max(len(word) for word in common_words() | context | {"x" * 64})
    # fewest other characters needed to cover text[:i] with parts (dynamic programming)
    others = [0] + [len(text) + 1] * len(text)
    for end in range(1, len(text) + 1):
        others[end] = others[end - 1] + 1
        for start in range(max(0, end - longest), end - 1):
            if others[start] < others[end] and _is_part(text[start:end], context):
                others[end] = others[start]
    return others[len(text)] <= OTHER_CHARACTERS_ALLOWED
