"""An independent re-implementation of how Quadlet and systemd read the files Tamer writes.

* :func:`split_words`: Quadlet's ``splitString(value, WhitespaceSeparators, SplitRelax|SplitUnquote|
  SplitCUnescape)`` (podman ``pkg/systemd/parser/split.go``, itself a port of systemd's
  ``extract_first_word``), used for ``Exec=``, ``PodmanArgs=``, ``Environment=`` and ``Label=``. Like the
  Go code, an empty word ends the splitting.
* :func:`escape_words`: Quadlet's ``escapeWords`` that writes the generated ``ExecStart=``.
* :func:`exec_start_argv`: what systemd finally passes to podman for one ``ExecStart=`` line
  (split again, then ``%%`` -> ``%`` from specifier expansion and ``$$`` -> ``$`` from variable expansion).
* :func:`parse_unit`: the unit-file syntax (sections, ``Key=value``, comments, ``\\`` continuations).

Written from the Go/C sources' behaviour, not from Tamer's code, so the tests check Tamer against it.
"""

from __future__ import annotations

SEPARATORS = " \t\n\r"
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
           '"': '"', "'": "'", "s": " "}


def _unescape_one(text: str, pos: int) -> tuple[int, str]:
    """(length consumed, character) for the escape whose letter is at ``text[pos]``."""
    c = text[pos]
    if c in _SIMPLE:
        return 1, _SIMPLE[c]
    for letter, digits in (("x", 2), ("u", 4), ("U", 8)):
        if c == letter:
            chunk = text[pos + 1 : pos + 1 + digits]
            if len(chunk) != digits or any(ch not in "0123456789abcdefABCDEF" for ch in chunk):
                raise ValueError("bad hex escape")
            value = int(chunk, 16)
            if value == 0:
                raise ValueError("NUL escape")
            return 1 + digits, chr(value)
    if c in "01234567":
        chunk = text[pos : pos + 3]
        if len(chunk) != 3 or any(ch not in "01234567" for ch in chunk) or int(chunk, 8) in (0,) or int(chunk, 8) > 255:
            raise ValueError("bad octal escape")
        return 3, chr(int(chunk, 8))
    raise ValueError(f"unsupported escape char {c!r}")


def _first_word(text: str) -> tuple[str, str, bool]:
    n = len(text)
    p = 0
    while p < n and text[p] in SEPARATORS:
        p += 1
    if p >= n:
        return "", "", False
    buf: list[str] = []
    quote = ""
    while True:
        if p >= n:
            break  # relaxed: an open quote or a trailing backslash just ends the word
        c = text[p]
        if c == "\\":
            if p + 1 >= n:
                break
            length, char = _unescape_one(text, p + 1)
            buf.append(char)
            p += 1 + length
            continue
        if quote:
            if c == quote:
                quote = ""
            else:
                buf.append(c)
            p += 1
            continue
        if c in "'\"":
            quote = c
            p += 1
            continue
        if c in SEPARATORS:
            while p < n and text[p] in SEPARATORS:
                p += 1
            if not buf:
                return "", "", False
            return "".join(buf), text[p:], True
        buf.append(c)
        p += 1
    if not buf:
        return "", "", False
    return "".join(buf), "", True


def split_words(text: str) -> list[str]:
    words: list[str] = []
    rest = text
    while True:
        word, rest, more = _first_word(rest)
        if not more:
            return words
        words.append(word)


def _needs_escape(c: str) -> bool:
    if ord(c) > 128:
        return False
    return c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F or c in "\"'\\"


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\f": "\\f",
            "\\": "\\\\", " ": " ", '"': '\\"', "'": "'"}


def escape_words(words: list[str]) -> str:
    out: list[str] = []
    for word in words:
        if any(_needs_escape(c) for c in word):
            body = "".join(_ESCAPES.get(c, f"\\x{ord(c):02x}") if _needs_escape(c) else c for c in word)
            out.append(f'"{body}"')
        else:
            out.append(word)
    return " ".join(out)


def _unexpand(word: str) -> str:
    return word.replace("%%", "%").replace("$$", "$")


def exec_start_argv(words: list[str]) -> list[str]:
    """The argv podman receives when Quadlet puts ``words`` on an ``ExecStart=`` line."""
    return [_unexpand(w) for w in split_words(escape_words(words))]


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """Sections -> [(key, value)] in order; comments dropped, continuations joined, values stripped."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    pending = ""
    for raw in text.splitlines():
        line = pending + raw
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1]
            sections.setdefault(current, [])
            continue
        key, sep, value = stripped.partition("=")
        if not sep or not current:
            raise ValueError(f"not a unit line: {raw!r}")
        sections[current].append((key.strip(), value.strip()))
    return sections


def values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]
