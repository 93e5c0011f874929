"""JupyterLab in a real browser: run notebook 02 in headless Chromium, in English and in
Chinese (notebooks/en/, notebooks/zh/), move the block-shape widget's controls as a student
would, and check what the page shows, every label and readout in the notebook's language and
the Chinese drawn with a CJK font (no tofu); then the English widget on a live slide
(jupyterlab-slideshow), as an instructor would present it.

Built on pytest-playwright's fixtures (``browser``, ``page``), launched on Debian's
/usr/bin/chromium (no browser download). Deselect with ``-m "not browser"``. Skipped (with the
reason) only where Chromium or pytest-playwright is missing outside CI; under CI (CI=true) a
missing one fails. Screenshots go to build/screenshots/ (or $D2LRESNET_SCREENSHOTS), and a
failed test leaves one of the page as it was.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from d2lresnet import i18n
from d2lresnet.shapes import block_output_shape

UNDER_CI = os.environ.get("CI") == "true"
if not UNDER_CI:
    pytest.importorskip("pytest_playwright", reason="pip install -e '.[dev]'")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Headless on a machine with no network: no sandbox as root, no GPU, no background fetches.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
NOTEBOOK = "02_residual_block.ipynb"  # in notebooks/en/ and notebooks/zh/
LANGUAGES = ("en", "zh")
PRESENT_NOTEBOOK = "present_check.ipynb"  # written into the server's temporary copy only
OPENED_NOTEBOOK = "04_shape_tracing.ipynb"  # opened and left alone: it must stay unmodified
CONTENTS_MANAGER = "d2lresnet.labserver.ContentsManager"  # as `make lab` starts JupyterLab
SCREENSHOTS = Path(os.environ.get("D2LRESNET_SCREENSHOTS", ROOT / "build" / "screenshots"))
# Generous: the kernel imports torch and runs every cell on a busy 2-core machine.
RUN_ALL_TIMEOUT_S = 240
# The notebook in front; JupyterLab may restore other notebooks in hidden tabs.
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# Errors and tracebacks render as stderr text in JupyterLab.
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
# Chinese characters (CJK Unified Ideographs and Extension A): each must come from a CJK font.
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

pytestmark = pytest.mark.browser


def _require_browser():
    if not Path(CHROMIUM).exists():
        if UNDER_CI:
            pytest.fail(f"{CHROMIUM} is missing under CI: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); runs in CI")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(server, path, method="GET"):
    request = urllib.request.Request(f"{server['url']}{path}", method=method,
                                     headers={"Authorization": f"token {server['token']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def _stop(proc, server):
    """Shut the kernels down through the API, then the server's process group: TERM, then KILL."""
    if proc.poll() is None and server is not None:
        try:
            for kernel in _api(server, "/api/kernels"):
                _api(server, f"/api/kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass
    for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            pass


def _write_settings(settings_dir):
    """No news or update checks (no network here), and every cell kept in the DOM so that all
    outputs can be counted (JupyterLab 4 otherwise may skip rendering off-screen cells)."""
    settings = {
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                         "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none",
                                                   "autoStartDefaultKernel": True},
    }
    for plugin, values in settings.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _write_present_notebook(path):
    import nbformat
    cells = ['import ipywidgets\nipywidgets.IntSlider(value=3, description="size")',
             'print("printed output")',
             "from d2lresnet.drawing.plots import present\npresent()",
             "present(False)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                              "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a free port with a random token, serving a temporary copy of
    notebooks/ (so saving never touches the repo) with its own settings, workspaces and runtime
    dirs. Stopped, with its kernels, whatever happens."""
    _require_browser()
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    shutil.copytree(ROOT / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.py"))
    _write_present_notebook(root / "notebooks" / PRESENT_NOTEBOOK)
    # `make present`'s copy of the English notebook 02 (build/present/en/): slide metadata
    # derived from its headings.
    from tools.pages import build_present
    build_present([ROOT / "notebooks" / "en" / NOTEBOOK], root / "present" / "en")
    for name in ("settings", "workspaces", "runtime", "config"):
        (base / name).mkdir()
    _write_settings(base / "settings")
    env = dict(os.environ,
               JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTER_CONFIG_DIR=str(base / "config"),
               D2LRESNET_PRESET="smoke", TQDM_DISABLE="1")
    # `make test` sets MPLBACKEND=Agg for nbval; the kernel needs its inline backend to show plots.
    env.pop("MPLBACKEND", None)
    env.pop("D2LRESNET_PRESENT", None)
    port, token = _free_port(), secrets.token_hex(16)
    log_path = base / "jupyter-lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1",
             f"--port={port}", "--port-retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root}", "--allow-root",
             # `make lab`'s contents manager; the app reachable from the page (window.jupyterapp)
             f"--ServerApp.contents_manager_class={CONTENTS_MANAGER}",
             "--LabApp.expose_app_in_browser=True"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = {"url": f"http://127.0.0.1:{port}", "token": token, "root": root, "log": log_path}
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                _api(server, "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer in 90 s:\n{log_path.read_text()}")
                time.sleep(0.5)
        yield server
    finally:
        _stop(proc, server)


@pytest.fixture(params=LANGUAGES)
def language(request):
    """The notebook's language, set in this process too while the test computes the texts it
    expects (i18n templates, str(block_output_shape(...))); English again afterwards."""
    i18n.set_language(request.param)
    try:
        yield request.param
    finally:
        i18n.set_language("en")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's launch options, pointed at Debian's Chromium."""
    _require_browser()  # before pytest-playwright launches anything
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture
def page(lab, page, request, capsys):
    """pytest-playwright's page (a fresh context per test), with its console kept in
    ``page.console_messages`` and, if the test fails, a screenshot of the page as it was."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_default_timeout(30_000)
    messages = []
    page.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    page.console_messages = messages
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)  # test_x[chromium]
    failed_png = SCREENSHOTS / f"{test_name}-FAILED.png"
    failed_png.unlink(missing_ok=True)  # from an earlier run
    failures_before = request.session.testsfailed
    yield page
    # The call phase's report is logged before teardown: a new failure means this test failed.
    if request.session.testsfailed > failures_before:
        try:
            page.screenshot(path=failed_png)
        except Exception:  # the page may be gone; the screenshots taken so far stay
            pass
    with capsys.disabled():
        print(f"\n[browser] screenshots in {SCREENSHOTS}")


def _open_notebook(page, lab, path):
    """Open PATH (relative to the server's root) and wait for its kernel."""
    page.goto(f"{lab['url']}/lab/tree/{path}?token={lab['token']}")
    page.locator(f"{PANEL} .jp-Notebook .jp-Cell").first.wait_for()
    _accept_kernel_dialog(page)
    _wait_kernel_idle(lab, path, 120)


def _accept_kernel_dialog(page):
    # autoStartDefaultKernel should prevent it; if "Select Kernel" shows anyway, take the default.
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    try:
        dialog.wait_for(timeout=3_000)
    except Exception:
        return
    dialog.locator("button", has_text="Select").click()


def _wait_kernel_idle(lab, path, timeout_s):
    """Wait until the server reports this notebook's kernel idle (not starting, not busy)."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = [s["kernel"]["execution_state"] for s in _api(lab, "/api/sessions")
                  if s["path"] == path and s.get("kernel")]
        if states == ["idle"]:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"kernel of {path} not idle after {timeout_s} s: {states}\n"
                                 f"{lab['log'].read_text()[-3000:]}")
        time.sleep(0.5)


def _run_all(page, lab, path):
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item:not(.lm-mod-hidden)",
                 has=page.locator(".lm-Menu-itemLabel", has_text="Run All Cells")).first.click()
    _accept_kernel_dialog(page)
    # Every code cell gets an execution count (none left queued, "[*]"), or a cell fails: Run All
    # stops at the first error, so wait for that too and let the caller report the traceback.
    page.wait_for_function(
        """([panelSelector, stderrSelector]) => {
            const panel = document.querySelector(panelSelector);
            if ([...panel.querySelectorAll(stderrSelector)]
                    .some(o => o.textContent.includes('Traceback'))) return true;
            // a folded solution (hidden input) shows a placeholder, not its prompt's count
            const prompts = [...panel.querySelectorAll(
                '.jp-CodeCell:not(:has(.jp-InputPlaceholder)) .jp-InputPrompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""", arg=[PANEL, STDERR], timeout=RUN_ALL_TIMEOUT_S * 1000)
    _wait_kernel_idle(lab, path, RUN_ALL_TIMEOUT_S)


def _output_summary(page):
    return page.eval_on_selector_all(
        ".jp-OutputArea-output",
        "els => els.map(e => (e.getAttribute('data-mime-type') || e.className) + ': '"
        " + e.innerText.slice(0, 80))")


def _label(page, description):
    """A widget label reading exactly DESCRIPTION ("height" must not find "input height")."""
    return page.locator(".widget-label",
                        has_text=re.compile(rf"^\s*{re.escape(description)}\s*$"))


def _slider(widget, description):
    return widget.locator(".widget-slider", has=_label(widget.page, description)).first


def _set_by_keys(slider, current, target):
    handle = slider.locator(".noUi-handle")
    handle.focus()
    key = "ArrowRight" if target > current else "ArrowLeft"
    for _ in range(abs(target - current)):
        handle.press(key)


def _shape_text(widget):
    # describe_block_shape prints a header line, then the shape text.
    lines = widget.locator(".widget-output .jp-RenderedText").inner_text().strip().splitlines()
    return lines[-1].strip() if lines else ""


def _expect_shape(widget, state):
    """The readout for STATE, in the current i18n language: its header line, then the shape."""
    from playwright.sync_api import expect
    expected = str(block_output_shape(**state))
    call = (f"Residual({state['input_channels']}, {state['num_channels']}, "
            f"use_1x1conv={state['use_1x1conv']}, strides={state['strides']})")
    header = i18n.tr("block_on_input", call=call, channels=state["input_channels"],
                     height=state["height"], width=state["width"])
    output = widget.locator(".widget-output .jp-RenderedText")
    expect(output).to_contain_text(header, timeout=15_000)
    expect(output).to_contain_text(expected, timeout=15_000)
    assert _shape_text(widget) == expected
    return expected


def _cjk_families():
    """The font families fontconfig says cover Chinese (what Chromium falls back to on Linux)."""
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True,
                                text=True, timeout=30).stdout
    except OSError:
        listed = ""
    return {name.strip() for line in listed.splitlines() for name in line.split(",")
            if name.strip()}


def _rendered_fonts(page, element):
    """The fonts Chromium drew ELEMENT's own text with, and how many glyphs each (DevTools'
    "Rendered Fonts", CSS.getPlatformFontsForNode). A character that no font has is drawn as
    the first font's empty box, counted under that font: so this tells glyphs from tofu, where
    document.fonts.check() answers true even for a family that does not exist."""
    element.evaluate("el => el.setAttribute('data-font-probe', '')")
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root,
                                              "selector": "[data-font-probe]"})["nodeId"]
        return {font["familyName"]: font["glyphCount"]
                for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]}
    finally:
        cdp.detach()
        element.evaluate("el => el.removeAttribute('data-font-probe')")


def _assert_no_tofu(page, element, cjk_families):
    """Every Chinese character in ELEMENT's text was drawn by a font that has Chinese glyphs."""
    text = element.inner_text()
    han = len(HAN.findall(text))
    assert han, f"no Chinese in {text!r}"
    fonts = _rendered_fonts(page, element)
    from_cjk = sum(count for family, count in fonts.items() if family in cjk_families)
    assert from_cjk >= han, (f"{text!r}: {han} Chinese characters, but only {from_cjk} glyphs "
                             f"from a CJK font; drawn with {fonts} (apt-get install "
                             f"fonts-noto-cjk)")


def test_block_shape_widget_in_jupyterlab(lab, page, language):
    path = f"notebooks/{language}/{NOTEBOOK}"
    repo_copy = (ROOT / path).read_bytes()
    shot = lambda name: SCREENSHOTS / f"{language}-02-{name}.png"  # noqa: E731
    _open_notebook(page, lab, path)
    _run_all(page, lab, path)
    page.screenshot(path=shot("after-run-all"))

    # No cell failed: no traceback on screen (the saved file's outputs are checked below).
    errors = page.locator(f"{PANEL} {STDERR}", has_text="Traceback")
    assert errors.count() == 0, "\n".join(errors.all_inner_texts())
    # The kernel found a CJK font for its figures (else set_language("zh") says it did not).
    no_font = page.locator(f"{PANEL} .jp-OutputArea-output",
                           has_text=i18n.MESSAGES["en"]["cjk_font_missing"][:40])
    assert no_font.count() == 0, no_font.all_inner_texts()

    # The title in the notebook's language; its Chinese (all of it in zh, the notes' title in
    # parentheses in en) drawn with real glyphs.
    cjk_families = _cjk_families()
    assert cjk_families, "fontconfig knows no font with Chinese: apt-get install fonts-noto-cjk"
    title = page.locator(f"{PANEL} .jp-RenderedMarkdown h1").first
    expected_title = {"en": "6.2 Residual blocks (残差块)", "zh": "6.2 残差块"}[language]
    assert title.inner_text().strip().rstrip("¶").strip() == expected_title
    _assert_no_tofu(page, title, cjk_families)
    title.scroll_into_view_if_needed()
    title.screenshot(path=shot("heading"))
    if language == "zh":  # a section heading too, wholly Chinese
        section = page.locator(f"{PANEL} .jp-RenderedMarkdown h2",
                               has_text="动手试试").first
        section.scroll_into_view_if_needed()
        _assert_no_tofu(page, section, cjk_families)
        section.screenshot(path=shot("section-heading"))

    # The notebook's matplotlib figure (the identity-property scatter plot) arrived as an image.
    images = page.locator(f"{PANEL} .jp-OutputArea .jp-RenderedImage img")
    assert images.count() > 0, f"no figure was rendered; outputs: {_output_summary(page)}"
    for i in range(images.count()):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), \
            f"image {i} did not load"
    images.first.scroll_into_view_if_needed()
    images.first.screenshot(path=shot("figure"))

    # The block-shape widget: an interactive() with a stride slider, its labels in the
    # notebook's language (and in zh drawn with a CJK font).
    widget = page.locator(f"{PANEL} .widget-interact", has=_label(page, i18n.tr("stride"))).first
    widget.scroll_into_view_if_needed()
    labels = widget.locator(".widget-slider .widget-label")
    assert [t.strip() for t in labels.all_inner_texts()] == [
        i18n.tr(key) for key in ("input_channels", "output_channels", "stride", "height",
                                 "width")]
    if language == "zh":
        for i in range(labels.count()):
            _assert_no_tofu(page, labels.nth(i), cjk_families)
    state = dict(input_channels=3, num_channels=6, strides=2, use_1x1conv=True, height=6, width=6)
    assert _expect_shape(widget, state) == i18n.tr("block_output", shape=(6, 3, 3))
    if language == "zh":  # the readout's header and shape text, printed in Chinese
        _assert_no_tofu(page, widget.locator(".widget-output .jp-RenderedText pre").first,
                        cjk_families)
    widget.screenshot(path=shot("widget-initial"))

    # stride 2 -> 1: the block keeps height and width.
    _set_by_keys(_slider(widget, i18n.tr("stride")), state["strides"], 1)
    state["strides"] = 1
    assert _expect_shape(widget, state) == i18n.tr("block_output", shape=(6, 6, 6))

    # output channels 6 -> 3, then the 1x1 conv off: the shortcut adds without it ...
    _set_by_keys(_slider(widget, i18n.tr("output_channels")), state["num_channels"], 3)
    state["num_channels"] = 3
    assert _expect_shape(widget, state) == i18n.tr("block_output", shape=(3, 6, 6))
    widget.locator(".widget-checkbox input[type=checkbox]").click()
    state["use_1x1conv"] = False
    assert _expect_shape(widget, state) == i18n.tr("block_output", shape=(3, 6, 6))

    # ... until a stride shrinks the main path: then it cannot add.
    _set_by_keys(_slider(widget, i18n.tr("stride")), state["strides"], 2)
    state["strides"] = 2
    assert _expect_shape(widget, state) == i18n.tr("cannot_add", reason=i18n.tr(
        "reason_stride", strides=2, height=6, width=6, out_height=3, out_width=3))
    widget.screenshot(path=shot("widget-cannot-add"))

    # The 1x1 conv back on, and an odd height typed into the slider's readout: 7 -> 4.
    widget.locator(".widget-checkbox input[type=checkbox]").click()
    state["use_1x1conv"] = True
    readout = _slider(widget, i18n.tr("height")).locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    state["height"] = 7
    assert _expect_shape(widget, state) == i18n.tr("block_output", shape=(3, 4, 3))
    widget.screenshot(path=shot("widget-final"))

    # Moving widgets raised nothing in the kernel or the page.
    assert errors.count() == 0, "\n".join(errors.all_inner_texts())
    assert not [m for m in page.console_messages if m.startswith("pageerror")], \
        page.console_messages

    # Saved (in the temporary copy): the file holds the same story, and the repo's is untouched.
    page.locator(f"{PANEL} .jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-dirty')")
    saved = _api(lab, f"/api/contents/{path}?content=1")["content"]
    outputs = [o for cell in saved["cells"] if cell["cell_type"] == "code"
               for o in cell["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert (ROOT / path).read_bytes() == repo_copy


def test_opening_a_notebook_leaves_it_unmodified(lab, page, language):
    """Opened as `make lab` serves it (paired with its .py twin), a notebook opens, and is not
    marked modified once its kernel has answered, before any edit: nothing for autosave to write
    into the repository's files. (JupyterLab writes the kernel's language_info into the notebook
    then; notebooks without it, or with another Python's, opened modified. And Jupytext refused
    to open a pair whose .ipynb was newer than its .py, as after a pull that changed only the
    .ipynb, where the .py's cell metadata are in another order than it would write them.)"""
    path = f"notebooks/{language}/{OPENED_NOTEBOOK}"
    twin = Path(path).with_suffix(".py")
    shutil.copyfile(ROOT / "jupytext.toml", lab["root"] / "jupytext.toml")
    shutil.copyfile(ROOT / twin, lab["root"] / twin)
    newer = (lab["root"] / twin).stat().st_mtime + 60
    os.utime(lab["root"] / path, (newer, newer))
    on_disk = (lab["root"] / path).read_bytes()
    page.goto(f"{lab['url']}/lab/tree/{path}?token={lab['token']}")
    load_error = page.locator(".jp-Dialog", has_text="File Load Error")
    # The title, read from the file (an empty cell shows before the file is read), or the error.
    page.locator(f"{PANEL} .jp-RenderedMarkdown h1").first.or_(load_error).wait_for()
    assert load_error.count() == 0, load_error.inner_text()[:1500]
    _accept_kernel_dialog(page)
    _wait_kernel_idle(lab, path, 120)
    # The kernel has answered this page (its language_info is in), then a settle time for
    # anything JupyterLab fills in after it.
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        await panel.sessionContext.ready;
        await panel.sessionContext.session.kernel.info;
    }""")
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.model"
                           ".getMetadata('language_info')?.version")
    time.sleep(5)
    page.screenshot(path=SCREENSHOTS / f"{language}-04-opened.png")
    # The tab in front (the workspace may restore an earlier test's notebook behind it).
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
    assert tab.inner_text().strip() == OPENED_NOTEBOOK
    changed = page.evaluate("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        return {dirty: panel.model.dirty,
                metadata: JSON.stringify(panel.model.toJSON().metadata)};
    }""")
    assert "jp-mod-dirty" not in tab.get_attribute("class"), changed
    assert not changed["dirty"], changed
    assert (lab["root"] / path).read_bytes() == on_disk


def _font_px(page, selector):
    return page.locator(selector).first.evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)")


def test_present_enlarges_widget_and_output_text(lab, page):
    from d2lresnet.drawing.plots import _PRESENT_SCALE
    _open_notebook(page, lab, f"notebooks/{PRESENT_NOTEBOOK}")
    label = f"{PANEL} .jp-OutputArea .widget-label"
    printed = f"{PANEL} .jp-OutputArea .jp-RenderedText pre"
    page.locator(f"{PANEL} .jp-Cell").first.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")  # command mode: Shift+Enter runs and moves on
    for _ in range(2):
        page.keyboard.press("Shift+Enter")
    page.locator(label).first.wait_for()
    page.locator(printed).first.wait_for()
    _wait_kernel_idle(lab, f"notebooks/{PRESENT_NOTEBOOK}", 60)
    before = _font_px(page, label), _font_px(page, printed)

    page.keyboard.press("Shift+Enter")  # present()
    page.wait_for_function(f"() => parseFloat(getComputedStyle(document.querySelector("
                           f"'{label}')).fontSize) > {before[0]}", timeout=60_000)
    after = _font_px(page, label), _font_px(page, printed)
    page.screenshot(path=SCREENSHOTS / "present-on.png")
    assert after == pytest.approx((before[0] * _PRESENT_SCALE, before[1] * _PRESENT_SCALE),
                                  abs=0.5), (before, after)

    page.keyboard.press("Shift+Enter")  # present(False): every style shown so far is emptied
    page.wait_for_function(f"() => parseFloat(getComputedStyle(document.querySelector("
                           f"'{label}')).fontSize) < {after[0]}", timeout=60_000)
    assert (_font_px(page, label), _font_px(page, printed)) == pytest.approx(before, abs=0.5)


def test_a_downloaded_page_shows_its_formulas_offline(page, tmp_path):
    """`make html` pages carry their formulas as MathML: with every network request refused
    (MathJax's CDN included), Chromium still draws them."""
    import nbformat
    from nbformat.v4 import new_markdown_cell, new_notebook
    from tools.pages import build_html
    source = tmp_path / "formulas.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell(
        "# Formulas\n\nA side of $n$ pixels becomes\n\n"
        "$$\\left\\lfloor \\frac{n + 2p - k}{s} \\right\\rfloor + 1 .$$")]), source)
    [html] = build_html([source], tmp_path)
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.context.set_offline(True)
    page.goto(html.as_uri())
    formulas = page.locator("math")
    assert formulas.count() == 2
    for i in range(2):
        box = formulas.nth(i).bounding_box()
        assert box and box["width"] > 5 and box["height"] > 5
    fraction = page.locator("math mfrac").bounding_box()  # drawn as a fraction: two rows
    assert fraction["height"] > 1.5 * formulas.first.bounding_box()["height"]
    assert "$" not in page.locator("body").inner_text()
    # MathML needs no MathJax: the page does not even ask for it.
    assert not any("mathjax" in url.lower() for url in requested), requested
    page.screenshot(path=SCREENSHOTS / "html-formulas-offline.png")


@pytest.fixture(scope="module")
def vendored(tmp_path_factory):
    """html-manager and require.js from npm, as `make html` copies them beside the pages."""
    if shutil.which("npm") is None:
        if UNDER_CI:
            pytest.fail("npm is missing under CI: `make html` needs it")
        pytest.skip("npm is not installed")
    folder = tmp_path_factory.mktemp("vendor")
    subprocess.run(["npm", "install", "--silent", "--no-save", "--no-package-lock", "--no-audit",
                    "--no-fund", "--prefix", str(folder), "@jupyter-widgets/html-manager@1.0.15",
                    "requirejs@2.3.6"], check=True, timeout=600)
    return folder / "node_modules"


def test_a_downloaded_page_shows_its_widgets_offline(page, tmp_path, vendored):
    """`make html`: a widget saved in an executed notebook is drawn on its page with every
    network request refused, from html-manager and require.js copied beside the page."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    from tools.execute_notebook import execute
    from tools.pages import build_html
    source = tmp_path / "widgets.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Widgets"), new_code_cell(
        "import ipywidgets as widgets\n"
        "widgets.VBox([widgets.IntSlider(value=7, max=9), widgets.Label('side = 7 px')])")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}}), source)
    execute(source, tmp_path / "executed", timeout=300, retries=1)
    pages = tmp_path / "html"
    relative = os.path.relpath(vendored, pages)
    [html] = build_html([tmp_path / "executed" / source.name], pages,
                        widget_renderer=f"{relative}/@jupyter-widgets/html-manager/dist/"
                                        "embed-amd.js",
                        require_js=f"{relative}/requirejs/require.js")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.context.set_offline(True)
    page.goto(html.as_uri())
    page.locator(".widget-slider").first.wait_for(state="visible", timeout=60_000)
    assert page.locator(".widget-label", has_text="side = 7 px").is_visible()
    assert all(url.startswith("file:") for url in requested), requested
    page.screenshot(path=SCREENSHOTS / "html-widgets-offline.png")


@pytest.mark.parametrize("language", ["en"], indirect=True)
def test_a_widget_moves_on_a_live_slide(lab, page, language):
    """`make present`: the English notebook as slides (jupyterlab-slideshow), its kernel
    running; the block-shape widget on its slide still answers its slider. (Last in this
    module: the deck keeps its on/off state in the server's settings.)"""
    path = f"present/en/{NOTEBOOK}"
    _open_notebook(page, lab, path)
    _run_all(page, lab, path)
    panel = page.locator(PANEL)
    panel.locator(".jp-MarkdownCell", has_text="6.2 Residual blocks").first.click()
    page.keyboard.press("Escape")  # command mode, on the title slide
    panel.locator('.jp-Toolbar [data-command="deck:toggle"]').click()
    page.wait_for_selector(f"{PANEL}.jp-Deck")

    # Forward (Space), slide by slide, until the widget is on screen; earlier slides leave it.
    onscreen = ".jp-Cell.jp-deck-mod-onscreen"
    widget = panel.locator(f"{onscreen} .widget-interact", has=_label(page, i18n.tr("stride")))
    title = panel.locator(onscreen, has_text="6.2 Residual blocks")
    page.screenshot(path=SCREENSHOTS / "present-title-slide.png")
    assert title.count() == 1 and widget.count() == 0
    for _ in range(panel.locator(".jp-Cell").count()):
        if widget.count():
            break
        page.keyboard.press("Space")
        page.wait_for_timeout(300)
    assert widget.count() == 1, "the widget's slide never came up"
    assert title.count() == 0  # a slide, not the whole notebook
    box = widget.bounding_box()
    assert box and box["width"] > 0 and box["y"] >= 0 and box["y"] + box["height"] <= 1000
    state = dict(input_channels=3, num_channels=6, strides=2, use_1x1conv=True, height=6, width=6)
    assert _expect_shape(widget, state) == i18n.tr("block_output", shape=(6, 3, 3))

    # The kernel answers on the slide: stride 2 -> 1, and the slide stays put.
    _set_by_keys(_slider(widget, i18n.tr("stride")), state["strides"], 1)
    state["strides"] = 1
    assert _expect_shape(widget, state) == i18n.tr("block_output", shape=(6, 6, 6))
    assert widget.count() == 1
    page.screenshot(path=SCREENSHOTS / "present-widget-on-slide.png")
    errors = panel.locator(STDERR, has_text="Traceback")
    assert errors.count() == 0, "\n".join(errors.all_inner_texts())
    assert not [m for m in page.console_messages if m.startswith("pageerror")], \
        page.console_messages


def test_make_lab_lab_lang_shows_jupyterlab_in_chinese(browser, tmp_path):
    """`make lab LAB_LANG=zh_CN` writes the default of JupyterLab's language setting into the
    app settings (here a temporary folder, LAB_OVERRIDES); with the zh-CN language pack the
    menus read 文件, 编辑, ... A server of its own: the others' menus stay English."""
    from playwright.sync_api import expect
    _require_browser()
    app_settings = tmp_path / "app-settings"
    make = subprocess.run(["make", "-s", "-o", "setup", "lab", "LAB_LANG=zh_CN", "FIND_DATA=true",
                           "JUPYTER_LAB=true", f"LAB_OVERRIDES={app_settings}/overrides.d/x.json"],
                          cwd=ROOT, capture_output=True, text=True)  # -o setup: no .venv work
    assert make.returncode == 0, make.stderr
    for name in ("settings", "workspaces", "runtime", "config"):
        (tmp_path / name).mkdir()
    _write_settings(tmp_path / "settings")
    env = dict(os.environ, **{f"JUPYTER{part}_DIR": str(tmp_path / name) for part, name in [
        ("LAB_SETTINGS", "settings"), ("LAB_WORKSPACES", "workspaces"), ("_RUNTIME", "runtime"),
        ("_CONFIG", "config")]})
    port, token = _free_port(), secrets.token_hex(16)
    server = {"url": f"http://127.0.0.1:{port}", "token": token}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT / 'notebooks'}",
         f"--LabApp.app_settings_dir={app_settings}", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                _api(server, "/api/status")
                break
            except OSError:
                time.sleep(0.5)
        page = browser.new_page()
        page.goto(f"{server['url']}/lab?token={token}")
        menu = page.locator(".lm-MenuBar-item", has_text=re.compile(r"^\s*文件\s*$"))
        expect(menu).to_be_visible(timeout=60_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "jupyterlab-zh_CN.png")
    finally:
        _stop(proc, server)
