"""Graphviz at one edge (``spine.render.svg``): real ``dot`` where it is installed, small
shell scripts standing in for it where the test is about the process (failing, hanging,
running several at once)."""

from __future__ import annotations

import shutil
import stat
import textwrap
import time
from pathlib import Path

import pytest

from spine.core.errors import GraphvizNotFoundError
from spine.render.svg import Graphviz, GraphvizError, NoPicture, Picture, available_cpus, draw_svg

needs_sh = pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell for the stand-in programs")

GRAPH = 'digraph "%s" { a -> b }'


def program(folder: Path, name: str, body: str) -> str:
    """An executable shell script standing in for ``dot``; returns its path."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


class TestPicture:
    def test_holds_svg_or_reason_not_both(self) -> None:
        """A Picture with both an SVG and a reason, or with neither, is refused."""
        with pytest.raises(ValueError):
            Picture(svg="<svg/>", missing=NoPicture.FAILED)
        with pytest.raises(ValueError):
            Picture()

    def test_require_maps_missing_graphviz_to_not_found(self) -> None:
        """``require()`` on a picture without Graphviz raises GraphvizNotFoundError with the reason."""
        with pytest.raises(GraphvizNotFoundError, match="install"):
            Picture(missing=NoPicture.NO_GRAPHVIZ, reason="install it").require()

    def test_require_maps_other_failures_to_graphviz_error(self) -> None:
        """``require()`` on a failed or timed-out picture raises GraphvizError."""
        for missing in (NoPicture.FAILED, NoPicture.TIMED_OUT):
            with pytest.raises(GraphvizError):
                Picture(missing=missing, reason="x").require()


class TestDrawSvg:
    @pytest.mark.needs_dot
    def test_real_dot_draws_svg(self, dot_exe: str) -> None:
        """``draw_svg`` with Graphviz's dot returns the SVG of the graph."""
        picture = draw_svg(GRAPH % "g1", dot_exe)
        assert picture.drawn and picture.missing is None
        assert "<svg" in picture.require() and "g1" in picture.svg

    @pytest.mark.needs_dot
    def test_invalid_dot_is_a_failed_picture_with_graphviz_words(self, dot_exe: str) -> None:
        """DOT that Graphviz rejects gives a FAILED picture quoting Graphviz's error."""
        picture = draw_svg("digraph { a -> }", dot_exe)
        assert picture.missing is NoPicture.FAILED
        assert picture.reason.startswith("Graphviz failed (exit 1)") and "syntax error" in picture.reason

    def test_missing_program_path_says_what_to_change(self, tmp_path: Path) -> None:
        """A configured path that does not exist gives NO_GRAPHVIZ naming the path, the settings and how to install."""
        picture = draw_svg(GRAPH % "g", str(tmp_path / "no-dot"))
        assert picture.missing is NoPicture.NO_GRAPHVIZ
        for words in (str(tmp_path / "no-dot"), "SPINE_DOT", "[tool.spine] dot", "apt-get install graphviz"):
            assert words in picture.reason

    def test_dot_not_on_path_gives_the_install_hint(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The default ``dot`` missing from PATH gives the install hint (the process's PATH, looked up by the OS)."""
        monkeypatch.setenv("PATH", str(tmp_path))
        picture = draw_svg(GRAPH % "g")
        assert picture.missing is NoPicture.NO_GRAPHVIZ
        assert picture.reason.startswith("Graphviz `dot` is not on PATH; install it")

    @needs_sh
    def test_hanging_program_is_stopped_at_the_timeout(self, tmp_path: Path) -> None:
        """A ``dot`` that does not finish within the timeout is killed and gives a TIMED_OUT picture."""
        hang = program(tmp_path, "hang", "exec sleep 60\n")
        picture = draw_svg(GRAPH % "g", hang, timeout=0.2)
        assert picture.missing is NoPicture.TIMED_OUT
        assert "0.2 s" in picture.reason


class TestGraphviz:
    @pytest.mark.needs_dot
    def test_draw_all_returns_pictures_in_input_order(self, dot_exe: str) -> None:
        """``draw_all`` returns one drawing per source, in the order given, each of its own graph."""
        with Graphviz(dot_exe, jobs=2) as gv:
            drawings = gv.draw_all([GRAPH % "first", 'digraph "second" { x -> y -> z }', GRAPH % "third"])
            pictures = [d.result() for d in drawings]
        assert [p.drawn for p in pictures] == [True, True, True]
        for picture, name in zip(pictures, ("first", "second", "third"), strict=True):
            assert f"<title>{name}</title>" in picture.svg

    @needs_sh
    def test_one_job_runs_one_dot_at_a_time(self, tmp_path: Path) -> None:
        """With ``jobs=1`` each run ends before the next starts."""
        log = tmp_path / "log"
        fake = program(tmp_path, "fake", f"echo start >> {log}\ncat > /dev/null\nsleep 0.05\necho end >> {log}\necho '<svg/>'\n")
        with Graphviz(fake, jobs=1) as gv:
            for d in gv.draw_all([GRAPH % i for i in range(3)]):
                assert d.result().svg == "<svg/>\n"
        assert log.read_text().split() == ["start", "end"] * 3

    @needs_sh
    def test_two_jobs_run_two_dots_together(self, tmp_path: Path) -> None:
        """With ``jobs=2`` two runs are alive at once: each waits (up to 10 s) to see the other start."""
        log = tmp_path / "log"
        fake = program(
            tmp_path,
            "fake",
            f"""\
            echo start >> {log}
            cat > /dev/null
            i=0
            while [ "$(grep -c start {log})" -lt 2 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
            echo "saw $(grep -c start {log})" >> {log}
            echo '<svg/>'
            """,
        )
        with Graphviz(fake, jobs=2) as gv:
            for d in gv.draw_all([GRAPH % 1, GRAPH % 2]):
                d.result()
        assert log.read_text().split("\n")[:2] == ["start", "start"]
        assert log.read_text().count("saw 2") == 2

    @needs_sh
    def test_largest_source_starts_first(self, tmp_path: Path) -> None:
        """``draw_all`` hands the longest DOT text to Graphviz first (its layout takes longest)."""
        log = tmp_path / "log"
        fake = program(tmp_path, "fake", f"wc -c >> {log}\necho '<svg/>'\n")
        sources = ["digraph { a }", "digraph { " + "x -> y; " * 50 + "}", "digraph { a -> b }"]
        with Graphviz(fake, jobs=1) as gv:
            for d in gv.draw_all(sources):
                d.result()
        sizes = [int(x) for x in log.read_text().split()]
        assert sizes == sorted((len(s) for s in sources), reverse=True)

    @needs_sh
    def test_close_kills_what_still_runs(self, tmp_path: Path) -> None:
        """Leaving the ``with`` block kills a running ``dot``: its drawing ends as FAILED, not after a minute as drawn."""
        started = tmp_path / "started"
        hang = program(tmp_path, "hang", f"touch {started}\nexec sleep 60\n")
        with Graphviz(hang, jobs=1) as gv:
            drawing = gv.draw(GRAPH % "g")
            for _ in range(1000):
                if started.exists():
                    break
                time.sleep(0.01)
        assert started.exists()
        assert drawing.result().missing is NoPicture.FAILED

    @needs_sh
    def test_queued_drawing_is_cancelled_on_close(self, tmp_path: Path) -> None:
        """A drawing still waiting for a slot when the pool closes says it was not drawn."""
        hang = program(tmp_path, "hang", "exec sleep 60\n")
        with Graphviz(hang, jobs=1) as gv:
            gv.draw(GRAPH % "running")
            queued = gv.draw(GRAPH % "queued")
        picture = queued.result()
        assert picture.missing is NoPicture.NOT_DRAWN and "cancelled" in picture.reason

    def test_closed_pool_refuses_new_work(self) -> None:
        """Drawing on a closed pool is a RuntimeError, not a silent no-op."""
        gv = Graphviz()
        gv.close()
        with pytest.raises(RuntimeError, match="closed"):
            gv.draw(GRAPH % "g")

    def test_jobs_must_be_positive(self) -> None:
        """``jobs=0`` is refused early."""
        with pytest.raises(ValueError, match="jobs"):
            Graphviz(jobs=0)

    def test_default_jobs_is_the_cpus_available(self) -> None:
        """Without ``jobs`` the pool runs as many ``dot`` at once as this process has CPUs (at least one)."""
        with Graphviz() as gv:
            assert gv.jobs == available_cpus() >= 1
