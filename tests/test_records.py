"""unitdoctor.records behaves as the standard library's dataclasses for every shape the engine uses."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Callable, Optional

import pytest

from unitdoctor import records


def shapes(dataclass: Callable[..., Any], field: Callable[..., Any]) -> dict[str, type]:
    """The same classes, made by ``dataclass``/``field`` of one implementation."""

    @dataclass(frozen=True)
    class Plain:
        a: int
        b: str
        c: Optional[int] = None
        d: tuple[int, ...] = ()

    @dataclass(frozen=True)
    class One:
        a: str

    @dataclass(frozen=True)
    class Empty:
        pass

    @dataclass(frozen=True)
    class Options:
        a: int
        hidden: str = field(default="h", repr=False)
        ignored: str = field(default="i", compare=False)
        made: tuple[int, ...] = field(default_factory=tuple)
        later: dict[str, int] = field(default_factory=dict, init=False, compare=False)

    @dataclass
    class Mutable:
        a: int
        items: list[int] = field(default_factory=list)

    @dataclass(frozen=True, eq=False)
    class Identity:
        a: int
        b: dict[str, int] = field(default_factory=dict, repr=False)

    @dataclass(frozen=True)
    class Own:
        """Defines its own methods: they win."""

        a: int

        def __repr__(self) -> str:
            return f"<own {self.a}>"

        def __hash__(self) -> int:
            return 7

    Own.__qualname__ = Identity.__qualname__ = Mutable.__qualname__ = Options.__qualname__ = "X"
    Empty.__qualname__ = One.__qualname__ = Plain.__qualname__ = "X"
    return {"plain": Plain, "one": One, "empty": Empty, "options": Options, "mutable": Mutable,
            "identity": Identity, "own": Own}


OURS = shapes(records.dataclass, records.field)
THEIRS = shapes(dataclasses.dataclass, dataclasses.field)
ARGS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "plain": ((1, "x"), {"d": (2, 3)}), "one": (("u",), {}), "empty": ((), {}),
    "options": ((1,), {"ignored": "j", "made": (4,)}), "mutable": ((1,), {}), "identity": ((5,), {"b": {"k": 1}}),
    "own": ((3,), {}),
}


def pair(shape: str) -> tuple[Any, Any]:
    args, kw = ARGS[shape]
    return OURS[shape](*args, **copy.deepcopy(kw)), THEIRS[shape](*args, **copy.deepcopy(kw))


@pytest.mark.parametrize("shape", sorted(ARGS))
def test_same_as_dataclasses(shape: str) -> None:
    ours, theirs = pair(shape)
    assert repr(ours) == repr(theirs)
    assert vars(ours) == vars(theirs)
    again, again_theirs = pair(shape)
    assert (ours == again) == (theirs == again_theirs)
    assert (ours != again) == (theirs != again_theirs)
    assert ours != theirs and (ours == object()) is False
    hashable = type(theirs).__hash__ is not None
    assert (type(ours).__hash__ is not None) == hashable
    if hashable and type(theirs).__hash__ is not object.__hash__:
        assert hash(ours) == hash(theirs)
    if THEIRS[shape].__dataclass_params__.frozen and dataclasses.fields(theirs):  # type: ignore[attr-defined]
        name = dataclasses.fields(theirs)[0].name
        with pytest.raises(AttributeError):
            setattr(ours, name, 1)
        with pytest.raises(records.FrozenInstanceError):
            delattr(ours, name)


@pytest.mark.parametrize("shape", sorted(ARGS))
def test_interpreted_and_compiled_methods_agree(shape: str) -> None:
    """A class's methods run interpreted for its first ``HOT`` uses, compiled after: the same answers."""
    ours = shapes(records.dataclass, records.field)[shape]  # a fresh class: nothing compiled yet
    theirs = THEIRS[shape]
    args, kw = ARGS[shape]
    for _ in range(records.HOT + 3):
        a, b = ours(*args, **copy.deepcopy(kw)), theirs(*args, **copy.deepcopy(kw))
        assert repr(a) == repr(b) and vars(a) == vars(b)
        assert (a == ours(*args, **copy.deepcopy(kw))) == (b == theirs(*args, **copy.deepcopy(kw)))
        if theirs.__hash__ is not None and theirs.__hash__ is not object.__hash__:
            assert hash(a) == hash(b)
    assert "<string>" in ours.__init__.__code__.co_filename  # compiled by now


def test_bad_arguments_are_a_type_error_interpreted_or_compiled() -> None:
    plain = shapes(records.dataclass, records.field)["plain"]
    for _ in range(records.HOT + 3):
        for args, kw in (((), {}), ((1,), {}), ((1, "x"), {"a": 2}), ((1, "x", 3, (), 5), {}), ((1, "x"), {"z": 1})):
            with pytest.raises(TypeError):
                plain(*args, **kw)
        plain(1, "x")


def test_compare_false_fields_are_not_compared() -> None:
    a = OURS["options"](1, ignored="x")
    b = OURS["options"](1, ignored="y")
    assert a == b and hash(a) == hash(b)
    assert a != OURS["options"](2)


def test_mutable_record_is_assignable_and_unhashable() -> None:
    m = OURS["mutable"](1)
    m.a = 2
    assert m == OURS["mutable"](2)
    with pytest.raises(TypeError):
        hash(m)


def test_identity_record_equals_only_itself() -> None:
    a, b = OURS["identity"](1), OURS["identity"](1)
    assert a == a and a != b and len({a, b}) == 2


def test_factories_make_a_new_value_each_time() -> None:
    a, b = OURS["options"](1), OURS["options"](1)
    assert a.made == () and a.later == {} and a.later is not b.later
    m, n = OURS["mutable"](1), OURS["mutable"](1)
    assert m.items == [] and m.items is not n.items


def test_replace_as_dataclasses() -> None:
    ours, theirs = pair("options")
    assert repr(records.replace(ours, a=9, made=(1,))) == repr(dataclasses.replace(theirs, a=9, made=(1,)))
    assert repr(records.replace(ours)) == repr(ours)


def test_copies_and_pickles_compare_equal() -> None:
    p = OURS["plain"](1, "x")
    assert copy.copy(p) == p and copy.deepcopy(p) == p and hash(copy.copy(p)) == hash(p)
    # a class no instance has been made of yet, met first through an instance made without __init__
    fresh = shapes(records.dataclass, records.field)["plain"]
    made = object.__new__(fresh)
    for k, v in vars(p).items():
        object.__setattr__(made, k, v)
    twin = object.__new__(fresh)
    object.__setattr__(twin, "__dict__", dict(vars(p)))
    assert made == twin and hash(made) == hash(twin) == hash(p)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError):
        @records.dataclass
        class Shared:
            items: list[int] = []  # the mistake dataclasses refuses too

    with pytest.raises(TypeError):
        @records.dataclass
        class Order:
            a: int = 1
            b: int

    @records.dataclass(frozen=True)
    class Base:
        a: int

    with pytest.raises(TypeError):
        @records.dataclass(frozen=True)
        class Child(Base):
            b: int
