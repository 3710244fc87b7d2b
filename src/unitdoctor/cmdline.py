"""The kernel command line and the ``systemd.mask=`` options on it.

Live, the command line is ``/proc/cmdline``. Offline we read what the root's boot configuration would
pass: ``/etc/kernel/cmdline`` (kernel-install, UKIs), ``GRUB_CMDLINE_LINUX`` and
``GRUB_CMDLINE_LINUX_DEFAULT`` in ``/etc/default/grub`` (and ``/etc/default/grub.d/*.cfg``, which
Debian's grub-mkconfig sources after it), and the ``options`` lines of Boot Loader Specification
entries (``/boot/loader/entries/*.conf``, ``/efi/loader/entries/*.conf``). Fact sheet §2.8.

All reads go through ``rootfs.Root``; nothing here decides what a mask means.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import Optional

from . import extract, names
from .records import dataclass
from .rootfs import Root

#: Boot configuration files are small; anything larger is not a boot configuration.
CONFIG_MAX = 1024 * 1024
#: At most this many boot loader entries are read.
ENTRIES_MAX = 256

GRUB_DEFAULT = "/etc/default/grub"
GRUB_DROPINS = "/etc/default/grub.d"
KERNEL_CMDLINE = "/etc/kernel/cmdline"
LOADER_ENTRIES = ("/boot/loader/entries", "/efi/loader/entries", "/boot/efi/loader/entries")
PROC_CMDLINE = "/proc/cmdline"


@dataclass(frozen=True)
class CommandLine:
    """One kernel command line as a boot source gives it: where (path, 1-based line) and the text."""

    path: str
    line: Optional[int]
    text: str
    what: str  # "running kernel", "kernel-install", "GRUB_CMDLINE_LINUX", "boot loader entry"


@dataclass(frozen=True)
class MaskOption:
    """A ``systemd.mask=`` (or ``rd.systemd.mask=``) word, with the unit name systemd makes of it."""

    word: str
    unit: Optional[str]  # None when systemd cannot mangle the value (it then stops parsing)
    initrd_only: bool
    cmdline: CommandLine
    problem: Optional[str] = None


def split_words(text: str) -> list[str]:
    """The words of a kernel command line, as ``proc_cmdline_extract_first`` yields them.

    ``extract_first_word(…, EXTRACT_UNQUOTE|EXTRACT_RELAX|EXTRACT_RETAIN_ESCAPE)`` (``extract.words``):
    words are separated by whitespace; single and double quotes group and are removed, also in the
    middle of a word (``systemd.mask="a b"``); a quote left open runs to the end; a backslash is an
    ordinary character.
    """
    return extract.words(text, unquote=True, relax=True, retain_escape=True)[0]


def mask_options(cmd: CommandLine) -> list[MaskOption]:
    """The ``systemd.mask=`` words of one command line, in order.

    Implements ``parse_proc_cmdline_item`` of systemd-debug-generator with ``PROC_CMDLINE_RD_STRICT |
    PROC_CMDLINE_STRIP_RD_PREFIX`` (debug-generator.c, proc-cmdline.c, v252): the key must be exactly
    ``systemd.mask`` (no ``-``/``_`` folding); ``rd.systemd.mask=`` is used only inside the initrd and
    plain ``systemd.mask=`` only outside it; the value is mangled like a name given to systemctl
    (``foo`` → ``foo.service``, ``/dev/sda`` → ``dev-sda.device``). A key without ``=`` is ignored
    ("Missing argument"); a value that cannot be mangled fails the parse, so later words are not
    used ("Failed to glob unit name"). We evaluate the booted system, not the initrd: ``rd.`` words
    are returned marked ``initrd_only`` and never stop the parse.
    """
    out: list[MaskOption] = []
    for word in split_words(cmd.text):
        initrd = word.startswith("rd.")
        key, eq, value = (word[3:] if initrd else word).partition("=")
        if key != "systemd.mask":
            continue
        if not eq:
            out.append(MaskOption(word, None, initrd, cmd,
                                  "Missing argument for systemd.mask= kernel command line switch, ignoring."))
            continue
        try:
            unit, _notice = names.mangle(value)
        except names.InvalidUnitName:
            out.append(MaskOption(word, None, initrd, cmd,
                                  "Failed to glob unit name: Invalid argument (later options are not parsed)"))
            if not initrd:
                break  # outside the initrd only; there rd. words never reach the parser
            continue
        out.append(MaskOption(word, unit, initrd, cmd))
    return out


# -- sources -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """What reading the boot sources gave: command lines, and (path, note) for each source not used."""

    cmdlines: tuple[CommandLine, ...]
    skipped: tuple[tuple[str, str], ...]
    warnings: tuple[tuple[str, str], ...]


def _read_text(root: Root, path: str, skipped: list[tuple[str, str]], warnings: list[tuple[str, str]],
               ) -> Optional[str]:
    try:
        data = root.read(path, limit=CONFIG_MAX)
    except OSError as e:
        if e.errno in (2, 20):  # ENOENT, ENOTDIR
            skipped.append((path, "not present"))
        else:
            warnings.append((path, f"cannot be read ({e.strerror}), skipped"))
        return None
    if b"\0" in data:
        warnings.append((path, "contains NUL bytes: not a text file, skipped"))
        return None
    return data.decode("utf-8", errors="replace")


_GRUB_ASSIGN = re.compile(r"^\s*(?:export\s+)?(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=(.*)$")
_GRUB_REF = re.compile(r"\$(?:\{(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)\}|(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)\b)")


def grub_assignments(text: str, path: str, values: dict[str, tuple[str, int, str]]) -> None:
    """Apply the ``GRUB_CMDLINE_LINUX(_DEFAULT)=`` lines of a shell file to ``values`` (name → value, line, path).

    The file is sourced by grub-mkconfig, so the last assignment wins and ``$GRUB_CMDLINE_LINUX``
    inside a value is the value so far. Quoting follows the shell (``shlex``); other shell constructs
    are not evaluated.
    """
    for n, line in enumerate(text.splitlines(), 1):
        m = _GRUB_ASSIGN.match(line)
        if not m:
            continue
        name, rhs = m.group(1), m.group(2)
        rhs = _GRUB_REF.sub(lambda r: values.get(r.group(1) or r.group(2), ("", 0, ""))[0], rhs)
        try:
            parts = shlex.split(rhs, comments=True)
        except ValueError:
            parts = [rhs.strip("'\"")]
        values[name] = (" ".join(parts), n, path)


def boot_cmdlines(root: Root, *, live: bool) -> Found:
    """Every kernel command line the root boots with (live: the running kernel's)."""
    cmdlines: list[CommandLine] = []
    skipped: list[tuple[str, str]] = []
    warnings: list[tuple[str, str]] = []
    if live:
        text = _read_text(root, PROC_CMDLINE, skipped, warnings)
        if text is not None:
            cmdlines.append(CommandLine(PROC_CMDLINE, 1, text.strip(), "running kernel"))
        return Found(tuple(cmdlines), tuple(skipped), tuple(warnings))
    text = _read_text(root, KERNEL_CMDLINE, skipped, warnings)
    if text is not None:
        # kernel-install joins the lines of the file with spaces.
        cmdlines.append(CommandLine(KERNEL_CMDLINE, 1, " ".join(text.split()), "kernel-install"))
    values: dict[str, tuple[str, int, str]] = {}
    text = _read_text(root, GRUB_DEFAULT, skipped, warnings)
    if text is not None:
        grub_assignments(text, GRUB_DEFAULT, values)
    try:
        dropins = sorted(e.name for e in root.scandir(GRUB_DROPINS) if e.name.endswith(".cfg"))
    except OSError:
        dropins = []
    for name in dropins:
        p = posixpath.join(GRUB_DROPINS, name)
        text = _read_text(root, p, skipped, warnings)
        if text is not None:
            grub_assignments(text, p, values)
    for key in ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT"):
        if key in values:
            value, line, path = values[key]
            cmdlines.append(CommandLine(path, line, value, key))
    for d in LOADER_ENTRIES:
        try:
            entries = sorted(e.name for e in root.scandir(d) if e.name.endswith(".conf"))
        except OSError:
            continue
        for name in entries[:ENTRIES_MAX]:
            p = posixpath.join(d, name)
            text = _read_text(root, p, skipped, warnings)
            if text is None:
                continue
            for lineno, entry_line in enumerate(text.splitlines(), 1):
                key, _, rest = entry_line.strip().partition(" ")
                if key == "options":
                    cmdlines.append(CommandLine(p, lineno, rest.strip(), "boot loader entry"))
    return Found(tuple(cmdlines), tuple(skipped), tuple(warnings))
