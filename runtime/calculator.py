"""Safe arithmetic for the ``calculator`` tool: a parsed expression, walked, never ``eval``.

Only numbers, ``+ - * / // % **``, unary ``+``/``-``, parentheses, the functions
``abs round min max sqrt`` and the constants ``pi`` and ``e`` are accepted. Sizes are
bounded so an expression cannot exhaust memory or time (``9**9**9`` is refused).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Final

from runtime.errors import ToolArgumentsError, ToolError

__all__ = ["MAX_EXPRESSION_LENGTH", "evaluate"]

MAX_EXPRESSION_LENGTH: Final = 500
_MAX_EXPONENT: Final = 10_000
_MAX_INT_BITS: Final = 4096

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def _sqrt(value: Number) -> Number:
    return math.sqrt(value)


def _round(value: Number, digits: Number = 0) -> Number:
    if isinstance(digits, float) and not digits.is_integer():
        raise ToolArgumentsError("calculator: round() takes a whole number of digits")
    return round(value, int(digits)) if digits else round(value)


_FUNCTIONS: dict[str, tuple[Callable[..., Number], int, int]] = {
    # name: (function, fewest arguments, most arguments)
    "abs": (abs, 1, 1),
    "round": (_round, 1, 2),
    "min": (min, 2, 32),
    "max": (max, 2, 32),
    "sqrt": (_sqrt, 1, 1),
}


def _check_size(value: Number) -> Number:
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        raise ToolArgumentsError(f"calculator: the result is larger than 2**{_MAX_INT_BITS}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolArgumentsError("calculator: the result is not a finite number")
    return value


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        if isinstance(node.value, bool):
            raise ToolArgumentsError("calculator: True and False are not numbers here")
        return _check_size(node.value)
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise ToolArgumentsError(f"calculator: exponents above {_MAX_EXPONENT} are refused")
        if (
            isinstance(node.op, ast.Pow)
            and isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and left.bit_length() * right > _MAX_INT_BITS
        ):
            raise ToolArgumentsError(f"calculator: the result is larger than 2**{_MAX_INT_BITS}")
        return _check_size(_BINARY[type(node.op)](left, right))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        function, fewest, most = _FUNCTIONS[node.func.id]
        if not fewest <= len(node.args) <= most:
            raise ToolArgumentsError(
                f"calculator: {node.func.id}() takes {fewest}"
                + (f" to {most}" if most != fewest else "")
                + " argument(s)"
            )
        return _check_size(function(*(_eval(arg) for arg in node.args)))
    if isinstance(node, ast.Name):
        raise ToolArgumentsError(f"calculator: unknown name {node.id!r}")
    raise ToolArgumentsError(
        f"calculator: {type(node).__name__} is not allowed; use numbers and + - * / // % **"
    )


def evaluate(expression: str) -> Number:
    """Evaluate an arithmetic expression.

    Args:
        expression: e.g. ``"(2 + 3) * 7"`` or ``"sqrt(2) * pi"``.

    Returns:
        The value: an ``int`` when every step stayed whole, else a ``float``.

    Raises:
        ToolArgumentsError: the expression is empty, too long, not valid arithmetic,
            uses anything outside the allowed set, or its result is too large.
        ToolError: the arithmetic itself failed (division by zero, sqrt of a negative).
    """
    text = expression.strip()
    if not text:
        raise ToolArgumentsError("calculator: the expression is empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ToolArgumentsError(
            f"calculator: the expression is longer than {MAX_EXPRESSION_LENGTH} characters"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ToolArgumentsError(f"calculator: not an arithmetic expression: {exc.msg}") from exc
    try:
        return _eval(tree)
    except ZeroDivisionError as exc:
        raise ToolError("calculator: division by zero") from exc
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:
        raise ToolError(f"calculator: {exc}") from exc
