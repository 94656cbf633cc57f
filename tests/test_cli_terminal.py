"""The CLI and the terminal: colour (NO_COLOR, TERM=dumb, --color) and a reader that goes away."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from spine.cli.output import colour_enabled

SPINE = Path(sys.executable).with_name("spine")
ANSI = "\x1b["

INVALID = """\
apiVersion: spine.io/v1
kind: PipelineGroup
metadata:
  name: demo.bad
spec:
  pipelines:
    - name: a
      pipeline: x.a
      depends_on: [nowhere]
"""


class _Tty:
    def isatty(self) -> bool:
        return True


class _Pipe:
    def isatty(self) -> bool:
        return False


class TestColourChoice:
    def test_terminal_gets_colour(self) -> None:
        """With no flag and no NO_COLOR, a terminal gets colour."""
        assert colour_enabled(None, _Tty(), {"TERM": "xterm-256color"}) is True

    def test_pipe_gets_none(self) -> None:
        """With no flag, output to a pipe is not coloured."""
        assert colour_enabled(None, _Pipe(), {}) is False

    @pytest.mark.parametrize("value", ["1", "0", "false", "yes please"])
    def test_no_color_with_any_value_turns_it_off(self, value: str) -> None:
        """NO_COLOR set to any non-empty value turns colour off, even on a terminal."""
        assert colour_enabled(None, _Tty(), {"NO_COLOR": value}) is False

    def test_empty_no_color_is_ignored(self) -> None:
        """An empty NO_COLOR is ignored, as no-color.org says."""
        assert colour_enabled(None, _Tty(), {"NO_COLOR": ""}) is True

    def test_dumb_terminal_gets_none(self) -> None:
        """TERM=dumb turns colour off on a terminal."""
        assert colour_enabled(None, _Tty(), {"TERM": "dumb"}) is False

    @pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
    def test_color_flag_wins(self, env: dict[str, str]) -> None:
        """--color is an explicit request: it wins over NO_COLOR and TERM=dumb."""
        assert colour_enabled(True, _Pipe(), env) is True

    def test_no_color_flag_wins_on_a_terminal(self) -> None:
        """--no-color turns colour off on a terminal."""
        assert colour_enabled(False, _Tty(), {}) is False


class _Run:
    """:func:`spine.cli.app.run` as CliRunner wants it (a command with ``main``)."""

    name = "spine"

    def main(self, args: list[str] | None = None, **_: object) -> None:
        from spine.cli.app import run

        raise SystemExit(run(list(args or [])))


def _validate_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    """stdout of ``spine group validate`` run as if stdout were a terminal."""
    (tmp_path / "bad.yaml").write_text(INVALID)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("spine.cli.output._isatty", lambda stream: True)
    result = CliRunner().invoke(_Run(), ["--config", os.devnull, "group", "validate", "bad.yaml"], color=True)
    assert result.exit_code == 1, result.output
    return result.stdout


class TestColourInTheCli:
    def test_terminal_output_is_coloured(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """validate on a terminal colours its verdict (the control for the tests below)."""
        assert ANSI in _validate_on_a_terminal(tmp_path, monkeypatch)

    def test_no_color_environment(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """NO_COLOR=1 leaves validate's terminal output without escape codes."""
        assert ANSI not in _validate_on_a_terminal(tmp_path, monkeypatch, NO_COLOR="1")

    def test_dumb_terminal(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """TERM=dumb leaves validate's terminal output without escape codes."""
        assert ANSI not in _validate_on_a_terminal(tmp_path, monkeypatch, TERM="dumb")


def _on_a_pty(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """What the installed spine prints with stdout on a real pseudo-terminal."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([str(SPINE), *args], cwd=cwd, env=env, stdout=follower, stderr=subprocess.DEVNULL, timeout=60)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the follower side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 1
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(not SPINE.exists(), reason="the spine script is not installed next to this Python")
class TestColourOnARealTerminal:
    @pytest.fixture
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_") and k != "NO_COLOR"}
        env["TERM"] = "xterm"
        return env

    def test_pty_gets_colour(self, tmp_path: Path, env: dict[str, str]) -> None:
        """The installed spine colours its output on a real terminal (the control)."""
        (tmp_path / "bad.yaml").write_text(INVALID)
        assert ANSI in _on_a_pty(["--config", os.devnull, "group", "validate", "bad.yaml"], tmp_path, env)

    def test_pty_with_no_color(self, tmp_path: Path, env: dict[str, str]) -> None:
        """With NO_COLOR set, the installed spine prints no escape codes on a real terminal."""
        (tmp_path / "bad.yaml").write_text(INVALID)
        out = _on_a_pty(["--config", os.devnull, "group", "validate", "bad.yaml"], tmp_path, {**env, "NO_COLOR": "1"})
        assert "demo.bad" in out
        assert ANSI not in out


def _many_groups(n: int, *, broken: bool = False) -> str:
    """``n`` one-step groups in one file; with ``broken``, the last depends on a missing step."""
    docs = [
        f"apiVersion: spine.io/v1\nkind: PipelineGroup\nmetadata: {{name: demo.g{i}}}\n"
        f"spec:\n  pipelines:\n    - {{name: a, pipeline: x.a{i}}}\n"
        for i in range(n)
    ]
    if broken:
        docs[-1] += "    - {name: b, pipeline: x.b, depends_on: [nowhere]}\n"
    return "---\n".join(docs)


@pytest.mark.skipif(not SPINE.exists(), reason="the spine script is not installed next to this Python")
@pytest.mark.skipif(not Path("/bin/bash").exists(), reason="needs bash for `set -o pipefail`")
class TestReaderGoesAway:
    """``spine … | head -2`` with far more output than a pipe holds, so the pipe breaks mid-output."""

    def _head_2(self, tmp_path: Path, text: str) -> tuple[int, str]:
        (tmp_path / "many.yaml").write_text(text)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
        script = f"set -o pipefail; '{SPINE}' --config /dev/null group validate many.yaml --format json 2>err.txt | head -2 > /dev/null"
        proc = subprocess.run(["/bin/bash", "-c", script], cwd=tmp_path, env=env, timeout=120)
        return proc.returncode, (tmp_path / "err.txt").read_text()

    def test_valid_groups_exit_0_without_a_traceback(self, tmp_path: Path) -> None:
        """validate --format json | head -2 exits 0 for valid groups and prints nothing on stderr."""
        code, err = self._head_2(tmp_path, _many_groups(3000))
        assert err == ""
        assert code == 0

    def test_invalid_groups_still_exit_1(self, tmp_path: Path) -> None:
        """After the reader has gone, the command still finishes: an invalid group exits 1, quietly."""
        code, err = self._head_2(tmp_path, _many_groups(3000, broken=True))
        assert err == ""
        assert code == 1
