"""``dataclass`` and ``field`` as the standard library's, made for a fast start; ``StrEnum`` for their names.

The standard library's ``@dataclass`` compiles six or so small functions per class when the class
is made (~0.4 ms each class here, and ``import dataclasses`` brings ``inspect``): with some fifty
records that was a fifth of ``unitdoctor why``'s run on a small root. This one compiles a
record's ``__init__``, and apart its ``__eq__`` and ``__hash__`` (the same code a dataclass has, so
records are as fast to make and compare), once they have run ``HOT`` times; until then they are
interpreted from the fields: a class a run does not use, or uses a few times, costs almost
nothing. ``__repr__`` and the frozen ``__setattr__`` are shared by all records.

What it keeps from the standard library's, for the subset the engine uses: fields in annotation
order, defaults, ``field(default=, default_factory=, init=, compare=, repr=)``, ``frozen=True``
(assigning raises ``FrozenInstanceError``, an ``AttributeError``), ``__eq__`` between records of the
same class only (``eq=False``: identity), ``__hash__`` of the compared fields for a frozen record (a
mutable one is unhashable), methods the class defines itself win, and ``replace``. Not supported (a
``TypeError`` says so): ``order``, ``slots``, ``kw_only``, ``ClassVar``/``InitVar`` fields,
inheriting fields from another record. (Tests compare it with the standard library's.)

Type checkers see the standard library's ``dataclasses`` (the same semantics for what is supported).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any


class StrEnum(str, enum.Enum):
    """An enum of names as they are written (``"rolled-back"``): ``str()`` and ``format()`` of a member give its
    value, as for a plain string (Python 3.11 gives ``Class.MEMBER`` for a ``str`` mixin, and its
    ``enum.StrEnum`` is above our 3.9 floor). Engine records hold these; renderers print them as they are."""

    def __str__(self) -> str:
        return str(self.value)


#: How many times a class's ``__init__`` (and, apart, its ``__eq__``/``__hash__``) runs interpreted
#: before it is compiled: compiling one (~0.1 ms) costs about as much as the ~0.5 µs an interpreted call
#: loses, 200 times; most records of a small run are made a few times only.
HOT = 200

if TYPE_CHECKING:
    from dataclasses import FrozenInstanceError as FrozenInstanceError
    from dataclasses import dataclass as dataclass
    from dataclasses import field as field
    from dataclasses import replace as replace
else:
    __all__ = ["HOT", "dataclass", "field", "replace", "FrozenInstanceError"]

    class FrozenInstanceError(AttributeError):
        """Assigning to a field of a frozen record."""

    class _Missing:
        __slots__ = ()

        def __repr__(self) -> str:
            return "MISSING"

    MISSING = _Missing()

    class Field:
        __slots__ = ("name", "default", "default_factory", "init", "compare", "repr")

        def __init__(self, default: Any, default_factory: Any, init: bool, compare: bool, repr: bool) -> None:
            self.name = ""
            self.default = default
            self.default_factory = default_factory
            self.init = init
            self.compare = compare
            self.repr = repr

    def field(*, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True, compare: bool = True,
              repr: bool = True) -> Any:
        """A field with options, as ``dataclasses.field`` (only these five)."""
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        return Field(default, default_factory, init, compare, repr)

    def _repr(self: Any) -> str:
        cls = type(self)
        return f"{cls.__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in cls.__record_repr__)})"

    def _frozen_setattr(self: Any, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def _frozen_delattr(self: Any, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _compile(cls: Any, src: list[str], env: dict[str, Any]) -> None:
        """Define the functions of ``src`` (made from the class's own field names) on ``cls``."""
        ns: dict[str, Any] = {}
        exec("\n".join(src) + "\n", env, ns)
        for name, fn in ns.items():
            fn.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, fn)

    def _compile_init(cls: Any) -> None:
        """Compile the ``__init__`` a dataclass has."""
        env: dict[str, Any] = {"_set": object.__setattr__, "_FACTORY": MISSING}
        params, body = [], []
        for f in cls.__record_fields__:
            value = f.name
            if f.default_factory is not MISSING:
                env[f"_factory_{f.name}"] = f.default_factory
                if f.init:
                    params.append(f"{f.name}=_FACTORY")
                    value = f"_factory_{f.name}() if {f.name} is _FACTORY else {f.name}"
                else:
                    value = f"_factory_{f.name}()"
            elif f.default is not MISSING:
                env[f"_default_{f.name}"] = f.default
                if f.init:
                    params.append(f"{f.name}=_default_{f.name}")
                else:
                    value = f"_default_{f.name}"
            elif f.init:
                params.append(f.name)
            else:
                continue  # init=False without a default: not set by __init__, as a dataclass's
            body.append(f"_set(self, {f.name!r}, {value})" if cls.__record_frozen__ else f"self.{f.name} = {value}")
        _compile(cls, [f"def __init__(self, {', '.join(params)}):", *(f"    {x}" for x in body or ["pass"])], env)

    def _compile_eq(cls: Any) -> None:
        """Compile the ``__eq__`` and ``__hash__`` a dataclass has (those the class has from here)."""
        compared = [f.name for f in cls.__record_fields__ if f.compare]

        def key(obj: str) -> str:  # the tuple a dataclass compares and hashes: (obj.a,obj.b,)
            return "(" + "".join(f"{obj}.{n}," for n in compared) + ")"

        src = []
        if cls.__record_eq__:
            src += ["def __eq__(self, other):", "    if other.__class__ is self.__class__:",
                    f"        return {key('self')} == {key('other')}", "    return NotImplemented"]
        if cls.__record_hash__:
            src += ["def __hash__(self):", f"    return hash({key('self')})"]
        _compile(cls, src, {})

    _inits: dict[type, int] = {}
    _compares: dict[type, int] = {}

    def _init(self: Any, *args: Any, **kwargs: Any) -> None:
        """A record's ``__init__``, interpreted from its fields until the class is hot (then compiled)."""
        cls = type(self)
        n = _inits.get(cls, 0) + 1
        if n > HOT:
            _compile_init(cls)
            cls.__init__(self, *args, **kwargs)
            return
        _inits[cls] = n
        where = f"{cls.__qualname__}.__init__()"
        put = object.__setattr__ if cls.__record_frozen__ else setattr
        i = 0
        for f in cls.__record_fields__:
            name = f.name
            if not f.init:
                if f.default_factory is not MISSING:
                    put(self, name, f.default_factory())
                elif f.default is not MISSING:
                    put(self, name, f.default)
                continue
            if i < len(args):
                if name in kwargs:
                    raise TypeError(f"{where} got multiple values for argument {name!r}")
                value = args[i]
                i += 1
            elif name in kwargs:
                value = kwargs.pop(name)
            elif f.default is not MISSING:
                value = f.default
            elif f.default_factory is not MISSING:
                value = f.default_factory()
            else:
                raise TypeError(f"{where} missing 1 required positional argument: {name!r}")
            put(self, name, value)
        if i < len(args):
            raise TypeError(f"{where} takes {i + 1} positional arguments but {len(args) + 1} were given")
        if kwargs:
            raise TypeError(f"{where} got an unexpected keyword argument {next(iter(kwargs))!r}")

    def _key(self: Any) -> tuple[Any, ...]:
        """The tuple a dataclass compares and hashes."""
        return tuple([getattr(self, f.name) for f in self.__record_fields__ if f.compare])

    def _hot(cls: type) -> bool:
        n = _compares.get(cls, 0) + 1
        _compares[cls] = n
        if n > HOT:
            _compile_eq(cls)
        return n > HOT

    # __eq__ and __hash__, interpreted until the class is hot
    def _eq(self: Any, other: Any) -> Any:
        if _hot(type(self)):
            return self.__eq__(other)
        return _key(self) == _key(other) if other.__class__ is self.__class__ else NotImplemented

    def _hash(self: Any) -> int:
        if _hot(type(self)):
            return hash(self)
        return hash(_key(self))

    def _process(cls: Any, frozen: bool, eq: bool) -> Any:
        for base in cls.__mro__[1:]:
            if "__record_fields__" in base.__dict__:
                raise TypeError(f"{cls.__name__}: inheriting fields from a record is not supported")
        fields: list[Field] = []
        defaulted = False
        for name, ann in cls.__dict__.get("__annotations__", {}).items():
            if isinstance(ann, str) and ann.startswith(("ClassVar", "InitVar", "typing.ClassVar", "dataclasses.")):
                raise TypeError(f"{cls.__name__}.{name}: ClassVar and InitVar fields are not supported")
            value = cls.__dict__.get(name, MISSING)
            if isinstance(value, Field):
                f = value
                if f.default is MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, f.default)
            else:
                f = Field(value, MISSING, True, True, True)
            if f.default is not MISSING and f.default.__class__.__hash__ is None:
                raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: "
                                 "use default_factory")
            if not f.init:
                pass
            elif f.default is MISSING and f.default_factory is MISSING:
                if defaulted:
                    raise TypeError(f"non-default argument {name!r} follows default argument")
            else:
                defaulted = True
            f.name = name
            fields.append(f)
        own = cls.__dict__
        own_hash = own.get("__hash__", MISSING)
        explicit_hash = not (own_hash is MISSING or (own_hash is None and "__eq__" in own))
        cls.__record_fields__ = tuple(fields)
        cls.__record_repr__ = tuple(f.name for f in fields if f.repr)
        cls.__record_frozen__ = frozen
        cls.__record_eq__ = eq and "__eq__" not in own
        # as a dataclass: eq=True and frozen → the hash of the compared fields; eq=True and mutable →
        # unhashable; eq=False → object's (identity)
        cls.__record_hash__ = eq and frozen and not explicit_hash
        cls.__init__ = _init
        if "__repr__" not in own:
            cls.__repr__ = _repr
        if cls.__record_eq__:
            cls.__eq__ = _eq
        if eq and not explicit_hash:
            cls.__hash__ = _hash if frozen else None
        if frozen:
            if "__setattr__" in own or "__delattr__" in own:
                raise TypeError(f"{cls.__name__}: a frozen record cannot define __setattr__ or __delattr__")
            cls.__setattr__ = _frozen_setattr
            cls.__delattr__ = _frozen_delattr
        return cls

    def dataclass(cls: Any = None, *, frozen: bool = False, eq: bool = True) -> Any:
        """``@dataclass``, ``@dataclass(frozen=True, eq=False)``: see the module docstring."""
        if cls is None:
            return lambda c: _process(c, frozen, eq)
        return _process(cls, frozen, eq)

    def replace(obj: Any, **changes: Any) -> Any:
        """A copy of record ``obj`` with ``changes``, as ``dataclasses.replace``."""
        for f in obj.__record_fields__:
            if f.init and f.name not in changes:
                changes[f.name] = getattr(obj, f.name)
        return obj.__class__(**changes)
