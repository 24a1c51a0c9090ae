"""Unit tests of the simulator's built-in shell (tamer_tui.sim.shell)."""

from __future__ import annotations

import asyncio

import pytest

from tamer_tui.sim import shell as sh


def make_env(**files: str) -> sh.ShellEnv:
    fs = sh.FileSystem(files={"/etc/hostname": "web-1\n", "/etc/os-release": 'ID=alpine\n', "/proc/1/cmdline": "nginx\0-g\0",
                              **{k.replace("__", "/"): v for k, v in files.items()}},
                       dirs={"/tmp", "/app"})
    return sh.ShellEnv(hostname="web-1", env={"GREETING": "hello world", "POD_NAMESPACE": "shop"}, fs=fs, now=lambda: 1_700_000_000.0)


class FeedIO:
    """A ShellIO with scripted stdin chunks; collects stdout/stderr."""

    def __init__(self, chunks: list[bytes] | None = None) -> None:
        self.chunks = list(chunks or [])
        self.out = bytearray()
        self.err = bytearray()

    async def write(self, stream: int, data: bytes) -> None:
        (self.err if stream == sh.STDERR else self.out).extend(data)

    async def read(self) -> bytes | None:
        await asyncio.sleep(0)
        return self.chunks.pop(0) if self.chunks else None


async def run(argv: list[str], stdin: list[bytes] | None = None, tty: bool = False, env: sh.ShellEnv | None = None) -> tuple[int, str, str]:
    io = FeedIO(stdin)
    code = await sh.Shell(env or make_env()).exec(argv, io, stdin=stdin is not None, tty=tty)
    return code, io.out.decode(), io.err.decode()


async def test_echo_and_variables() -> None:
    """echo prints its arguments; $VAR and ${VAR} expand from the container env, single quotes do not."""
    code, out, err = await run(["sh", "-c", "echo $GREETING; echo \"${POD_NAMESPACE}-x\"; echo '$GREETING'"])
    assert (code, err) == (0, "")
    assert out == "hello world\nshop-x\n$GREETING\n"


async def test_exit_codes_and_operators() -> None:
    """`exit N` sets the status; `&&` / `||` short-circuit like sh; $? holds the last status."""
    assert (await run(["sh", "-c", "exit 3"]))[0] == 3
    code, out, _ = await run(["sh", "-c", "false && echo no; true && echo yes; false || echo alt; echo $?"])
    assert code == 0
    assert out == "yes\nalt\n0\n"
    code, out, _ = await run(["sh", "-c", "echo before; exit 42; echo after"])
    assert (code, out) == (42, "before\n")


async def test_unknown_command_is_127_on_stderr() -> None:
    """An unknown command prints `sh: foo: not found` on stderr and exits 127."""
    code, out, err = await run(["sh", "-c", "foo --bar"])
    assert (code, out, err) == (127, "", "sh: foo: not found\n")


async def test_exec_of_missing_binary_is_oci_error() -> None:
    """exec of a program that is not in the image fails like runc: OCI message, exit 126."""
    code, _, err = await run(["/usr/bin/psql", "-c", "select 1"])
    assert code == 126
    assert 'exec: "/usr/bin/psql": executable file not found in $PATH' in err


async def test_filesystem_commands() -> None:
    """hostname, cat, ls, pwd, cd and redirects work against the fake filesystem."""
    code, out, err = await run(["sh", "-c", "hostname; cat /etc/hostname; cd /etc && pwd; ls; echo data > /tmp/f; cat /tmp/f; "
                                "echo more >> /tmp/f; wc -l /tmp/f; cat /nope"])
    assert code == 1
    assert out.splitlines()[:3] == ["web-1", "web-1", "/etc"]
    assert "hostname" in out.splitlines() and "os-release" in out.splitlines()
    assert "data\n" in out and out.rstrip().endswith("2")
    assert err == "cat: can't open '/nope': No such file or directory\n"


async def test_cd_errors_and_proc_cmdline() -> None:
    """cd into a missing directory fails with sh's message; /proc/1/cmdline holds NUL-separated argv."""
    code, out, err = await run(["sh", "-c", "cd /does/not/exist"])
    assert code == 2 and "can't cd to /does/not/exist" in err
    code, out, _ = await run(["cat", "/proc/1/cmdline"])
    assert out == "nginx\0-g\0"


async def test_pipes_grep_head() -> None:
    """Pipelines feed stdout into the next command (seq | grep | head)."""
    code, out, _ = await run(["sh", "-c", "seq 20 | grep 1 | head -n 3"])
    assert (code, out) == (0, "1\n10\n11\n")


async def test_env_lists_container_env_and_hostname() -> None:
    """env shows the container variables plus HOSTNAME and PATH; printenv reads one."""
    code, out, _ = await run(["env"])
    lines = out.splitlines()
    assert "HOSTNAME=web-1" in lines and "GREETING=hello world" in lines
    assert any(line.startswith("PATH=") for line in lines)
    assert (await run(["printenv", "POD_NAMESPACE"]))[1] == "shop\n"


async def test_sleep_really_waits() -> None:
    """sleep N suspends for N seconds (fractions allowed)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    code, _, _ = await run(["sleep", "0.2"])
    assert code == 0 and loop.time() - start >= 0.19


async def test_cat_streams_stdin() -> None:
    """cat without arguments copies stdin until EOF (what `kubectl exec -i pod -- cat` relies on)."""
    code, out, _ = await run(["cat"], stdin=[b"line1\n", b"line2\n"])
    assert (code, out) == (0, "line1\nline2\n")


async def test_non_interactive_sh_reads_commands_from_stdin() -> None:
    """`sh` with stdin but no TTY executes each line it reads, without a prompt."""
    code, out, _ = await run(["sh"], stdin=[b"echo one\n", b"echo two; exit 5\n", b"echo never\n"])
    assert (code, out) == (5, "one\ntwo\n")


async def test_interactive_tty_prompt_echo_and_exit() -> None:
    """With a TTY: prompt `/ # `, typed characters echoed, CRLF output, backspace edits, exit N ends it."""
    code, out, _ = await run(["sh"], stdin=[b"echo hx\x7fi\r", b"exit 4\r"], tty=True)
    assert code == 4
    assert out.startswith("/ # ")
    assert "echo hx\x08 \x08i\r\nhi\r\n/ # " in out


async def test_interactive_ctrl_c_and_ctrl_d() -> None:
    """Ctrl-C discards the line and shows a new prompt; Ctrl-D on an empty line exits."""
    code, out, _ = await run(["sh"], stdin=[b"echo abc\x03", b"\x04"], tty=True)
    assert code == 130
    assert "^C\r\n/ # " in out and out.endswith("exit\r\n")


async def test_stty_size_follows_resize() -> None:
    """`stty size` reports the terminal size the resize channel set."""
    env = make_env()
    env.width, env.height = 132, 43
    code, out, _ = await run(["stty", "size"], env=env)
    assert out == "43 132\n"


@pytest.mark.parametrize(
    ("script", "message"),
    [("echo 'unterminated", "unterminated quoted string"), ("&& echo x", "unexpected '&&'"), ("echo x |", "unexpected end")],
)
def test_syntax_errors(script: str, message: str) -> None:
    """Broken scripts are rejected by the parser with sh-like messages."""
    with pytest.raises(sh.ShellSyntaxError) as info:
        sh.parse(sh.tokenize(script, lambda _n: ""))
    assert message.split()[0] in str(info.value)


async def test_syntax_error_exit_status() -> None:
    """sh -c with a syntax error reports it on stderr and exits 2."""
    code, _, err = await run(["sh", "-c", "echo 'oops"])
    assert code == 2 and err.startswith("sh: syntax error")


async def test_redirections_and_status_variable() -> None:
    """>&2, 2>&1, 2>/dev/null and > file work; $? is expanded when the command runs."""
    code, out, err = await run(["sh", "-c", "echo out; echo err >&2; ls /nope 2>/dev/null; echo $?; ls /nope 2>&1 | grep -c No"])
    assert (code, out, err) == (0, "out\n1\n1\n", "err\n")
    code, out, _ = await run(["sh", "-c", "echo x > /tmp/a 2>&1; echo y >> /tmp/a; cat /tmp/a"])
    assert out == "x\ny\n"


async def test_loops_conditionals_and_arithmetic() -> None:
    """while/until/for loops, if/elif/else, test/[ ], break and $((arithmetic)) behave like sh."""
    script = (
        "i=0; while [ $i -lt 3 ]; do echo w$i; i=$((i+1)); done; "
        "until [ $i -eq 0 ]; do i=$((i-1)); done; echo i=$i; "
        "for x in a b c d; do if [ $x = c ]; then break; elif [ $x = a ]; then continue; else echo f$x; fi; done; "
        "if [ -d /etc ] && [ ! -f /nope ]; then echo dirs-ok; fi; echo $((6*7)) $((7/2)) $((7%3))"
    )
    code, out, err = await run(["sh", "-c", script])
    assert (code, err) == (0, "")
    assert out == "w0\nw1\nw2\ni=0\nfb\ndirs-ok\n42 3 1\n"


async def test_endless_loop_yields_to_the_event_loop() -> None:
    """`while true; do echo x; done` keeps producing output without blocking other tasks."""
    env = make_env()
    io = FeedIO()
    task = asyncio.create_task(sh.Shell(env).exec(["sh", "-c", "while true; do echo x; done"], io, stdin=False, tty=False))
    await asyncio.sleep(0.2)
    assert not task.done() and io.out.count(b"x\n") > 10
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
