"""A parser for the FHIRPath subset that SQL on FHIR v2 view definitions use.

The view runner compiles these trees to SQL instead of interpreting them per resource, so that
DuckDB and Spark can flatten millions of resources at scan speed. Grammar and precedence follow
FHIRPath N1 (https://hl7.org/fhirpath/N1/grammar.html) restricted to what the SQL on FHIR v2
"minimal FHIRPath" profile requires (https://sql-on-fhir.org/ig/2.0.0/StructureDefinition-ViewDefinition.html).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class FhirPathError(ValueError):
    """A FHIRPath expression the runner cannot parse or does not support."""


@dataclass(frozen=True)
class Literal:
    value: object  # str, int, float or bool


@dataclass(frozen=True)
class Empty:
    """The empty collection literal ``{}``."""


@dataclass(frozen=True)
class This:
    """``$this``: the current focus inside where() and the context of a column."""


@dataclass(frozen=True)
class Constant:
    name: str  # %name (a view constant, or %rowIndex)


@dataclass(frozen=True)
class Member:
    focus: object | None  # None: the implicit context
    name: str


@dataclass(frozen=True)
class Call:
    focus: object | None
    name: str
    args: tuple


@dataclass(frozen=True)
class Index:
    focus: object
    index: object


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Negate:
    operand: object


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*')
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|[=<>+\-*/().\[\],])
    | (?P<special>[%$]`?[A-Za-z_][A-Za-z0-9_]*`?)
    | (?P<ident>`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)
    | (?P<brace>\{\s*\})
    )""",
    re.VERBOSE,
)
_ESCAPES = {"'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_PRECEDENCE = [("or", "xor"), ("and",), ("=", "!="), ("<", ">", "<=", ">="), ("+", "-", "&"), ("*", "/")]


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FhirPathError(f"unexpected character {text[pos:].strip()[:1]!r} at position {pos} in {text!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            found = "end of expression" if token is None else repr(token[1])
            raise FhirPathError(f"expected {value or 'a term'!r} but found {found} in {self.text!r}")
        self.pos += 1
        return token

    def at_operator(self, ops: tuple[str, ...]) -> bool:
        token = self.peek()
        return token is not None and token[0] in ("op", "ident") and token[1] in ops

    def binary(self, level: int):
        if level == len(_PRECEDENCE):
            return self.unary()
        node = self.binary(level + 1)
        while self.at_operator(_PRECEDENCE[level]):
            op = self.take()[1]
            node = Binary(op, node, self.binary(level + 1))
        return node

    def unary(self):
        if self.at_operator(("-",)):
            self.take()
            return Negate(self.unary())
        return self.postfix(self.term())

    def postfix(self, node):
        while True:
            token = self.peek()
            if token == ("op", "."):
                self.take()
                node = self.invocation(node)
            elif token == ("op", "["):
                self.take()
                index = self.binary(0)
                self.take("]")
                node = Index(node, index)
            else:
                return node

    def invocation(self, focus):
        kind, value = self.take()
        if kind != "ident":
            raise FhirPathError(f"expected a name after '.' but found {value!r} in {self.text!r}")
        name = value.strip("`")
        if self.peek() == ("op", "("):
            self.take()
            args = []
            if self.peek() != ("op", ")"):
                args.append(self.binary(0))
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.binary(0))
            self.take(")")
            return Call(focus, name, tuple(args))
        return Member(focus, name)

    def term(self):
        token = self.peek()
        if token is None:
            raise FhirPathError(f"expression ends too early: {self.text!r}")
        kind, value = token
        if kind == "string":
            self.take()
            return Literal(_unescape(value[1:-1]))
        if kind == "number":
            self.take()
            return Literal(float(value) if "." in value else int(value))
        if kind == "brace":
            self.take()
            return Empty()
        if kind == "special":
            self.take()
            if value == "$this":
                return This()
            if value.startswith("%"):
                return Constant(value[1:].strip("`"))
            raise FhirPathError(f"unsupported variable {value!r} in {self.text!r}")
        if value == "(":
            self.take()
            node = self.binary(0)
            self.take(")")
            return node
        if kind == "ident" and value in ("true", "false"):
            self.take()
            return Literal(value == "true")
        if kind == "ident":
            return self.invocation(None)
        raise FhirPathError(f"unexpected {value!r} in {self.text!r}")


def parse(text: str):
    """The syntax tree of ``text``; FhirPathError names the offending token."""
    if not isinstance(text, str) or not text.strip():
        raise FhirPathError(f"a FHIRPath expression must be a non-empty string, got {text!r}")
    parser = _Parser(text)
    node = parser.binary(0)
    if parser.peek() is not None:
        raise FhirPathError(f"unexpected {parser.peek()[1]!r} after a complete expression in {text!r}")
    return node
