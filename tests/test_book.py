"""Every notebook executes at the ``smoke`` profile, the book builds, and a real browser renders it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from dlic_lib.book import build_book
from dlic_lib.notebooks import list_notebooks, run_notebook

NOTEBOOKS = list_notebooks()


@pytest.fixture(scope="session")
def book_build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("book")


def _executed(build_dir: Path, notebook: Path) -> Path:
    """Run ``notebook`` at smoke once; what it trains, caches and writes stays in ``build_dir``."""
    out = build_dir / "_build" / "executed" / f"{notebook.stem}.ipynb"
    if not out.is_file():
        with pytest.MonkeyPatch.context() as mp:
            for name in ("CACHE_DIR", "CHECKPOINT_DIR", "RESULTS_DIR"):
                mp.setenv(f"DLIC_{name}", str(build_dir / name.lower()))
            run_notebook(notebook, "smoke", output=out, progress=False)
    return out


def test_there_are_notebooks():
    assert any(nb.stem == "00_datasets" for nb in NOTEBOOKS)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_executes_at_smoke(notebook, book_build_dir):
    start = time.perf_counter()
    out = _executed(book_build_dir, notebook)
    elapsed = time.perf_counter() - start
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = "\n".join(str(o.get("data", {}).get("text/html", "")) + str(o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "smoke" in text and "torch" in text, "the provenance record (profile, versions) must be printed"
    print(f"{notebook.stem}: {elapsed:.1f} s at smoke")


def test_terminal_shows_no_kernel_log(tmp_path, capfd, monkeypatch):
    """The kernel's own notices (e.g. "Kernel is running over TCP without encryption") stay out of the terminal."""
    monkeypatch.setenv("DLIC_RESULTS_DIR", str(tmp_path / "results"))
    run_notebook(NOTEBOOKS[0], "smoke", output=tmp_path / "out.ipynb", progress=False)
    err = capfd.readouterr().err
    assert "IPKernelApp" not in err and "WARNING" not in err, err[:300]


def _figure_outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "application/vnd.plotly.v1+json" in o.get("data", {})]


def test_datasets_chapter_has_interactive_figure_with_local_fallback(book_build_dir):
    nb = nbformat.read(_executed(book_build_dir, NOTEBOOKS[0]), as_version=4)
    figures = _figure_outputs(nb)
    assert figures, "the datasets chapter must show a plotly figure"
    html = figures[0]["data"]["text/html"]
    assert "Plotly.newPlot" in html and "cdn.plot.ly" not in html


def test_book_runs_on_a_fresh_offline_machine(tmp_path, monkeypatch):
    """No cache, no mirror, no network: image sets fall back to the labelled embedded default and
    chapters that need an unavailable dataset say so instead of failing."""
    monkeypatch.setenv("DLIC_DATA_MIRROR", str(tmp_path / "no-mirror"))
    monkeypatch.setenv("DLIC_DATA_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("DLIC_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("DLIC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    for nb in NOTEBOOKS:
        out = run_notebook(nb, "smoke", output=tmp_path / f"{nb.stem}.ipynb", progress=False)
        text = out.read_text()
        if nb.stem == "00_datasets":
            assert "EMBEDDED DEFAULT" in text and "astronaut.png" in text and "NOT AVAILABLE" in text
        if nb.stem == "01_subjective_analysis":
            assert "Dataset 'tlabs-image-quality' is not available" in text and "Dataset 'jpeg-aic4' is not available" in text


@pytest.fixture(scope="session")
def built_book(book_build_dir) -> Path:
    for nb in NOTEBOOKS:
        _executed(book_build_dir, nb)
    return build_book("smoke", build_dir=book_build_dir, execute=False)


#: an absolute local path (not inside base64 data or a URL)
_LOCAL_PATH = re.compile(r"(?<![A-Za-z0-9+/=._~-])/(?:tmp|root|home|work)/")
#: what a tqdm bar leaves in a text output
_PROGRESS_BAR = re.compile(r"\d+%\||\|\s*\d+/\d+ \[|\r(?!\n)")


def _stream_text(nb, name: str) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                     if o.get("output_type") == "stream" and o.get("name") == name)


def test_executed_notebooks_have_no_progress_bars_warnings_or_local_paths(book_build_dir):
    for notebook in NOTEBOOKS:
        path = _executed(book_build_dir, notebook)
        nb = nbformat.read(path, as_version=4)
        raw = path.read_text(encoding="utf-8")
        assert not _LOCAL_PATH.search(raw), f"{path.name}: {_LOCAL_PATH.search(raw).group(0)}… in " + raw[
            max(0, _LOCAL_PATH.search(raw).start() - 80):_LOCAL_PATH.search(raw).start() + 80]
        text = _stream_text(nb, "stdout") + _stream_text(nb, "stderr")
        assert not _PROGRESS_BAR.search(text), f"{path.name} holds progress output: {text[:300]!r}"
        assert "Warning" not in _stream_text(nb, "stderr"), f"{path.name} shows warnings: {_stream_text(nb, 'stderr')[:300]}"


def test_built_pages_have_no_progress_bars_or_local_paths(built_book):
    pages = [built_book / "index.html", *sorted((built_book / "chapters").glob("*.html"))]
    assert len(pages) > 1
    for page in pages:
        html = page.read_text(encoding="utf-8")
        found = _LOCAL_PATH.search(html)
        assert found is None, f"{page.name}: " + html[max(0, found.start() - 80):found.start() + 80]
        assert not re.search(r"\d+%\|[^<]*\|\s*\d+/\d+ \[", html), f"{page.name} holds a progress bar"


def test_book_builds_with_local_plotly(built_book):
    index = built_book / "index.html"
    chapter = built_book / "chapters" / "00_datasets.html"
    assert index.is_file() and chapter.is_file()
    assert (built_book / "_static" / "plotly.min.js").stat().st_size > 1_000_000
    page = chapter.read_text()
    assert re.search(r'<script src="\.\./_static/plotly\.min\.js', page)
    assert "Plotly.newPlot" in page and "data:image/jpeg;base64" in page  # figure + Kodak thumbnails
    assert "kodim01.png" in page


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.browser
def test_browser_renders_every_plotly_figure_offline(built_book, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (installed by .ci/run)")
        pytest.skip("chromium not installed")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=15000"]
    pages = sorted((built_book / "chapters").glob("*.html"))
    checked = 0
    for page in pages:
        expected = page.read_text().count("Plotly.newPlot(")
        if not expected:
            continue
        dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
        rendered = len(re.findall(r'class="[^"]*js-plotly-plot', dom))
        assert rendered == expected, f"{page.name}: {rendered} of {expected} plotly figures rendered"
        traces = re.findall(r'class="trace (?:scatter|bars)', dom)
        assert len(traces) >= expected, f"{page.name}: figures rendered without traces"
        checked += 1
    assert checked >= 1
    shot = tmp_path / "chapter.png"
    subprocess.run([browser, *flags, "--window-size=1200,1600", f"--screenshot={shot}", (built_book / "chapters" / "00_datasets.html").as_uri()],
                   capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 20_000
