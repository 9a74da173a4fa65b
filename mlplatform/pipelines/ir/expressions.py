"""The subset of CEL that kfp.compiler writes, evaluated in Python.

Conditions (dsl.If/Elif/Else) arrive as triggerPolicy.condition, e.g.
    !(int(inputs.parameter_values['pipelinechannel--n']) > 2) && inputs.parameter_values['x'] == 'heads'
and loop-item fields as parameterExpressionSelector, e.g. parseJson(string_value)["a"].

Supported: literals (numbers, quoted strings, true, false, null, lists), names, indexing, field access,
the calls int, double, string, bool, parseJson, size, and the operators ! - * / % + < <= > >= == != && ||.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from mlplatform.pipelines.errors import InvalidInput

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<number>\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?|\.\d+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!()\[\].,])
)""",
    re.VERBOSE,
)

_FUNCTIONS: dict[str, Callable] = {
    "int": lambda v: int(float(v)) if isinstance(v, str) else int(v),
    "double": float,
    "string": lambda v: v if isinstance(v, str) else json.dumps(v),
    "bool": lambda v: v if isinstance(v, bool) else str(v).lower() == "true",
    "parseJson": lambda v: json.loads(v) if isinstance(v, str) else v,
    "size": len,
}
_BINARY = [  # lowest precedence first
    {"||": lambda a, b: bool(a) or bool(b)},
    {"&&": lambda a, b: bool(a) and bool(b)},
    {
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    },
    {"+": lambda a, b: a + b, "-": lambda a, b: a - b},
    {"*": lambda a, b: a * b, "/": lambda a, b: a / b, "%": lambda a, b: a % b},
]


def evaluate(expression: str, variables: dict[str, Any]) -> Any:
    """The value of `expression`; InvalidInput when it cannot be parsed or evaluated."""
    try:
        parser = _Parser(_tokens(expression))
        node = parser.parse()
        return node(variables)
    except InvalidInput:
        raise
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as error:
        raise InvalidInput(f"cannot evaluate {expression!r}: {type(error).__name__}: {error}") from None


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(expression):
        if expression[position:].strip() == "":
            break
        match = _TOKEN.match(expression, position)
        if not match:
            raise InvalidInput(f"cannot parse {expression!r} at {expression[position : position + 20]!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.position = 0

    def parse(self):
        node = self.binary(0)
        if self.position != len(self.tokens):
            raise InvalidInput(f"unexpected {self.peek()[1]!r} in expression")
        return node

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if value is not None and token[1] != value:
            raise InvalidInput(f"expected {value!r}, found {token[1] or 'the end'!r}")
        self.position += 1
        return token

    def binary(self, level: int):
        if level == len(_BINARY):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in _BINARY[level]:
            operator = _BINARY[level][self.take()[1]]
            right = self.binary(level + 1)
            node = (lambda op, a, b: lambda v: op(a(v), b(v)))(operator, node, right)
        return node

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            operand = self.unary()
            return lambda v: not operand(v)
        if self.peek() == ("op", "-"):
            self.take()
            operand = self.unary()
            return lambda v: -operand(v)
        return self.postfix()

    def postfix(self):
        node = self.primary()
        while True:
            kind, value = self.peek()
            if value == "[":
                self.take()
                index = self.binary(0)
                self.take("]")
                node = (lambda target, key: lambda v: target(v)[key(v)])(node, index)
            elif value == ".":
                self.take()
                field = self.take()[1]
                node = (lambda target, key: lambda v: target(v)[key])(node, field)
            else:
                return node

    def primary(self):
        kind, value = self.take()
        if kind == "number":
            number = float(value) if any(c in value for c in ".eE") else int(value)
            return lambda v: number
        if kind == "string":
            text = bytes(value[1:-1], "utf-8").decode("unicode_escape")
            return lambda v: text
        if kind == "name":
            return self.name(value)
        if value == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if value == "[":
            items = self.arguments("]")
            return lambda v: [item(v) for item in items]
        raise InvalidInput(f"unexpected {value or 'end of expression'!r}")

    def name(self, name: str):
        constants = {"true": True, "false": False, "null": None}
        if name in constants:
            return lambda v: constants[name]
        if self.peek() == ("op", "("):
            if name not in _FUNCTIONS:
                raise InvalidInput(f"unknown function {name}(); supported: {', '.join(_FUNCTIONS)}")
            self.take("(")
            arguments = self.arguments(")")
            function = _FUNCTIONS[name]
            return lambda v: function(*[argument(v) for argument in arguments])
        return lambda v: v[name]

    def arguments(self, closing: str) -> list:
        items = []
        while self.peek()[1] != closing:
            items.append(self.binary(0))
            if self.peek()[1] == ",":
                self.take()
        self.take(closing)
        return items
