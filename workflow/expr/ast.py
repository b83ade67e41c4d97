"""The expression tree the parser builds and the evaluator compiles. Every node knows its source offset."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Node:
    pos: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: object


@dataclass(frozen=True, slots=True)
class Ident(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Pointer(Node):
    """`#` (the current element of a predicate), `#index`, `#acc`."""

    name: str


@dataclass(frozen=True, slots=True)
class Member(Node):
    """`obj.name`, `obj?.name` and `obj[expr]`; `prop` is a Literal for the dotted forms."""

    obj: Node
    prop: Node
    optional: bool = False
    dotted: bool = False


@dataclass(frozen=True, slots=True)
class Slice(Node):
    obj: Node
    lo: Node | None
    hi: Node | None


@dataclass(frozen=True, slots=True)
class Chain(Node):
    """The extent of an optional chain: a nil met by `?.` inside makes the whole chain nil."""

    node: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A call of a function value: an environment function, `sprig.x(...)`, or a method of a value."""

    callee: Node
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Builtin(Node):
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Predicate(Node):
    body: Node


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    cond: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Array(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLit(Node):
    pairs: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Let(Node):
    name: str
    value: Node
    body: Node


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes, for walks that collect names."""
    if isinstance(node, Member):
        return (node.obj, node.prop)
    if isinstance(node, Slice):
        return tuple(n for n in (node.obj, node.lo, node.hi) if n is not None)
    if isinstance(node, (Chain, Predicate)):
        return (node.node,) if isinstance(node, Chain) else (node.body,)
    if isinstance(node, Call):
        return (node.callee, *node.args)
    if isinstance(node, (Builtin, Array)):
        return node.args if isinstance(node, Builtin) else node.items
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Conditional):
        return (node.cond, node.then, node.otherwise)
    if isinstance(node, MapLit):
        return tuple(n for pair in node.pairs for n in pair)
    if isinstance(node, Let):
        return (node.value, node.body)
    return ()
