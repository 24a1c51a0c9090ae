"""A tiny built-in shell that simulated containers run for ``kubectl exec`` / ``attach``.

It understands enough of a busybox ``sh`` to feel real in a terminal: ``echo``, ``env``,
``printenv``, ``hostname``, ``ls``, ``cat``, ``pwd``, ``cd``, ``date``, ``sleep N``, ``exit N``,
``true``/``false``, ``whoami``, ``id``, ``uname``, ``ps``, ``grep``, ``head``, ``tail``, ``wc``,
``seq``, ``mkdir``, ``touch``, ``rm``, ``export``, ``stty size``, ``which``; ``sh -c "..."`` with
``;``, ``&&``, ``||``, ``|`` pipes, ``>``/``>>`` redirects into the fake filesystem, ``$VAR``
expansion and single/double quotes.  Unknown commands print ``sh: foo: not found`` on stderr and
exit 127.  With stdin and a TTY it runs an interactive prompt (``/ # ``) with a minimal line
discipline (echo, backspace, Ctrl-C, Ctrl-D); with stdin but no TTY it reads commands line by line.

The shell is transport independent: it talks to a :class:`ShellIO` (bytes in, bytes out on
stdout/stderr), so it is unit tested without any WebSocket.
"""

from __future__ import annotations

import asyncio
import posixpath
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

STDOUT = 1
STDERR = 2

SHELLS = frozenset({"sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash", "/bin/busybox", "busybox"})


class ShellIO(Protocol):
    """Where a shell reads stdin from and writes output to."""

    async def write(self, stream: int, data: bytes) -> None:
        """Write ``data`` to stdout (1) or stderr (2)."""

    async def read(self) -> bytes | None:
        """Next chunk of stdin; ``None`` at end of input."""


class ExitShell(Exception):
    """Raised by ``exit N`` to end the whole shell."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class ShellSyntaxError(Exception):
    """A script that cannot be parsed (unterminated quote, dangling operator)."""


@dataclass
class FileSystem:
    """A tiny in-memory filesystem: files hold text, directories are implied or explicit."""

    files: dict[str, str] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.dirs.add("/")
        for path in list(self.files):
            self._add_parents(path)
        for d in list(self.dirs):
            self._add_parents(d)

    def _add_parents(self, path: str) -> None:
        parent = posixpath.dirname(path.rstrip("/")) or "/"
        while parent not in self.dirs:
            self.dirs.add(parent)
            if parent == "/":
                break
            parent = posixpath.dirname(parent) or "/"

    def is_dir(self, path: str) -> bool:
        """True if ``path`` is a directory."""
        return path in self.dirs

    def is_file(self, path: str) -> bool:
        """True if ``path`` is a regular file."""
        return path in self.files

    def listdir(self, path: str) -> list[str]:
        """Names directly inside directory ``path`` (sorted)."""
        prefix = path.rstrip("/") + "/"
        names: set[str] = set()
        for p in list(self.files) + list(self.dirs):
            if p != path and p.startswith(prefix):
                rest = p[len(prefix) :]
                if rest:
                    names.add(rest.split("/", 1)[0])
        return sorted(names)

    def write(self, path: str, text: str, append: bool = False) -> None:
        """Create or overwrite (or append to) a file."""
        self.files[path] = (self.files.get(path, "") + text) if append else text
        self._add_parents(path)

    def mkdir(self, path: str) -> None:
        """Create a directory (and its parents)."""
        self.dirs.add(path)
        self._add_parents(path)

    def remove(self, path: str) -> bool:
        """Remove a file or an (empty or not) directory tree; False if it does not exist."""
        if path in self.files:
            del self.files[path]
            return True
        if path in self.dirs and path != "/":
            prefix = path.rstrip("/") + "/"
            self.dirs = {d for d in self.dirs if d != path and not d.startswith(prefix)}
            self.files = {f: c for f, c in self.files.items() if not f.startswith(prefix)}
            return True
        return False


# ----------------------------------------------------------------------------------------------
# Tokenizer / parser

OPERATORS = ("&&", "||", ">>", ";", "|", ">", "<", "&")
_DEFERRED = re.compile("\x00([^\x01]*)\x01")


def _deferred(name: str) -> str:
    """A marker for ``$name`` that :meth:`Shell.expand` replaces at execution time."""
    return f"\x00{name}\x01"


@dataclass
class Word:
    """A word after quote removal and variable expansion."""

    text: str


@dataclass
class Op:
    """A control or redirection operator."""

    text: str


Token = Word | Op


def tokenize(script: str, variables: Callable[[str], str]) -> list[Token]:
    """Split ``script`` into words and operators, expanding ``$VAR`` outside single quotes."""
    tokens: list[Token] = []
    buf: list[str] = []
    have_word = False
    i = 0
    n = len(script)

    def flush() -> None:
        nonlocal have_word
        if have_word:
            tokens.append(Word("".join(buf)))
        buf.clear()
        have_word = False

    def expand(pos: int) -> tuple[str, int]:
        # script[pos] == "$"
        if pos + 1 >= n:
            return "$", pos + 1
        c = script[pos + 1]
        if script.startswith("((", pos + 1):
            end = script.find("))", pos + 3)
            if end < 0:
                raise ShellSyntaxError("syntax error: missing '))'")
            return variables("=" + script[pos + 3 : end]), end + 2
        if c == "{":
            end = script.find("}", pos + 2)
            if end < 0:
                raise ShellSyntaxError("syntax error: missing '}'")
            return variables(script[pos + 2 : end]), end + 1
        if c in "?$#0":
            return variables(c), pos + 2
        j = pos + 1
        while j < n and (script[j].isalnum() or script[j] == "_"):
            j += 1
        if j == pos + 1:
            return "$", pos + 1
        return variables(script[pos + 1 : j]), j

    while i < n:
        c = script[i]
        if c == "#" and not have_word:
            while i < n and script[i] != "\n":
                i += 1
            continue
        if c in " \t":
            flush()
            i += 1
            continue
        if c == "\n":
            flush()
            tokens.append(Op(";"))
            i += 1
            continue
        op = next((o for o in OPERATORS if script.startswith(o, i)), None)
        if op is not None:
            if op in (">", ">>"):
                # file descriptor redirections: 2>file, 2>>file, >&2, 2>&1, 1>&2
                fd = ""
                if have_word and len(buf) == 1 and buf[0] in "12" and i > 0 and script[i - 1] == buf[0]:
                    fd = buf[0]
                    buf.clear()
                    have_word = False
                flush()
                i += len(op)
                if op == ">" and i + 1 < n + 1 and script.startswith("&", i) and i + 1 < n and script[i + 1] in "12":
                    tokens.append(Op(f"{fd or '1'}>&{script[i + 1]}"))
                    i += 2
                    continue
                tokens.append(Op(f"{fd}{op}" if fd and fd != "1" else op))
                continue
            flush()
            tokens.append(Op(op))
            i += len(op)
            continue
        if c == "\\":
            if i + 1 < n:
                buf.append(script[i + 1])
                have_word = True
            i += 2
            continue
        if c == "'":
            end = script.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("syntax error: unterminated quoted string")
            buf.append(script[i + 1 : end])
            have_word = True
            i = end + 1
            continue
        if c == '"':
            i += 1
            have_word = True
            while True:
                if i >= n:
                    raise ShellSyntaxError("syntax error: unterminated quoted string")
                c = script[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\" and i + 1 < n and script[i + 1] in '"\\$`':
                    buf.append(script[i + 1])
                    i += 2
                    continue
                if c == "$":
                    text, i = expand(i)
                    buf.append(text)
                    continue
                buf.append(c)
                i += 1
            continue
        if c == "$":
            text, i = expand(i)
            buf.append(text)
            have_word = True
            continue
        buf.append(c)
        have_word = True
        i += 1
    flush()
    return tokens


@dataclass
class Command:
    """One simple command: argv plus redirections."""

    argv: list[str]
    stdout_file: str | None = None
    append: bool = False
    stdin_file: str | None = None
    stderr_file: str | None = None
    stderr_append: bool = False
    stderr_to_stdout: bool = False
    stdout_to_stderr: bool = False


@dataclass
class Pipeline:
    """Commands joined by ``|``; ``op`` is the operator that precedes this pipeline."""

    commands: list[Command]
    op: str = ";"


@dataclass
class Loop:
    """``while``/``until`` COND; do BODY; done."""

    kind: str
    cond: list[Node]
    body: list[Node]
    op: str = ";"


@dataclass
class ForLoop:
    """``for VAR in WORDS; do BODY; done``."""

    var: str
    words: list[str]
    body: list[Node]
    op: str = ";"


@dataclass
class IfNode:
    """``if COND; then BODY; [elif COND; then BODY;] [else BODY;] fi``."""

    branches: list[tuple[list[Node], list[Node]]]
    orelse: list[Node] | None
    op: str = ";"


Node = Pipeline | Loop | ForLoop | IfNode
_SEPARATORS = (";", "&")
_KEYWORDS = frozenset({"while", "until", "for", "if", "then", "elif", "else", "fi", "do", "done", "in"})


class _Parser:
    """Recursive-descent parser for the small sh grammar the simulator supports."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def at_keyword(self, words: set[str] | frozenset[str]) -> bool:
        tok = self.peek()
        return isinstance(tok, Word) and tok.text in words

    def skip_separators(self) -> None:
        while isinstance(self.peek(), Op) and self.peek().text in _SEPARATORS:  # type: ignore[union-attr]
            self.pos += 1

    def expect(self, word: str) -> None:
        self.skip_separators()
        if not self.at_keyword({word}):
            tok = self.peek()
            found = "end of file" if tok is None else f"'{tok.text}'"
            raise ShellSyntaxError(f"syntax error: unexpected {found} (expecting \"{word}\")")
        self.pos += 1

    def parse_list(self, stops: set[str]) -> list[Node]:
        items: list[Node] = []
        op = ";"
        pending = False
        while self.pos < len(self.tokens):
            tok = self.tokens[self.pos]
            if isinstance(tok, Op):
                if tok.text in _SEPARATORS:
                    if pending:
                        raise ShellSyntaxError(f"syntax error: unexpected '{tok.text}'")
                    self.pos += 1
                    op = ";"
                    continue
                if tok.text in ("&&", "||"):
                    if not items or pending:
                        raise ShellSyntaxError(f"syntax error: unexpected '{tok.text}'")
                    op = tok.text
                    pending = True
                    self.pos += 1
                    continue
            if isinstance(tok, Word) and tok.text in stops:
                break
            items.append(self.parse_command(op))
            op = ";"
            pending = False
        if pending:
            raise ShellSyntaxError("syntax error: unexpected end of file")
        return items

    def parse_command(self, op: str) -> Node:
        tok = self.peek()
        if isinstance(tok, Word) and tok.text in ("while", "until"):
            self.pos += 1
            cond = self.parse_list({"do"})
            self.expect("do")
            body = self.parse_list({"done"})
            self.expect("done")
            return Loop(tok.text, cond, body, op)
        if isinstance(tok, Word) and tok.text == "for":
            self.pos += 1
            var_tok = self.peek()
            if not isinstance(var_tok, Word) or not var_tok.text.isidentifier():
                raise ShellSyntaxError("syntax error: bad for loop variable")
            self.pos += 1
            words: list[str] = []
            if self.at_keyword({"in"}):
                self.pos += 1
                while isinstance(self.peek(), Word) and not self.at_keyword({"do"}):
                    words.append(self.tokens[self.pos].text)  # type: ignore[union-attr]
                    self.pos += 1
            self.expect("do")
            body = self.parse_list({"done"})
            self.expect("done")
            return ForLoop(var_tok.text, words, body, op)
        if isinstance(tok, Word) and tok.text == "if":
            self.pos += 1
            branches: list[tuple[list[Node], list[Node]]] = []
            orelse: list[Node] | None = None
            while True:
                cond = self.parse_list({"then"})
                self.expect("then")
                body = self.parse_list({"elif", "else", "fi"})
                branches.append((cond, body))
                self.skip_separators()
                if self.at_keyword({"elif"}):
                    self.pos += 1
                    continue
                if self.at_keyword({"else"}):
                    self.pos += 1
                    orelse = self.parse_list({"fi"})
                self.expect("fi")
                return IfNode(branches, orelse, op)
        if isinstance(tok, Word) and tok.text in ("then", "elif", "else", "fi", "do", "done"):
            raise ShellSyntaxError(f"syntax error: unexpected \"{tok.text}\"")
        return self.parse_pipeline(op)

    def parse_pipeline(self, op: str) -> Pipeline:
        commands: list[Command] = []
        cmd = Command([])
        tokens = self.tokens
        while self.pos < len(tokens):
            tok = tokens[self.pos]
            if isinstance(tok, Word):
                cmd.argv.append(tok.text)
                self.pos += 1
                continue
            if tok.text in ("1>&2", "2>&1", "1>&1", "2>&2"):
                cmd.stderr_to_stdout = cmd.stderr_to_stdout or tok.text == "2>&1"
                cmd.stdout_to_stderr = cmd.stdout_to_stderr or tok.text == "1>&2"
                self.pos += 1
                continue
            if tok.text in (">", ">>", "<", "2>", "2>>"):
                if self.pos + 1 >= len(tokens) or not isinstance(tokens[self.pos + 1], Word):
                    raise ShellSyntaxError("syntax error: unexpected newline")
                target = tokens[self.pos + 1].text
                if tok.text == "<":
                    cmd.stdin_file = target
                elif tok.text.startswith("2"):
                    cmd.stderr_file = target
                    cmd.stderr_append = tok.text == "2>>"
                else:
                    cmd.stdout_file = target
                    cmd.append = tok.text == ">>"
                self.pos += 2
                continue
            if tok.text == "|":
                if not cmd.argv:
                    raise ShellSyntaxError("syntax error: unexpected '|'")
                commands.append(cmd)
                cmd = Command([])
                self.pos += 1
                if self.pos >= len(tokens):
                    raise ShellSyntaxError("syntax error: unexpected end of file")
                continue
            break  # ; & && || end the pipeline
        if cmd.argv or cmd.stdout_file or cmd.stdin_file or cmd.stderr_file:
            commands.append(cmd)
        elif commands:
            raise ShellSyntaxError("syntax error: unexpected end of file")
        if not commands:
            nxt = self.peek()
            raise ShellSyntaxError(f"syntax error: unexpected '{nxt.text if nxt else 'end of file'}'")
        return Pipeline(commands, op)


def parse(tokens: list[Token]) -> list[Node]:
    """Parse tokens into a list of nodes (pipelines, loops, ifs) joined by ``;``, ``&&``, ``||``."""
    parser = _Parser(tokens)
    nodes = parser.parse_list(set())
    if parser.pos < len(tokens):
        tok = tokens[parser.pos]
        raise ShellSyntaxError(f"syntax error: unexpected \"{tok.text}\"")
    return nodes


def walk_commands(nodes: list[Node]) -> list[Command]:
    """Every simple command in a parsed script (loop conditions and bodies included)."""
    out: list[Command] = []
    for node in nodes:
        if isinstance(node, Pipeline):
            out.extend(node.commands)
        elif isinstance(node, Loop):
            out += walk_commands(node.cond) + walk_commands(node.body)
        elif isinstance(node, ForLoop):
            out += walk_commands(node.body)
        else:
            for cond, body in node.branches:
                out += walk_commands(cond) + walk_commands(body)
            out += walk_commands(node.orelse or [])
    return out


# ----------------------------------------------------------------------------------------------
# IO helpers


class BufferIO:
    """A :class:`ShellIO` that collects output in memory and reads stdin from a fixed buffer."""

    def __init__(self, stdin: bytes | None = None, stderr_to: ShellIO | None = None) -> None:
        self.out = bytearray()
        self.err = bytearray()
        self._stdin = stdin
        self._stderr_to = stderr_to

    async def write(self, stream: int, data: bytes) -> None:
        """Collect stdout; stderr goes to ``stderr_to`` when given (pipelines keep stderr live)."""
        if stream == STDERR:
            if self._stderr_to is not None:
                await self._stderr_to.write(STDERR, data)
            else:
                self.err += data
        else:
            self.out += data

    async def read(self) -> bytes | None:
        """Return the whole stdin buffer once, then EOF."""
        data, self._stdin = self._stdin, None
        return data


class _StdinReader:
    """Line/EOF oriented access to a :class:`ShellIO`'s stdin with pushback."""

    def __init__(self, io: ShellIO) -> None:
        self.io = io
        self.pending = b""
        self.eof = False

    async def read_all(self) -> bytes:
        chunks = [self.pending]
        self.pending = b""
        while not self.eof:
            chunk = await self.io.read()
            if chunk is None:
                self.eof = True
                break
            chunks.append(chunk)
        return b"".join(chunks)

    async def readline(self) -> bytes | None:
        while b"\n" not in self.pending and not self.eof:
            chunk = await self.io.read()
            if chunk is None:
                self.eof = True
                break
            self.pending += chunk
        if b"\n" in self.pending:
            line, self.pending = self.pending.split(b"\n", 1)
            return line + b"\n"
        if self.pending:
            line, self.pending = self.pending, b""
            return line
        return None


class _TTYWriter:
    """Wraps a ShellIO to translate ``\\n`` into ``\\r\\n`` like a terminal's onlcr."""

    def __init__(self, io: ShellIO) -> None:
        self.io = io

    async def write(self, stream: int, data: bytes) -> None:
        await self.io.write(STDOUT if stream == STDERR else stream, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    async def read(self) -> bytes | None:
        return await self.io.read()


class _Router:
    """ShellIO that sends stdout/stderr wherever the command's redirections say (None: /dev/null)."""

    def __init__(self) -> None:
        self.out: tuple[ShellIO, int] | None = None
        self.err: tuple[ShellIO, int] | None = None
        self.input: ShellIO | None = None

    async def write(self, stream: int, data: bytes) -> None:
        dest = self.err if stream == STDERR else self.out
        if dest is not None:
            await dest[0].write(dest[1], data)

    async def read(self) -> bytes | None:
        return None


# ----------------------------------------------------------------------------------------------
# The shell


@dataclass
class ShellEnv:
    """Everything a shell session needs to know about its container."""

    hostname: str
    env: dict[str, str]
    fs: FileSystem
    processes: list[tuple[int, str]] = field(default_factory=lambda: [(1, "/bin/sh")])
    user: str = "root"
    now: Callable[[], float] = time.time
    width: int = 80
    height: int = 24


Builtin = Callable[["Shell", list[str], ShellIO, _StdinReader], Awaitable[int]]


class Shell:
    """One shell session inside a simulated container."""

    def __init__(self, senv: ShellEnv) -> None:
        self.senv = senv
        self.vars: dict[str, str] = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOSTNAME": senv.hostname,
            "HOME": "/root" if senv.user == "root" else f"/home/{senv.user}",
            "TERM": "xterm",
        }
        self.vars.update(senv.env)
        self.cwd = "/"
        self.last_status = 0

    # -- helpers -----------------------------------------------------------------------------
    @property
    def fs(self) -> FileSystem:
        """The container filesystem."""
        return self.senv.fs

    def resolve(self, path: str) -> str:
        """Absolute normalised path for ``path`` relative to the working directory."""
        if path == "~" or path.startswith("~/"):
            path = self.vars.get("HOME", "/") + path[1:]
        joined = path if path.startswith("/") else posixpath.join(self.cwd, path)
        norm = posixpath.normpath(joined)
        return "/" + norm.lstrip("/") if norm != "/" else "/"

    def variable(self, name: str) -> str:
        """Value of a shell variable (``$?`` and ``$$`` included; ``=expr`` is ``$((expr))``)."""
        if name.startswith("="):
            return str(_arith(name[1:], self))
        if name == "?":
            return str(self.last_status)
        if name == "$":
            return str(len(self.senv.processes) + 100)
        if name == "#":
            return "0"
        if name == "0":
            return "sh"
        return self.vars.get(name, "")

    def prompt(self) -> str:
        """The busybox-style prompt: ``/ # `` for root, ``/app $ `` otherwise."""
        return f"{self.cwd} {'#' if self.senv.user == 'root' else '$'} "

    # -- entry points ------------------------------------------------------------------------
    async def exec(self, argv: list[str], io: ShellIO, *, stdin: bool, tty: bool) -> int:
        """Run ``argv`` as the container would for ``kubectl exec -- argv``; returns the exit code.

        A shell (``sh``/``bash``) with ``-c`` runs the script; a shell without arguments reads
        commands from stdin (interactive with a prompt when ``tty``).  Any other program that is
        not a builtin fails like runc does (the OCI error on stderr, exit code 126).
        """
        reader = _StdinReader(io)
        out: ShellIO = _TTYWriter(io) if tty else io
        if not argv:
            argv = ["sh"]
        prog = argv[0]
        try:
            if prog in SHELLS:
                rest = argv[1:]
                if rest[:1] == ["-c"] or (rest and rest[0].startswith("-") and "c" in rest[0]):
                    script = rest[1] if len(rest) > 1 else ""
                    return await self.run_script(script, out, reader)
                if rest and not rest[0].startswith("-"):
                    path = self.resolve(rest[0])
                    if not self.fs.is_file(path):
                        await out.write(STDERR, f"sh: can't open '{rest[0]}': No such file or directory\n".encode())
                        return 2
                    return await self.run_script(self.fs.files[path], out, reader)
                if tty:
                    return await self.interactive(io)
                if not stdin:
                    return 0
                return await self.read_commands(out, reader)
            name = posixpath.basename(prog)
            if name not in BUILTINS or name in ("cd", "export", "exit"):
                await out.write(STDERR, (not_found_message(prog) + "\n").encode())
                return 126
            return await self.run_argv([name, *argv[1:]], out, reader)
        except ExitShell as exc:
            return exc.code

    async def run_script(self, script: str, io: ShellIO, reader: _StdinReader | None = None) -> int:
        """Run a ``sh -c`` script; returns the status of the last command."""
        reader = reader or _StdinReader(BufferIO())
        try:
            # variables are expanded when each command runs (so `$?` sees the previous status)
            pipelines = parse(tokenize(script, _deferred))
        except ShellSyntaxError as exc:
            await io.write(STDERR, f"sh: {exc}\n".encode())
            self.last_status = 2
            return 2
        try:
            return await self.run_list(pipelines, io, reader)
        except (_Break, _Continue):  # outside any loop: ignored, like sh
            return 0

    async def run_list(self, nodes: list[Node], io: ShellIO, reader: _StdinReader) -> int:
        """Run nodes honouring ``&&``/``||``; returns the last status."""
        status = 0
        for node in nodes:
            if node.op == "&&" and status != 0:
                continue
            if node.op == "||" and status == 0:
                continue
            status = await self.run_node(node, io, reader)
            self.last_status = status
        return status

    async def run_node(self, node: Node, io: ShellIO, reader: _StdinReader) -> int:
        """Run one pipeline, loop or if."""
        if isinstance(node, Pipeline):
            return await self.run_pipeline(node, io, reader)
        if isinstance(node, Loop):
            status = 0
            while True:
                cond_status = await self.run_list(node.cond, io, reader)
                if (cond_status == 0) != (node.kind == "while"):
                    return status
                try:
                    status = await self.run_list(node.body, io, reader)
                except _Break:
                    return 0
                except _Continue:
                    status = 0
                # never starve the event loop, even for `while true; do echo x; done`
                await asyncio.sleep(0.001)
        if isinstance(node, ForLoop):
            status = 0
            for raw in node.words:
                for word in self.expand(raw).split() if "\x00" in raw else [raw]:
                    self.vars[node.var] = word
                    try:
                        status = await self.run_list(node.body, io, reader)
                    except _Break:
                        return 0
                    except _Continue:
                        status = 0
                    await asyncio.sleep(0)
            return status
        for cond_nodes, body in node.branches:
            if await self.run_list(cond_nodes, io, reader) == 0:
                return await self.run_list(body, io, reader)
        if node.orelse is not None:
            return await self.run_list(node.orelse, io, reader)
        return 0

    async def read_commands(self, io: ShellIO, reader: _StdinReader) -> int:
        """Non-interactive ``sh`` with stdin: execute each line as it arrives."""
        status = 0
        while True:
            line = await reader.readline()
            if line is None:
                return status
            status = await self.run_script(line.decode("utf-8", "replace"), io, reader)

    async def interactive(self, io: ShellIO) -> int:
        """Interactive session over a TTY: prompt, echo, line editing, Ctrl-C/Ctrl-D."""
        tty = _TTYWriter(io)
        line = bytearray()
        await io.write(STDOUT, self.prompt().encode())
        while True:
            chunk = await io.read()
            if chunk is None:
                return self.last_status
            i = 0
            while i < len(chunk):
                b = chunk[i]
                i += 1
                if b in (0x0D, 0x0A):  # Enter
                    await io.write(STDOUT, b"\r\n")
                    text = line.decode("utf-8", "replace")
                    line.clear()
                    if text.strip():
                        try:
                            await self.run_script(text, tty, _StdinReader(BufferIO()))
                        except ExitShell as exc:
                            return exc.code
                    if b == 0x0D and i < len(chunk) and chunk[i] == 0x0A:
                        i += 1
                    await io.write(STDOUT, self.prompt().encode())
                elif b in (0x7F, 0x08):  # backspace
                    if line:
                        # drop a whole UTF-8 character
                        del line[-1]
                        while line and (line[-1] & 0xC0) == 0x80:
                            del line[-1]
                        await io.write(STDOUT, b"\x08 \x08")
                elif b == 0x03:  # Ctrl-C
                    line.clear()
                    self.last_status = 130
                    await io.write(STDOUT, b"^C\r\n" + self.prompt().encode())
                elif b == 0x04:  # Ctrl-D
                    if not line:
                        await io.write(STDOUT, b"exit\r\n")
                        return self.last_status
                elif b == 0x15:  # Ctrl-U
                    await io.write(STDOUT, b"\x08 \x08" * len(line.decode("utf-8", "replace")))
                    line.clear()
                elif b == 0x0C:  # Ctrl-L
                    await io.write(STDOUT, b"\x1b[H\x1b[2J" + self.prompt().encode() + bytes(line))
                elif b == 0x1B:  # escape sequences (arrows): swallow "ESC [ X"
                    if i < len(chunk) and chunk[i] == ord("["):
                        i += 1
                        while i < len(chunk) and not (0x40 <= chunk[i] <= 0x7E):
                            i += 1
                        i += 1
                elif b >= 0x20 or b == 0x09:
                    line.append(b)
                    await io.write(STDOUT, bytes((b,)))

    async def run_pipeline(self, pipe: Pipeline, io: ShellIO, reader: _StdinReader) -> int:
        """Run the commands of a pipeline, feeding each one's stdout to the next one's stdin."""
        data: bytes | None = None
        status = 0
        for idx, cmd in enumerate(pipe.commands):
            last = idx == len(pipe.commands) - 1
            if cmd.stdin_file is not None:
                path = self.resolve(self.expand(cmd.stdin_file))
                if path == "/dev/null":
                    cmd_reader = _StdinReader(BufferIO(b""))
                elif not self.fs.is_file(path):
                    await io.write(STDERR, f"sh: can't open '{cmd.stdin_file}': no such file\n".encode())
                    return 1
                else:
                    cmd_reader = _StdinReader(BufferIO(self.fs.files[path].encode()))
            elif idx == 0:
                cmd_reader = reader
            else:
                cmd_reader = _StdinReader(BufferIO(data or b""))
            pipe_buf = None if last else BufferIO()
            files: dict[str, tuple[BufferIO, bool]] = {}
            router = _Router()
            # where stdout goes
            if cmd.stdout_file is not None:
                router.out = self._file_sink(cmd.stdout_file, cmd.append, files)
            elif cmd.stdout_to_stderr:
                router.out = (io, STDERR)
            elif pipe_buf is not None:
                router.out = (pipe_buf, STDOUT)
            else:
                router.out = (io, STDOUT)
            # where stderr goes
            if cmd.stderr_file is not None:
                router.err = self._file_sink(cmd.stderr_file, cmd.stderr_append, files)
            elif cmd.stderr_to_stdout:
                router.err = router.out
            else:
                router.err = (io, STDERR)
            status = await self.run_argv(cmd.argv, router, cmd_reader)
            for path, (buf, append) in files.items():
                if self.fs.is_dir(path):
                    await io.write(STDERR, f"sh: can't create {path}: Is a directory\n".encode())
                    status = 1
                else:
                    self.fs.write(path, buf.out.decode("utf-8", "replace"), append=append)
            data = bytes(pipe_buf.out) if pipe_buf is not None else b""
        return status

    def _file_sink(self, target: str, append: bool, files: dict[str, tuple[BufferIO, bool]]) -> tuple[ShellIO, int] | None:
        path = self.resolve(self.expand(target))
        if path == "/dev/null":
            return None
        if path not in files:
            files[path] = (BufferIO(), append)
        return files[path][0], STDOUT

    def expand(self, text: str) -> str:
        """Replace deferred ``$VAR`` markers with the variables' current values."""
        if "\x00" not in text:
            return text
        return _DEFERRED.sub(lambda m: self.variable(m.group(1)), text)

    async def run_argv(self, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
        """Run one simple command (assignments, builtins); unknown commands exit 127."""
        try:
            argv = [self.expand(a) for a in argv]
        except ShellSyntaxError as exc:
            await io.write(STDERR, f"sh: {exc}\n".encode())
            return 2
        if not argv:
            return 0
        if argv[0] == "break":
            raise _Break
        if argv[0] == "continue":
            raise _Continue
        if argv[0] in ("[", "test"):
            return _test(argv[1:-1] if argv[0] == "[" and argv[-1:] == ["]"] else argv[1:], self)
        # leading VAR=value assignments
        while argv and "=" in argv[0] and argv[0].split("=", 1)[0].isidentifier():
            key, value = argv[0].split("=", 1)
            self.vars[key] = value
            argv = argv[1:]
        if not argv:
            return 0
        name = argv[0]
        if name in SHELLS:
            sub = Shell(self.senv)
            sub.vars = dict(self.vars)
            sub.cwd = self.cwd
            try:
                rest = argv[1:]
                if rest[:1] == ["-c"]:
                    return await sub.run_script(rest[1] if len(rest) > 1 else "", io, reader)
                return await sub.read_commands(io, reader)
            except ExitShell as exc:
                return exc.code
        builtin = BUILTINS.get(posixpath.basename(name)) if "/" in name else BUILTINS.get(name)
        if builtin is None:
            await io.write(STDERR, f"sh: {name}: not found\n".encode())
            return 127
        return await builtin(self, argv, io, reader)


# ----------------------------------------------------------------------------------------------
# Builtins


async def _echo(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    args = argv[1:]
    newline = True
    escapes = False
    while args and args[0] in ("-n", "-e", "-ne", "-en", "-E"):
        flag = args.pop(0)
        newline = newline and "n" not in flag
        escapes = escapes or "e" in flag.replace("-E", "")
    text = " ".join(args)
    if escapes:
        text = text.encode("utf-8").decode("unicode_escape")
    await io.write(STDOUT, (text + ("\n" if newline else "")).encode())
    return 0


async def _printf(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    if len(argv) < 2:
        await io.write(STDERR, b"printf: usage: printf FORMAT [ARGUMENT...]\n")
        return 1
    fmt = argv[1].encode("utf-8").decode("unicode_escape")
    args = argv[2:]
    count = fmt.count("%s") + fmt.count("%d")
    out: list[str] = []
    while True:
        chunk_args = args[:count] if count else []
        args = args[count:] if count else []
        text = fmt.replace("%d", "%s")
        try:
            out.append(text % tuple(chunk_args + [""] * (count - len(chunk_args))))
        except (TypeError, ValueError):
            out.append(text)
        if not args:
            break
    await io.write(STDOUT, "".join(out).encode())
    return 0


async def _env(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    if argv[0] == "printenv" and len(argv) > 1:
        status = 0
        for name in argv[1:]:
            if name in sh.vars:
                await io.write(STDOUT, (sh.vars[name] + "\n").encode())
            else:
                status = 1
        return status
    text = "".join(f"{k}={v}\n" for k, v in sh.vars.items())
    await io.write(STDOUT, text.encode())
    return 0


async def _hostname(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    await io.write(STDOUT, (sh.senv.hostname + "\n").encode())
    return 0


async def _pwd(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    await io.write(STDOUT, (sh.cwd + "\n").encode())
    return 0


async def _cd(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    target = sh.resolve(argv[1] if len(argv) > 1 else sh.vars.get("HOME", "/"))
    if not sh.fs.is_dir(target):
        what = "Not a directory" if sh.fs.is_file(target) else "No such file or directory"
        await io.write(STDERR, f"sh: cd: can't cd to {argv[1]}: {what}\n".encode())
        return 2
    sh.cwd = target
    sh.vars["PWD"] = target
    return 0


def _mode(sh: Shell, path: str) -> str:
    return "drwxr-xr-x" if sh.fs.is_dir(path) else "-rw-r--r--"


async def _ls(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and len(a) > 1)
    paths = [a for a in argv[1:] if not (a.startswith("-") and len(a) > 1)] or ["."]
    long_format = "l" in flags
    show_all = "a" in flags
    status = 0
    stamp = datetime.fromtimestamp(sh.senv.now(), UTC).strftime("%b %d %H:%M")
    for n, raw in enumerate(paths):
        path = sh.resolve(raw)
        if sh.fs.is_file(path):
            names = [raw]
            base = posixpath.dirname(path)
        elif sh.fs.is_dir(path):
            names = sh.fs.listdir(path)
            if show_all:
                names = [".", "..", *names]
            base = path
        else:
            await io.write(STDERR, f"ls: {raw}: No such file or directory\n".encode())
            status = 1
            continue
        if len(paths) > 1 and sh.fs.is_dir(path):
            await io.write(STDOUT, f"{'' if n == 0 else chr(10)}{raw}:\n".encode())
        if long_format:
            lines = []
            for name in names:
                full = sh.resolve(posixpath.join(base, name)) if name not in (".", "..") else base
                size = len(sh.fs.files.get(full, "").encode()) if sh.fs.is_file(full) else 4096
                lines.append(f"{_mode(sh, full)}    1 root     root     {size:>8} {stamp} {name}\n")
            await io.write(STDOUT, "".join(lines).encode())
        elif names:
            await io.write(STDOUT, ("\n".join(names) + "\n").encode())
    return status


async def _cat(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    files = [a for a in argv[1:] if a != "-"] if len(argv) > 1 else []
    if not files:
        # stream stdin to stdout as it arrives
        if reader.pending:
            await io.write(STDOUT, reader.pending)
            reader.pending = b""
        while not reader.eof:
            chunk = await reader.io.read()
            if chunk is None:
                reader.eof = True
                break
            await io.write(STDOUT, chunk)
        return 0
    status = 0
    for raw in files:
        path = sh.resolve(raw)
        if sh.fs.is_dir(path):
            await io.write(STDERR, b"cat: read error: Is a directory\n")
            status = 1
        elif sh.fs.is_file(path):
            await io.write(STDOUT, sh.fs.files[path].encode())
        else:
            await io.write(STDERR, f"cat: can't open '{raw}': No such file or directory\n".encode())
            status = 1
    return status


async def _date(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    now = datetime.fromtimestamp(sh.senv.now(), UTC)
    fmt = next((a[1:] for a in argv[1:] if a.startswith("+")), "%a %b %e %H:%M:%S UTC %Y")
    await io.write(STDOUT, (now.strftime(fmt) + "\n").encode())
    return 0


async def _sleep(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    if len(argv) < 2:
        await io.write(STDERR, b"sleep: missing operand\n")
        return 1
    total = 0.0
    for arg in argv[1:]:
        mult = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(arg[-1:])
        try:
            total += float(arg[:-1]) * mult if mult else float(arg)
        except ValueError:
            await io.write(STDERR, f"sleep: invalid number '{arg}'\n".encode())
            return 1
    await asyncio.sleep(max(0.0, total))
    return 0


async def _exit(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    code = sh.last_status
    if len(argv) > 1:
        try:
            code = int(argv[1]) & 0xFF
        except ValueError:
            await io.write(STDERR, f"sh: exit: Illegal number: {argv[1]}\n".encode())
            code = 2
    raise ExitShell(code)


async def _true(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    return 0


async def _false(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    return 1


async def _whoami(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    await io.write(STDOUT, (sh.senv.user + "\n").encode())
    return 0


async def _id(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    uid = 0 if sh.senv.user == "root" else 1000
    await io.write(STDOUT, f"uid={uid}({sh.senv.user}) gid={uid}({sh.senv.user}) groups={uid}({sh.senv.user})\n".encode())
    return 0


async def _uname(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    if "-a" in argv[1:]:
        text = f"Linux {sh.senv.hostname} 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 x86_64 GNU/Linux\n"
    elif "-r" in argv[1:]:
        text = "6.1.0-18-amd64\n"
    elif "-m" in argv[1:]:
        text = "x86_64\n"
    else:
        text = "Linux\n"
    await io.write(STDOUT, text.encode())
    return 0


async def _ps(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    rows = ["PID   USER     TIME  COMMAND"]
    for pid, cmd in sh.senv.processes:
        rows.append(f"{pid:>5} {sh.senv.user:<8}  0:00 {cmd}")
    rows.append(f"{len(sh.senv.processes) + 100:>5} {sh.senv.user:<8}  0:00 ps {' '.join(argv[1:])}".rstrip())
    await io.write(STDOUT, ("\n".join(rows) + "\n").encode())
    return 0


async def _input_lines(sh: Shell, files: list[str], io: ShellIO, reader: _StdinReader) -> list[str] | None:
    if not files:
        data = await reader.read_all()
        return data.decode("utf-8", "replace").splitlines(keepends=True)
    lines: list[str] = []
    for raw in files:
        path = sh.resolve(raw)
        if not sh.fs.is_file(path):
            await io.write(STDERR, f"{raw}: No such file or directory\n".encode())
            return None
        lines.extend(sh.fs.files[path].splitlines(keepends=True))
    return lines


async def _grep(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    args = argv[1:]
    invert = ignore_case = count_only = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        flag = args.pop(0)
        invert = invert or "v" in flag
        ignore_case = ignore_case or "i" in flag
        count_only = count_only or "c" in flag
    if not args:
        await io.write(STDERR, b"Usage: grep [-vic] PATTERN [FILE]...\n")
        return 2
    pattern, files = args[0], args[1:]
    lines = await _input_lines(sh, files, io, reader)
    if lines is None:
        return 2
    needle = pattern.lower() if ignore_case else pattern
    hits = [ln for ln in lines if ((needle in (ln.lower() if ignore_case else ln)) != invert)]
    if count_only:
        await io.write(STDOUT, f"{len(hits)}\n".encode())
    else:
        await io.write(STDOUT, "".join(ln if ln.endswith("\n") else ln + "\n" for ln in hits).encode())
    return 0 if hits else 1


def _count_arg(args: list[str], default: int = 10) -> tuple[int, list[str]]:
    count = default
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-n" and i + 1 < len(args):
            count = int(args[i + 1])
            i += 2
            continue
        if a.startswith("-n"):
            count = int(a[2:])
        elif a.startswith("-") and a[1:].isdigit():
            count = int(a[1:])
        else:
            rest.append(a)
        i += 1
    return count, rest


async def _head_tail(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    try:
        count, files = _count_arg(argv[1:])
    except ValueError:
        await io.write(STDERR, f"{argv[0]}: invalid number\n".encode())
        return 1
    lines = await _input_lines(sh, files, io, reader)
    if lines is None:
        return 1
    chosen = lines[:count] if argv[0] == "head" else lines[-count:] if count else []
    await io.write(STDOUT, "".join(chosen).encode())
    return 0


async def _wc(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    files = [a for a in argv[1:] if not a.startswith("-")]
    lines = await _input_lines(sh, files, io, reader)
    if lines is None:
        return 1
    text = "".join(lines)
    counts = {"l": text.count("\n"), "w": len(text.split()), "c": len(text.encode())}
    chosen = [counts[f] for f in "lwc" if f in flags] or [counts["l"], counts["w"], counts["c"]]
    await io.write(STDOUT, (" ".join(f"{c:>7}" for c in chosen).strip() + "\n").encode())
    return 0


async def _seq(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    try:
        nums = [int(a) for a in argv[1:]]
    except ValueError:
        await io.write(STDERR, b"seq: invalid number\n")
        return 1
    if len(nums) == 1:
        first, step, last = 1, 1, nums[0]
    elif len(nums) == 2:
        first, step, last = nums[0], 1, nums[1]
    elif len(nums) == 3:
        first, step, last = nums
    else:
        await io.write(STDERR, b"seq: missing operand\n")
        return 1
    if step == 0:
        return 1
    await io.write(STDOUT, "".join(f"{i}\n" for i in range(first, last + (1 if step > 0 else -1), step)).encode())
    return 0


async def _mkdir(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    for raw in (a for a in argv[1:] if not a.startswith("-")):
        path = sh.resolve(raw)
        if sh.fs.is_file(path):
            await io.write(STDERR, f"mkdir: can't create directory '{raw}': File exists\n".encode())
            return 1
        sh.fs.mkdir(path)
    return 0


async def _touch(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    for raw in argv[1:]:
        path = sh.resolve(raw)
        if not sh.fs.is_file(path) and not sh.fs.is_dir(path):
            sh.fs.write(path, "")
    return 0


async def _rm(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    status = 0
    for raw in (a for a in argv[1:] if not a.startswith("-")):
        path = sh.resolve(raw)
        if sh.fs.is_dir(path) and "r" not in flags:
            await io.write(STDERR, f"rm: '{raw}' is a directory\n".encode())
            status = 1
        elif not sh.fs.remove(path) and "f" not in flags:
            await io.write(STDERR, f"rm: can't remove '{raw}': No such file or directory\n".encode())
            status = 1
    return status


async def _export(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    for arg in argv[1:]:
        if "=" in arg:
            key, value = arg.split("=", 1)
            sh.vars[key] = value
    return 0


async def _stty(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    if argv[1:] == ["size"]:
        await io.write(STDOUT, f"{sh.senv.height} {sh.senv.width}\n".encode())
    return 0


async def _which(sh: Shell, argv: list[str], io: ShellIO, reader: _StdinReader) -> int:
    status = 0
    for name in argv[1:]:
        if name in BUILTINS or name in SHELLS:
            await io.write(STDOUT, f"/bin/{posixpath.basename(name)}\n".encode())
        else:
            status = 1
    return status


BUILTINS: dict[str, Builtin] = {
    "echo": _echo,
    "printf": _printf,
    "env": _env,
    "printenv": _env,
    "hostname": _hostname,
    "pwd": _pwd,
    "cd": _cd,
    "ls": _ls,
    "cat": _cat,
    "date": _date,
    "sleep": _sleep,
    "exit": _exit,
    "true": _true,
    ":": _true,
    "false": _false,
    "whoami": _whoami,
    "id": _id,
    "uname": _uname,
    "ps": _ps,
    "grep": _grep,
    "head": _head_tail,
    "tail": _head_tail,
    "wc": _wc,
    "seq": _seq,
    "mkdir": _mkdir,
    "touch": _touch,
    "rm": _rm,
    "export": _export,
    "stty": _stty,
    "which": _which,
    "test": _true,
    "[": _true,
}


class _Break(Exception):
    """``break`` inside a loop."""


class _Continue(Exception):
    """``continue`` inside a loop."""


def _arith(expr: str, sh: Shell) -> int:
    """Evaluate ``$((expr))``: integers, variables, + - * / % and parentheses."""
    import ast

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return int(node.value)
        if isinstance(node, ast.Name):
            try:
                return int(sh.vars.get(node.id, "0") or 0)
            except ValueError:
                return 0
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = value(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = value(node.left), value(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and b == 0:
                raise ShellSyntaxError("arithmetic syntax error: division by zero")
            if isinstance(node.op, (ast.Div, ast.FloorDiv)):
                return int(a / b)
            if isinstance(node.op, ast.Mod):
                return a - b * int(a / b)
        raise ShellSyntaxError(f"arithmetic syntax error: {expr}")

    text = expr.replace("$", "").strip()
    try:
        return value(ast.parse(text or "0", mode="eval"))
    except SyntaxError:
        raise ShellSyntaxError(f"arithmetic syntax error: {expr}") from None


def _test(args: list[str], sh: Shell) -> int:
    """``test`` / ``[ ... ]`` for the common cases (strings, integers, -f/-d/-e/-z/-n, !)."""
    if args[:1] == ["!"]:
        return 1 - _test(args[1:], sh)
    if not args:
        return 1
    if len(args) == 1:
        return 0 if args[0] else 1
    if len(args) == 2:
        op, val = args
        if op == "-z":
            return 0 if not val else 1
        if op == "-n":
            return 0 if val else 1
        path = sh.resolve(val)
        if op == "-f":
            return 0 if sh.fs.is_file(path) else 1
        if op == "-d":
            return 0 if sh.fs.is_dir(path) else 1
        if op == "-e":
            return 0 if sh.fs.is_file(path) or sh.fs.is_dir(path) else 1
        return 2
    if len(args) == 3:
        a, op, b = args
        if op in ("=", "=="):
            return 0 if a == b else 1
        if op == "!=":
            return 0 if a != b else 1
        try:
            x, y = int(a), int(b)
        except ValueError:
            return 2
        result = {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y, "-ge": x >= y}.get(op)
        return 2 if result is None else (0 if result else 1)
    return 2


def not_found_message(prog: str) -> str:
    """The runc error kubectl shows when exec'ing a program that does not exist in the image."""
    return (
        "OCI runtime exec failed: exec failed: unable to start container process: exec: "
        f'"{prog}": executable file not found in $PATH: unknown'
    )
