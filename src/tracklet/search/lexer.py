"""A hand-written tokenizer for MLflow's SQL-like search syntax (MLflow uses sqlparse; we do not).

Tokens carry their position, so every error can point at the offending text. Inside a dotted
identifier (``tags.mlflow.runName``, ``metrics.`f1 score```) the part after a dot may start with
a digit and may be back-quoted or double-quoted; elsewhere ``.5`` is a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


class T(Enum):
    WORD = "word"  # a bare name or keyword
    QUOTED = "quoted"  # '...' (always a string value)
    DQUOTED = "dquoted"  # "..." (a string value, or a quoted identifier part)
    BACKTICKED = "backticked"  # `...` (an identifier part)
    NUMBER = "number"
    OP = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    DOT = "."
    END = "end of input"


@dataclass(frozen=True, slots=True)
class Token:
    type: T
    text: str  # as written
    value: str  # quotes removed and escapes resolved; keywords upper-cased
    pos: int

    @property
    def end(self) -> int:
        return self.pos + len(self.text)

    def describe(self) -> str:
        """The token as an error message shows it: quoted tokens as written, others quoted."""
        if self.type is T.END:
            return "end of input"
        if self.type in (T.QUOTED, T.DQUOTED, T.BACKTICKED):
            return self.text
        return f"'{self.text}'"


KEYWORDS = frozenset(
    {"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "RLIKE", "ASC", "DESC"}
)

_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_WORD = re.compile(r"[^\W\d]\w*")
_KEY_PART = re.compile(r"\w+")
_OPERATOR = re.compile(r"!=|<=|>=|<>|==|[=<>]")
_PUNCTUATION = {"(": T.LPAREN, ")": T.RPAREN, ",": T.COMMA}
_QUOTES = {"'": T.QUOTED, '"': T.DQUOTED, "`": T.BACKTICKED}


class LexError(MlflowException):
    def __init__(self, message: str) -> None:
        super().__init__(message, INVALID_PARAMETER_VALUE)


def _quoted(text: str, start: int) -> tuple[str, str]:
    """The quoted token at ``start``: (raw text, value). A doubled quote stands for the quote
    character, as in SQL; a backslash is an ordinary character (``'C:\\data'``)."""
    quote = text[start]
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        end = text.find(quote, i)
        if end < 0:
            break
        chars.append(text[i:end])
        if end + 1 < len(text) and text[end + 1] == quote:
            chars.append(quote)
            i = end + 2
        else:
            return text[start : end + 1], "".join(chars)
    raise LexError(f"unterminated quote {quote} starting at position {start}")


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an END token.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for unterminated quotes and characters that
            belong to no token, naming the position.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        space = _SPACE.match(text, i)
        if space:
            i = space.end()
            continue
        c = text[i]
        after_dot = bool(tokens) and tokens[-1].type is T.DOT and tokens[-1].end == i
        if c in _QUOTES:
            raw, value = _quoted(text, i)
            tokens.append(Token(_QUOTES[c], raw, value, i))
            i += len(raw)
            continue
        if after_dot:
            part = _KEY_PART.match(text, i)
            if part:
                tokens.append(Token(T.WORD, part.group(), part.group(), i))
                i = part.end()
                continue
        if c == "." and tokens and tokens[-1].end == i and tokens[-1].type in _PATH_PARTS:
            tokens.append(Token(T.DOT, c, c, i))
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number:
            tokens.append(Token(T.NUMBER, number.group(), number.group(), i))
            i = number.end()
            continue
        word = _WORD.match(text, i)
        if word:
            raw = word.group()
            upper = raw.upper()
            tokens.append(Token(T.WORD, raw, upper if upper in KEYWORDS else raw, i))
            i = word.end()
            continue
        operator = _OPERATOR.match(text, i)
        if operator:
            tokens.append(Token(T.OP, operator.group(), operator.group(), i))
            i = operator.end()
            continue
        if c in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[c], c, c, i))
            i += 1
            continue
        if c == ";":
            raise LexError(
                f"unexpected ';' at position {i}: a filter is one expression, comparisons joined "
                "by AND"
            )
        raise LexError(f"unexpected character {c!r} at position {i}")
    tokens.append(Token(T.END, "", "", n))
    return tokens


_PATH_PARTS = frozenset({T.WORD, T.BACKTICKED, T.DQUOTED})
