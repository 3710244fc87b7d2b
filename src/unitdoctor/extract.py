"""systemd's ``extract_first_word`` (extract-word.c, v252): how systemd splits a value into words.

The one implementation for the whole engine; each caller passes the flags its systemd counterpart passes:

- ``config_parse_strv`` (WantedBy=, RequiredBy=, Alias=, …): ``unquote=True, retain_escape=True``;
- ``Also=``: no flags (quotes are ordinary, a backslash takes the next character literally);
- the kernel command line (``proc_cmdline_extract_first``): ``unquote=True, relax=True, retain_escape=True``.

The rules, in the order the C function applies them: separators (default: systemd's WHITESPACE, " \\t\\n\\r")
before a word are skipped; with ``unquote`` a single or double quote anywhere in a word starts a quoted part
that ends at the same quote and is kept without the quotes (``a"b c"d`` is one word ``ab cd``; ``""`` is one
empty word); unless ``retain_escape``, a backslash takes the next character literally (also inside quotes);
a quote left open or a trailing backslash is EINVAL, or with ``relax`` ends the word where the input ends.
"""

from __future__ import annotations

from typing import Optional

#: systemd's WHITESPACE.
WHITESPACE = " \t\n\r"


def words(value: str, *, unquote: bool = False, relax: bool = False, retain_escape: bool = False,
          separators: str = WHITESPACE) -> tuple[list[str], Optional[str]]:
    """The words of ``value`` and the errno symbol that stopped the split (``"EINVAL"``), or None.

    On EINVAL the words before the bad one are returned, as a caller looping over extract_first_word
    has them when it stops.
    """
    out: list[str] = []
    i, n = 0, len(value)
    while True:
        while i < n and value[i] in separators:
            i += 1
        if i >= n:
            return out, None
        word: list[str] = []
        quote = ""
        while i < n:
            c = value[i]
            if c == "\\" and not retain_escape:
                if i + 1 >= n:
                    if relax:
                        i += 1
                        break
                    return out, "EINVAL"
                word.append(value[i + 1])
                i += 2
            elif quote:
                if c == quote:
                    quote = ""
                else:
                    word.append(c)
                i += 1
            elif unquote and c in "'\"":
                quote = c
                i += 1
            elif c in separators:
                break
            else:
                word.append(c)
                i += 1
        if quote and not relax:
            return out, "EINVAL"
        out.append("".join(word))
