"""Hypothesis strategies that generate unit-file roots, and ``materialize`` to build one on disk.

A root is generated as a *description*: a :class:`RootDesc` holding :class:`Node` records
``(path, kind, payload)`` with a root-relative ``path`` and ``kind`` one of

- ``"file"``: a regular file, ``payload`` its bytes (``b""`` is an empty file, i.e. a mask);
- ``"symlink"``: ``payload`` is the link text, exactly as written;
- ``"dir"``: an (empty) directory, ``payload`` None.

plus the scope and ``SYSTEMD_UNIT_PATH`` to look at it with. Unit names come from a small pool, so
that names collide across layers, links name existing and missing units, and aliases form chains and
loops. The shapes follow fact sheet §1-§3 (search path, masks, states):

    *"Per name, first dir wins."*  (§2.3)  -- every name can land in every layer.
    *"In each .wants/ and .requires/ subdir, only symlink names are compared; targets are never read,
    so dangling or wrong targets still count."*  (§3.3)  -- links with good, dangling and wrong targets.
    *"Reads the fragment plus NAME.d/*.conf and TEMPLATE.d/*.conf from every search dir."*  (§3.2)

Safety: ``materialize`` writes only below the given directory. The only symlinked *directories* are
relative (``lib`` → ``usr/lib``, a ``.wants`` dir → a sibling), so a tool that resolves paths with the
kernel (``systemctl --root`` does, for search and drop-in dirs) never leaves the root. Symlinks to files
may be absolute: systemctl resolves those inside the root. Preset files, which systemctl opens with
the kernel, are only ever symlinked to ``/dev/null``. No FIFOs: systemctl blocks opening one.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple, Optional, Union

from hypothesis import strategies as st

# -- pools --------------------------------------------------------------------------------------

#: Plain names: services, a socket sharing a prefix (cross-type aliases), a target, a mount, and two
#: that only sort right case-insensitively with "-" before "." (list-unit-files uses strcasecmp).
PLAIN = ("a.service", "b.service", "c.service", "a.socket", "d.target", "m.mount", "Z.service", "a-b.service")
#: Templates: two services, and a mount template (a type that cannot be templated: EINVAL).
TEMPLATES = ("t@.service", "u@.service", "tm@.mount")
#: Instances of the templates above, and one of a template that never exists.
INSTANCES = ("t@x.service", "t@y.service", "u@x.service", "tm@x.mount")
#: A valid unit name that directory loops skip (``hidden_or_backup_file``).
HIDDEN = (".h.service",)
#: Every name a node may carry.
UNIT_POOL = PLAIN + TEMPLATES + INSTANCES
#: Names only ever queried: missing units, an instance of an existing template, a bad-type template.
QUERY_ONLY = ("missing.service", "t@z.service", "u@zz.service", "none@x.service", "a.timer", "x@.socket",
              ".h.service")
#: What ``is-enabled`` is asked about for every generated root.
QUERY_NAMES = UNIT_POOL + QUERY_ONLY
#: Targets that [Install] and ``.wants``/``.requires`` dirs name.
TARGETS = ("multi-user.target", "d.target", "sockets.target", "g@.target", "g@x.target")

SYSTEM_DIRS = (
    "etc/systemd/system.control",
    "run/systemd/system.control",
    "run/systemd/transient",
    "run/systemd/generator.early",
    "etc/systemd/system",
    "etc/systemd/system.attached",
    "run/systemd/system",
    "run/systemd/system.attached",
    "run/systemd/generator",
    "usr/local/lib/systemd/system",
    "lib/systemd/system",
    "usr/lib/systemd/system",
    "run/systemd/generator.late",
)
#: The dirs most roots use; the others appear less often.
SYSTEM_COMMON = ("etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system", "run/systemd/system")
GLOBAL_DIRS = (
    "etc/systemd/user",
    "run/systemd/user",
    "usr/local/share/systemd/user",
    "usr/share/systemd/user",
    "usr/local/lib/systemd/user",
    "usr/lib/systemd/user",
)
GLOBAL_COMMON = ("etc/systemd/user", "usr/lib/systemd/user", "run/systemd/user")
#: Directories named only by SYSTEMD_UNIT_PATH.
CUSTOM_DIRS = ("srv/units", "srv/more")
#: Places outside every search path, for linked unit files.
OUTSIDE = ("opt", "opt/sub")


class Node(NamedTuple):
    """One thing in a root: ``path`` relative to the root, ``kind`` file/symlink/dir, ``payload``."""

    path: str
    kind: str
    payload: Union[bytes, str, None]


@dataclass(frozen=True)
class RootDesc:
    """A generated root: its nodes and how to look at it.

    ``scope`` is ``"system"`` or ``"global"``; ``unit_path`` the value of ``SYSTEMD_UNIT_PATH`` (None:
    unset); ``lib`` is ``"dir"`` (split /usr: ``lib/`` is a real directory) or ``"usrmerge"``
    (``lib`` → ``usr/lib``); ``dev_null`` puts an empty regular file at ``dev/null``.
    """

    nodes: tuple[Node, ...]
    scope: str = "system"
    unit_path: Optional[str] = None
    lib: str = "dir"
    dev_null: bool = False
    search_dirs: tuple[str, ...] = field(default=SYSTEM_COMMON, compare=False)

    @property
    def environ(self) -> dict[str, str]:
        return {} if self.unit_path is None else {"SYSTEMD_UNIT_PATH": self.unit_path}


# -- materialize ----------------------------------------------------------------------------------


def canonical(path: str, lib: str) -> str:
    """The path a node really lands on: with ``lib`` → ``usr/lib``, ``lib/x`` *is* ``usr/lib/x``."""
    if lib == "usrmerge" and (path == "lib" or path.startswith("lib/")):
        return "usr/" + path
    return path


def materialize(desc: Union[RootDesc, Iterable[Node]], root_path: Union[str, os.PathLike]) -> list[Node]:
    """Create the nodes of ``desc`` below ``root_path``; return the nodes actually created.

    The first node for a path wins. A node is skipped when one of its parents is not a plain
    directory (a file, or a symlink other than the layout's ``lib`` link): the kernel would follow the
    symlink and the tree would no longer be what the description says.
    """
    root = os.fspath(root_path)
    if isinstance(desc, RootDesc):
        nodes, lib, dev_null = list(desc.nodes), desc.lib, desc.dev_null
    else:
        nodes, lib, dev_null = list(desc), "dir", False
    os.makedirs(root, exist_ok=True)
    made: list[Node] = []
    if lib == "usrmerge":
        os.makedirs(os.path.join(root, "usr/lib"), exist_ok=True)
        os.symlink("usr/lib", os.path.join(root, "lib"))
    else:
        os.makedirs(os.path.join(root, "lib"), exist_ok=True)
    if dev_null:
        os.makedirs(os.path.join(root, "dev"), exist_ok=True)
        with open(os.path.join(root, "dev/null"), "wb"):
            pass
    seen: set[str] = set()
    for node in nodes:
        path = canonical(posixpath.normpath(node.path), lib)
        if path in seen or path.startswith(("..", "/")):
            continue
        if not _parents_are_dirs(root, path):
            continue
        full = os.path.join(root, path)
        if os.path.lexists(full):
            continue
        seen.add(path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if node.kind == "file":
            assert isinstance(node.payload, bytes)
            with open(full, "wb") as f:
                f.write(node.payload)
        elif node.kind == "symlink":
            assert isinstance(node.payload, str)
            os.symlink(node.payload, full)
        elif node.kind == "dir":
            os.makedirs(full, exist_ok=True)
        else:
            raise ValueError(f"unknown node kind {node.kind!r}")
        made.append(Node(path, node.kind, node.payload))
    return made


def _parents_are_dirs(root: str, path: str) -> bool:
    cur = root
    for comp in path.split("/")[:-1]:
        cur = os.path.join(cur, comp)
        if os.path.islink(cur):
            return False
        if os.path.lexists(cur) and not os.path.isdir(cur):
            return False
    return True


# -- [Install] contents -------------------------------------------------------------------------------

_words = st.sampled_from


@st.composite
def _value_list(draw: st.DrawFn, pool: tuple[str, ...]) -> str:
    """A list value: 0-2 words, sometimes quoted, with the odd specifier or unbalanced quote."""
    words = draw(st.lists(st.sampled_from(pool), max_size=2))
    style = draw(st.sampled_from(("plain", "plain", "plain", "quoted", "unbalanced", "spec")))
    if style == "quoted" and words:
        return " ".join(f'"{w}"' for w in words)
    if style == "unbalanced":
        return " ".join(words + ['"broken'])
    if style == "spec":
        return " ".join(words + [draw(st.sampled_from(("%p.target", "%n", "%i-x.target", '""')))])
    return " ".join(words)


@st.composite
def install_lines(draw: st.DrawFn) -> list[str]:
    """The lines of one [Install] section (without the header): any mix of the install keys."""
    keys = draw(st.lists(st.sampled_from((
        "WantedBy", "WantedBy", "RequiredBy", "Alias", "Alias", "Also", "DefaultInstance",
        "WantedBy-empty", "Unknown", "Missing-equals",
    )), max_size=4))
    lines = []
    for k in keys:
        if k in ("WantedBy", "RequiredBy"):
            lines.append(f"{k}={draw(_value_list(TARGETS))}")
        elif k == "WantedBy-empty":
            lines.append("WantedBy=")
        elif k == "Alias":
            lines.append(f"Alias={draw(_value_list(UNIT_POOL + ('al.service', 'al@.service')))}")
        elif k == "Also":
            also = draw(st.lists(st.sampled_from(UNIT_POOL * 3 + ("missing.service", "%p@x.service", "%n",
                                                                    "nosuffix", "bad\\")), max_size=2))
            lines.append("Also=" + " ".join(also))
        elif k == "DefaultInstance":
            lines.append("DefaultInstance=" + draw(st.sampled_from(("x", "y", "", "%i", "bad/inst"))))
        elif k == "Unknown":
            lines.append("Frobnicate=yes")
        else:
            lines.append("WantedBy")
    return lines


@st.composite
def unit_contents(draw: st.DrawFn) -> bytes:
    """Non-empty unit file bytes: optional [Unit]/[Service], an [Install] section, and syntax oddities."""
    parts: list[bytes] = []
    if draw(st.booleans()):
        parts.append(b"[Unit]\nDescription=generated unit\n")
    if draw(st.booleans()):
        parts.append(b"[Service]\nExecStart=/bin/true\n")
    install = draw(st.sampled_from(("full", "full", "full", "empty", "none", "lower", "continued")))
    if install == "full":
        parts.append(("[Install]\n" + "".join(x + "\n" for x in draw(install_lines()))).encode())
    elif install == "empty":
        parts.append(b"[Install]\n")
    elif install == "lower":
        parts.append(b"[install]\nWantedBy=multi-user.target\n")
    elif install == "continued":
        parts.append(b"[Install]\nWantedBy=d.target \\\n  multi-user.target\n# comment\n")
    oddity = draw(st.sampled_from(("none",) * 20 + ("utf8", "header", "unknown-section", "comment", "bom")))
    if oddity == "utf8":
        parts.insert(draw(st.integers(0, len(parts))), b"[Service]\nDescription=\xff\xfe bad\n")
    elif oddity == "header":
        parts.insert(draw(st.integers(0, len(parts))), b"[Install\n")
    elif oddity == "unknown-section":
        parts.append(b"[Foo]\nWantedBy=d.target\n")
    elif oddity == "comment":
        parts.insert(0, b"# just a comment\n; another\n")
    elif oddity == "bom":
        parts.insert(0, b"\xef\xbb\xbf")
    data = b"".join(parts)
    return data or b"# empty-looking but not empty\n"


@st.composite
def dropin_contents(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(("install", "install", "install", "utf8", "header", "unit")))
    if kind == "install":
        return ("[Install]\n" + "".join(x + "\n" for x in draw(install_lines()))).encode()
    if kind == "utf8":
        return b"[Install]\nWantedBy=\xc3\x28.target\n"
    if kind == "header":
        return b"[Install\nWantedBy=d.target\n"
    return b"[Unit]\nDescription=drop-in\n"


# -- symlink targets -------------------------------------------------------------------------------


def _alias_targets(name: str, pool: tuple[str, ...]) -> tuple[str, ...]:
    """Names in ``pool`` that ``name`` may be a valid alias of (fact sheet §5.3), itself excluded."""
    suffix = name[name.rfind("."):]
    prefix, at, rest = name.partition("@")
    out = []
    for other in pool:
        if other == name or not other.endswith(suffix):
            continue
        o_prefix, o_at, o_rest = other.partition("@")
        if not at and not o_at:
            out.append(other)  # plain → plain
        elif at and o_at and rest == o_rest:
            out.append(other)  # template → template, instance → same instance
        elif at and o_at and rest != suffix and o_rest == suffix:
            out.append(other)  # instance → template
    return tuple(out)


def _up(directory: str) -> str:
    """``../`` enough times to climb from ``directory`` (root-relative) to the root."""
    return "../" * len([c for c in directory.split("/") if c])


@st.composite
def link_target(draw: st.DrawFn, directory: str, name: str, dirs: tuple[str, ...],
                pool: tuple[str, ...] = UNIT_POOL) -> str:
    """The text of a symlink ``directory/name``: a mask, an alias, a linked file, dangling, a loop…"""
    # Mostly a name a valid alias could point at (same type and kind), so that aliases resolve.
    fits = _alias_targets(name, pool)
    other = draw(st.sampled_from(fits) if fits and draw(st.integers(0, 3)) else st.sampled_from(pool))
    there = draw(st.sampled_from(dirs + SYSTEM_COMMON[:2]))
    kind = draw(st.sampled_from((
        "null", "null-rel", "null-dotdot", "sibling", "sibling", "abs-dir", "abs-dir", "rel-dir",
        "opt", "opt", "opt-other", "dangling", "dangling-name", "self", "self-abs", "cross-type",
        "subdir", "trailing-slash", "dot", "zero", "lib-dotdot",
    )))
    if kind == "null":
        return "/dev/null"
    if kind == "null-rel":
        return _up(directory) * draw(st.integers(1, 2)) + "dev/null"  # ".." stops at the root
    if kind == "null-dotdot":
        return "/usr/../dev/null"
    if kind == "sibling":
        return other
    if kind == "abs-dir":
        return f"/{there}/{other}"
    if kind == "rel-dir":
        return f"{_up(directory)}{there}/{other}"
    if kind == "opt":
        return f"/opt/{draw(st.sampled_from((name, other)))}"
    if kind == "opt-other":
        return draw(st.sampled_from(("/opt/other.txt", "/opt/empty.service", "/opt/sub/" + other,
                                     "../../../opt/" + name, "/opt/sub", f"/{there}", "/")))
    if kind == "dangling":
        return f"/nonexistent/{name}"
    if kind == "dangling-name":
        return "gone.service"
    if kind == "self":
        return name
    if kind == "self-abs":
        return f"/{directory}/{name}"
    if kind == "cross-type":
        return name.rsplit(".", 1)[0] + (".socket" if name.endswith(".service") else ".service")
    if kind == "subdir":
        return f"sub/{other}"
    if kind == "trailing-slash":
        return other + "/"
    if kind == "dot":
        return f"./{other}"
    if kind == "zero":
        return "/dev/zero"
    # lexically /usr/lib/…; chased through a ``lib`` → ``usr/lib`` link it is /usr/usr/lib/… (missing).
    return f"/lib/../usr/lib/systemd/system/{other}"


# -- nodes ----------------------------------------------------------------------------------------


@st.composite
def unit_node(draw: st.DrawFn, dirs: tuple[str, ...], pool: tuple[str, ...] = UNIT_POOL) -> list[Node]:
    """A unit-named entry in a search dir: file, empty file (mask), symlink or directory."""
    directory = draw(st.sampled_from(dirs))
    name = draw(st.sampled_from(HIDDEN) if draw(st.integers(0, 30)) == 0 else st.sampled_from(pool))
    kind = draw(st.sampled_from(("file", "file", "file", "file", "empty", "symlink", "symlink",
                                 "symlink", "dir")))
    path = f"{directory}/{name}"
    if kind == "file":
        return [Node(path, "file", draw(unit_contents()))]
    if kind == "empty":
        return [Node(path, "file", b"")]
    if kind == "dir":
        return [Node(path, "dir", None)]
    return [Node(path, "symlink", draw(link_target(directory, name, dirs, pool)))]


@st.composite
def wants_node(draw: st.DrawFn, dirs: tuple[str, ...], pool: tuple[str, ...] = UNIT_POOL) -> list[Node]:
    """A link in a ``TARGET.wants``/``.requires`` dir (good, dangling, wrongly named, instance)."""
    directory = draw(st.sampled_from(dirs))
    target = draw(st.sampled_from(TARGETS))
    sub = f"{directory}/{target}{draw(st.sampled_from(('.wants', '.wants', '.requires')))}"
    name = draw(st.sampled_from(pool + ("t@.service",)))
    kind = draw(st.sampled_from(("good", "good", "abs", "template", "wrong", "null", "dangling", "file",
                                 "hidden", "dir-link")))
    if kind == "good":
        return [Node(f"{sub}/{name}", "symlink", f"../{name}")]
    if kind == "abs":
        return [Node(f"{sub}/{name}", "symlink", f"/usr/lib/systemd/system/{name}")]
    if kind == "template":
        inst = draw(st.sampled_from(("t@x.service", "t@y.service", "u@x.service", "t@z.service")))
        return [Node(f"{sub}/{inst}", "symlink", "../" + inst.split("@")[0] + "@.service")]
    if kind == "wrong":
        return [Node(f"{sub}/{name}", "symlink", f"../{draw(st.sampled_from(pool))}")]
    if kind == "null":
        return [Node(f"{sub}/{name}", "symlink", "/dev/null")]
    if kind == "dangling":
        return [Node(f"{sub}/{name}", "symlink", "/nonexistent.service")]
    if kind == "file":
        return [Node(f"{sub}/{name}", "file", b"[Unit]\n")]
    if kind == "hidden":
        return [Node(f"{directory}/.{target}.wants/{name}", "symlink", f"../{name}")]
    # A .wants dir that is itself a (relative) symlink to a dir holding a good link.
    return [Node(f"opt/wantsdir/{name}", "symlink", f"../../{directory}/{name}"),
            Node(sub, "symlink", _up(directory) + "opt/wantsdir")]


@st.composite
def dropin_node(draw: st.DrawFn, dirs: tuple[str, ...], pool: tuple[str, ...] = UNIT_POOL) -> list[Node]:
    """A file in a ``NAME.d`` dir: [Install] content, empty, /dev/null link, dangling, dir, not .conf."""
    directory = draw(st.sampled_from(dirs))
    name = draw(st.sampled_from(pool))
    conf = draw(st.sampled_from(("10-a.conf", "10-a.conf", "20-b.conf", "x.txt", ".hidden.conf")))
    path = f"{directory}/{name}.d/{conf}"
    kind = draw(st.sampled_from(("content", "content", "content", "empty", "null", "dangling", "dir")))
    if kind == "content":
        return [Node(path, "file", draw(dropin_contents()))]
    if kind == "empty":
        return [Node(path, "file", b"")]
    if kind == "null":
        return [Node(path, "symlink", "/dev/null")]
    if kind == "dangling":
        return [Node(path, "symlink", "/nonexistent.conf")]
    return [Node(path, "dir", None)]


@st.composite
def outside_node(draw: st.DrawFn, dirs: tuple[str, ...], pool: tuple[str, ...] = UNIT_POOL) -> list[Node]:
    """Files outside the search path (targets of linked units) and in a subdir of a search dir."""
    kind = draw(st.sampled_from(("opt", "opt", "other", "empty", "chain", "subdir")))
    name = draw(st.sampled_from(pool))
    if kind == "opt":
        return [Node(f"{draw(st.sampled_from(OUTSIDE))}/{name}", "file", draw(unit_contents()))]
    if kind == "other":
        return [Node("opt/other.txt", "file", draw(unit_contents()))]
    if kind == "empty":
        return [Node(draw(st.sampled_from(("opt/empty.service", f"opt/{name}"))), "file", b"")]
    if kind == "chain":
        return [Node(f"opt/{name}", "symlink", draw(st.sampled_from((
            "/opt/other.txt", f"/usr/lib/systemd/system/{name}", "/dev/null", "sub/" + name))))]
    return [Node(f"{draw(st.sampled_from(dirs))}/sub/{name}", "file", draw(unit_contents()))]


@st.composite
def scenario_node(draw: st.DrawFn, dirs: tuple[str, ...], pool: tuple[str, ...] = UNIT_POOL) -> list[Node]:
    """A small coherent group (an enabled unit, an alias, a linked unit, an enabled instance) for the
    random nodes around it to disturb; without these most generated names would simply be missing."""
    kind = draw(st.sampled_from(("enabled", "alias", "linked", "instance", "install-alias")))
    name = draw(st.sampled_from(pool))
    vendor = draw(st.sampled_from(dirs))
    config = draw(st.sampled_from(dirs))
    wants = f"{config}/{draw(st.sampled_from(TARGETS))}.{draw(st.sampled_from(('wants', 'requires')))}"
    body = draw(unit_contents())
    if kind == "enabled":
        return [Node(f"{vendor}/{name}", "file", body), Node(f"{wants}/{name}", "symlink", f"/{vendor}/{name}")]
    if kind == "alias":
        fits = _alias_targets(name, pool)
        if not fits:
            return [Node(f"{vendor}/{name}", "file", body)]
        other = draw(st.sampled_from(fits))
        target = draw(st.sampled_from((other, f"/{vendor}/{other}", f"{_up(config)}{vendor}/{other}")))
        return [Node(f"{vendor}/{other}", "file", body), Node(f"{config}/{name}", "symlink", target)]
    if kind == "linked":
        out = [Node(f"opt/{name}", "file", body), Node(f"{config}/{name}", "symlink", f"/opt/{name}")]
        if draw(st.booleans()):
            out.append(Node(f"{wants}/{name}", "symlink", f"/opt/{name}"))
        return out
    if kind == "instance":
        template = draw(st.sampled_from(("t@.service", "u@.service")))
        inst = draw(st.sampled_from(("x", "y", "z")))
        content = (f"[Install]\nWantedBy=multi-user.target\nDefaultInstance={draw(st.sampled_from(('x', 'y')))}\n"
                   ).encode()
        iname = template.replace("@", "@" + inst)
        return [Node(f"{vendor}/{template}", "file", content),
                Node(f"{wants}/{iname}", "symlink", f"/{vendor}/{template}")]
    # A unit whose Alias= link exists (or not) in a config dir.
    fits = _alias_targets(name, pool + ("al.service", "al@.service", "al@x.service"))
    alias = draw(st.sampled_from(fits)) if fits else name
    out = [Node(f"{vendor}/{name}", "file", f"[Install]\nAlias={alias}\n".encode())]
    if draw(st.booleans()):
        out.append(Node(f"{config}/{alias}", "symlink", f"/{vendor}/{name}"))
    return out


PRESET_PATTERNS = ("*", "*.service", "a*", "a.service", "t@.service", "t@.service x y", "[ab].service",
                   "*.socket", "m.mount", "?.service", "t@x.service", "u@*", "[!a]*", "[^b]*", "a\\*")


@st.composite
def preset_node(draw: st.DrawFn, scope: str) -> list[Node]:
    """A ``*.preset`` file: enable/disable lines with globs, comments and junk."""
    kind_dir = "system-preset" if scope == "system" else "user-preset"
    base = draw(st.sampled_from(("etc", "run", "usr/local/lib", "usr/lib", "lib")))
    name = draw(st.sampled_from(("50-x.preset", "90-default.preset", "x.txt")))
    path = f"{base}/systemd/{kind_dir}/{name}"
    odd = draw(st.integers(0, 19))
    if odd == 0:
        return [Node(path, "symlink", "/dev/null")]
    if odd == 1:
        return [Node(path, "dir", None)]  # unreadable: systemctl's PRESET column says n/a
    lines = draw(st.lists(st.one_of(
        st.builds(lambda a, p: f"{a} {p}", st.sampled_from(("enable", "disable")),
                  st.sampled_from(PRESET_PATTERNS)),
        st.sampled_from(("# comment", "", "bogus line", "  enable   b.service  ", "enablea.service"))),
        min_size=1, max_size=5))
    return [Node(path, "file", ("\n".join(lines) + "\n").encode())]


@st.composite
def nodes_for(draw: st.DrawFn, dirs: tuple[str, ...], scope: str, max_nodes: int = 40) -> list[Node]:
    """Between 6 and ``max_nodes`` groups of nodes; unit entries and ``.wants`` links dominate.

    A few names are drawn first and then preferred, so that links, drop-ins and linked files mostly
    meet units that exist (otherwise nearly every answer would be ENOENT).
    """
    focus = tuple(draw(st.lists(st.sampled_from(UNIT_POOL), min_size=2, max_size=6, unique=True)))
    pool = focus * 3 + UNIT_POOL
    count = draw(st.integers(min(6, max_nodes), max_nodes))
    node = st.one_of(
        unit_node(dirs, pool), unit_node(dirs, pool), unit_node(dirs, pool), unit_node(dirs, pool),
        unit_node(dirs, pool), wants_node(dirs, pool), wants_node(dirs, pool), wants_node(dirs, pool),
        dropin_node(dirs, pool), outside_node(dirs, pool), preset_node(scope), scenario_node(dirs, pool),
        scenario_node(dirs, pool),
    )
    groups = [draw(node) for _ in range(count)]
    return [n for g in groups for n in g]


# -- whole roots ----------------------------------------------------------------------------------


@st.composite
def broken_dir(draw: st.DrawFn, dirs: tuple[str, ...]) -> list[Node]:
    """Now and then a search dir that cannot be opened: a symlink to itself (ELOOP)."""
    if draw(st.integers(0, 14)):
        return []
    d = draw(st.sampled_from(dirs))
    return [Node(d, "symlink", posixpath.basename(d))]


@st.composite
def system_roots(draw: st.DrawFn, max_nodes: int = 40) -> RootDesc:
    """A system-scope root over the Debian 12 search path (``lib/`` a real dir or a link to ``usr/lib``)."""
    extra = draw(st.lists(st.sampled_from(SYSTEM_DIRS), max_size=3, unique=True))
    dirs = tuple(dict.fromkeys(SYSTEM_COMMON + tuple(extra)))
    nodes = draw(broken_dir(dirs)) + draw(nodes_for(dirs, "system", max_nodes))
    return RootDesc(tuple(nodes), "system", None, draw(st.sampled_from(("dir", "usrmerge"))),
                    draw(st.booleans()), dirs)


@st.composite
def global_roots(draw: st.DrawFn, max_nodes: int = 30) -> RootDesc:
    """A ``--global`` root: /etc/systemd/user and friends (plus stray system dirs that must not count)."""
    extra = draw(st.lists(st.sampled_from(GLOBAL_DIRS), max_size=2, unique=True))
    dirs = tuple(dict.fromkeys(GLOBAL_COMMON + tuple(extra) + ("etc/systemd/system",)))
    nodes = draw(nodes_for(dirs, "global", max_nodes))
    return RootDesc(tuple(nodes), "global", None, draw(st.sampled_from(("dir", "usrmerge"))),
                    draw(st.booleans()), dirs)


@st.composite
def unit_path_roots(draw: st.DrawFn, max_nodes: int = 30) -> RootDesc:
    """A system root seen through ``SYSTEMD_UNIT_PATH``: replacing the defaults, or with a trailing ``:``."""
    custom = draw(st.lists(st.sampled_from(CUSTOM_DIRS + ("etc/systemd/system",)), min_size=1, max_size=2,
                           unique=True))
    append = draw(st.booleans())
    # Entries are made absolute and simplified, so "/srv/units/" and "//srv/units" name the same dir.
    spelled = [draw(st.sampled_from(("/{}", "/{}", "/{}/", "//{}"))).format(d) for d in custom]
    value = ":".join(spelled) + (":" if append else "")
    dirs = tuple(dict.fromkeys(tuple(custom) + ("etc/systemd/system", "usr/lib/systemd/system",
                                                 "run/systemd/system")))
    nodes = draw(nodes_for(dirs, "system", max_nodes))
    return RootDesc(tuple(nodes), "system", value, draw(st.sampled_from(("dir", "usrmerge"))),
                    draw(st.booleans()), dirs)
