"""Boolean subject rules: parse, evaluate and format `(农商行 | 农信社) & (挤兑 | 取不出) & !招聘`.

Grammar (hand-written recursive descent, `!` binds tighter than `&`, `&` tighter than `|`)::

    expr  := and ('|' and)*
    and   := unary ('&' unary)*
    unary := '!' unary | '(' expr ')' | near | term
    near  := 'near' '(' term ',' term ',' INT ')'
    term  := a run of characters other than whitespace and &|!(),"  |  "a quoted string"

Full-width （ ） ＆ ｜ ！ ， are accepted as the operators they look like. Inside double quotes
anything goes; `\\"` is a quote and `\\\\` a backslash. Terms are stored in match form
(`to_match_text`), so a rule written in traditional script or full-width letters matches the same
items as its simplified twin.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from yuqing.domain.text import to_match_text
from yuqing.errors import RuleSyntaxError

MAX_RULE_LENGTH = 2000
MAX_DEPTH = 50


@dataclass(frozen=True, slots=True)
class Term:
    """A word that must occur; `text` is in match form."""

    text: str


@dataclass(frozen=True, slots=True)
class Not:
    """Holds when `node` does not."""

    node: Node


@dataclass(frozen=True, slots=True)
class And:
    """Holds when every one of two or more `nodes` holds."""

    nodes: tuple[Node, ...]

    def __post_init__(self) -> None:
        if len(self.nodes) < 2:
            raise ValueError("And needs at least two operands")


@dataclass(frozen=True, slots=True)
class Or:
    """Holds when at least one of two or more `nodes` holds."""

    nodes: tuple[Node, ...]

    def __post_init__(self) -> None:
        if len(self.nodes) < 2:
            raise ValueError("Or needs at least two operands")


@dataclass(frozen=True, slots=True)
class Near:
    """Holds when terms `a` and `b` start at most `distance` characters apart.

    When `a == b` two different occurrences are needed: `near(挤兑, 挤兑, 30)` means "mentioned
    twice within 30 characters", not simply "mentioned".
    """

    a: str
    b: str
    distance: int

    def __post_init__(self) -> None:
        if self.distance < 1:
            raise ValueError("Near distance must be a positive integer")


Node: TypeAlias = Term | Not | And | Or | Near

# Operator characters as typed (ASCII and full-width) → the token kind they stand for.
_OPERATORS = {
    "&": "&",
    "＆": "&",
    "|": "|",
    "｜": "|",
    "!": "!",
    "！": "!",
    "(": "(",
    "（": "(",
    ")": ")",
    "）": ")",
    ",": ",",
    "，": ",",
}
_TERM_BREAKS = frozenset(_OPERATORS) | {'"'}
_OPERAND_START = frozenset({"term", "near", "!", "("})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "term", "near", one of & | ! ( ) , or "end"
    pos: int
    raw: str  # as written, for messages
    text: str = ""  # a term in match form
    quoted: bool = False


def _tokenize(rule: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(rule)
    while i < n:
        ch = rule[i]
        if ch.isspace():
            i += 1
        elif ch in _OPERATORS:
            tokens.append(_Token(_OPERATORS[ch], i, ch))
            i += 1
        elif ch == '"':
            i = _read_quoted(rule, i, tokens)
        else:
            j = i
            while j < n and not rule[j].isspace() and rule[j] not in _TERM_BREAKS:
                j += 1
            raw = rule[i:j]
            if _is_near_keyword(rule, raw, j):
                tokens.append(_Token("near", i, raw))
            else:
                tokens.append(_Token("term", i, raw, to_match_text(raw)))
            i = j
    tokens.append(_Token("end", n, ""))
    return tokens


def _read_quoted(rule: str, start: int, tokens: list[_Token]) -> int:
    """Append the quoted term opening at `start`; return the index after its closing quote."""
    chars: list[str] = []
    j, n = start + 1, len(rule)
    while j < n:
        ch = rule[j]
        if ch == "\\" and j + 1 < n and rule[j + 1] in '"\\':
            chars.append(rule[j + 1])
            j += 2
        elif ch == '"':
            text = to_match_text("".join(chars))
            if not text.strip():
                raise RuleSyntaxError(rule, start, "引号中的词语为空")
            tokens.append(_Token("term", start, rule[start : j + 1], text, quoted=True))
            return j + 1
        else:
            chars.append(ch)
            j += 1
    raise RuleSyntaxError(rule, start, '引号未闭合，缺少右引号 "')


def _is_near_keyword(rule: str, raw: str, end: int) -> bool:
    """`near` (any case or width) is the operator only when an opening parenthesis follows."""
    if unicodedata.normalize("NFKC", raw).casefold() != "near":
        return False
    rest = rule[end:].lstrip()
    return rest[:1] in ("(", "（")


class _Parser:
    def __init__(self, rule: str, tokens: list[_Token]) -> None:
        self.rule = rule
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def error(self, pos: int, reason: str) -> RuleSyntaxError:
        return RuleSyntaxError(self.rule, pos, reason)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def require_operand_after(self, op: _Token) -> None:
        if self.peek().kind not in _OPERAND_START:
            raise self.error(op.pos, f"运算符 {op.kind} 后缺少词语")

    def unexpected(self, token: _Token) -> RuleSyntaxError:
        if token.kind == "end":
            return self.error(token.pos, "规则不完整")
        return self.error(token.pos, f"未预期的字符 '{token.raw}'")

    def expr(self) -> Node:
        nodes = [self.conjunction()]
        while self.peek().kind == "|":
            self.require_operand_after(self.advance())
            nodes.append(self.conjunction())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def conjunction(self) -> Node:
        nodes = [self.unary()]
        while True:
            token = self.peek()
            if token.kind == "&":
                self.require_operand_after(self.advance())
                nodes.append(self.unary())
            elif token.kind in _OPERAND_START:
                raise self.error(
                    token.pos,
                    f"「{token.raw}」前缺少运算符：词语之间请用 & （并且）或 | （或者）连接",
                )
            else:
                return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "term":
            self.advance()
            return Term(token.text)
        if token.kind == "near":
            return self.near()
        if token.kind in ("!", "("):
            self.enter(token)
            try:
                return self.negation() if token.kind == "!" else self.group()
            finally:
                self.depth -= 1
        if token.kind in ("&", "|"):
            raise self.error(token.pos, f"运算符 {token.kind} 前缺少词语")
        raise self.unexpected(token)

    def enter(self, token: _Token) -> None:
        # Each level costs a few Python frames; the limit keeps us far from RecursionError.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(token.pos, f"括号或 ! 嵌套超过 {MAX_DEPTH} 层")

    def negation(self) -> Node:
        bang = self.advance()
        self.require_operand_after(bang)
        return Not(self.unary())

    def group(self) -> Node:
        opening = self.advance()
        following = self.peek()
        if following.kind == ")":
            raise self.error(opening.pos, "括号中缺少词语")
        if following.kind == "end":
            raise self.error(opening.pos, "缺少右括号")
        node = self.expr()
        closing = self.peek()
        if closing.kind == ")":
            self.advance()
            return node
        if closing.kind == "end":
            raise self.error(opening.pos, "缺少右括号")
        raise self.unexpected(closing)

    def near(self) -> Node:
        self.advance()
        opening = self.advance()  # the tokenizer saw it follow `near`
        a = self.near_term("第一个词语")
        self.near_comma()
        b = self.near_term("第二个词语")
        self.near_comma()
        distance = self.peek()
        value = distance.text
        if distance.kind != "term" or distance.quoted or not (value.isascii() and value.isdigit()):
            raise self.error(distance.pos, "near() 的距离必须是正整数")
        if int(value) < 1:
            raise self.error(distance.pos, "near() 的距离必须是正整数")
        self.advance()
        closing = self.peek()
        if closing.kind == "end":
            raise self.error(opening.pos, "缺少右括号")
        if closing.kind != ")":
            raise self.error(
                closing.pos, "near() 只接受两个词语和一个距离，如 near(银行, 挤兑, 20)"
            )
        self.advance()
        return Near(a, b, int(value))

    def near_term(self, which: str) -> str:
        token = self.peek()
        if token.kind != "term":
            raise self.error(
                token.pos,
                f"near() 缺少{which}：写法是 near(词语, 词语, 距离)，如 near(银行, 挤兑, 20)",
            )
        self.advance()
        return token.text

    def near_comma(self) -> None:
        token = self.peek()
        if token.kind != ",":
            raise self.error(token.pos, "near() 的参数之间缺少逗号：写法是 near(词语, 词语, 距离)")
        self.advance()


def parse_rule(text: str) -> Node:
    """Parse a subject rule into its syntax tree; raise RuleSyntaxError saying where and why."""
    if len(text) > MAX_RULE_LENGTH:
        raise RuleSyntaxError(text, MAX_RULE_LENGTH, f"规则超过 {MAX_RULE_LENGTH} 个字符")
    tokens = _tokenize(text)
    if tokens[0].kind == "end":
        raise RuleSyntaxError(text, 0, "空规则")
    parser = _Parser(text, tokens)
    node = parser.expr()
    rest = parser.peek()
    if rest.kind != "end":
        raise parser.unexpected(rest)
    return node


def terms(node: Node) -> set[str]:
    """Every term of the rule, `near()` operands included."""
    found: set[str] = set()
    _collect(node, found, positive_only=False)
    return found


def positive_terms(node: Node) -> set[str]:
    """Terms not under any `!`: the words worth highlighting when the rule matches."""
    found: set[str] = set()
    _collect(node, found, positive_only=True)
    return found


def requirements(node: Node) -> list[frozenset[str]]:
    """Clauses of terms the rule needs: it holds only if each clause has a term that occurs.

    `(农商行 | 农信社) & 挤兑 & !招聘` needs `{农商行, 农信社}` and `{挤兑}`. A matcher looks a
    rule up by one clause and skips evaluating it while another clause is unmet. An empty list
    promises nothing: the rule may hold with none of its terms (`!招聘`), or need them in a
    way this analysis does not see (`!(!a | !b)`).
    """
    if isinstance(node, Term):
        return [frozenset((node.text,))]
    if isinstance(node, Near):
        return [frozenset((node.a,)), frozenset((node.b,))]
    if isinstance(node, Not):
        return requirements(node.node.node) if isinstance(node.node, Not) else []
    if isinstance(node, And):
        return [clause for child in node.nodes for clause in requirements(child)]
    # An Or holds only if one of its operands does: any one clause of each operand, together.
    union: set[str] = set()
    for child in node.nodes:
        clauses = requirements(child)
        if not clauses:
            return []
        smallest: frozenset[str] = min(clauses, key=len)
        union.update(smallest)
    return [frozenset(union)]


def _collect(node: Node, found: set[str], *, positive_only: bool) -> None:
    if isinstance(node, Term):
        found.add(node.text)
    elif isinstance(node, Near):
        found.update((node.a, node.b))
    elif isinstance(node, Not):
        if not positive_only:
            _collect(node.node, found, positive_only=False)
    else:
        for child in node.nodes:
            _collect(child, found, positive_only=positive_only)


def evaluate(node: Node, positions: Mapping[str, Sequence[int]]) -> bool:
    """Whether the rule holds, given the sorted start offsets of each term that occurs.

    Terms missing from `positions` (or mapped to an empty sequence) do not occur.
    """
    if isinstance(node, Term):
        return bool(positions.get(node.text))
    if isinstance(node, Not):
        return not evaluate(node.node, positions)
    if isinstance(node, And):
        return all(evaluate(child, positions) for child in node.nodes)
    if isinstance(node, Or):
        return any(evaluate(child, positions) for child in node.nodes)
    return _near(positions.get(node.a, ()), positions.get(node.b, ()), node)


def _near(xs: Sequence[int], ys: Sequence[int], node: Near) -> bool:
    if not xs or not ys:
        return False
    n = node.distance
    if node.a == node.b:
        return any(ys[k + 1] - ys[k] <= n for k in range(len(ys) - 1))
    if len(xs) > len(ys):
        xs, ys = ys, xs
    for x in xs:
        i = bisect_left(ys, x - n)
        if i < len(ys) and ys[i] <= x + n:
            return True
    return False


def format_rule(node: Node) -> str:
    """Canonical text of a rule; `parse_rule(format_rule(node)) == node`."""
    if isinstance(node, Term):
        return _quote(node.text)
    if isinstance(node, Near):
        return f"near({_quote(node.a)}, {_quote(node.b)}, {node.distance})"
    if isinstance(node, Not):
        return "!" + _wrap(node.node, (And, Or))
    if isinstance(node, And):
        return " & ".join(_wrap(child, (And, Or)) for child in node.nodes)
    return " | ".join(_wrap(child, (Or,)) for child in node.nodes)


def _wrap(node: Node, needs_parentheses: tuple[type, ...]) -> str:
    text = format_rule(node)
    return f"({text})" if isinstance(node, needs_parentheses) else text


def _quote(text: str) -> str:
    plain = (
        text
        and not any(ch.isspace() or ch in _TERM_BREAKS for ch in text)
        and unicodedata.normalize("NFKC", text).casefold() != "near"
    )
    if plain:
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
