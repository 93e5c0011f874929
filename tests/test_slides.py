"""Slides and static HTML for instructors (tools/pages.py): slide structure derived from
headings, formulas as MathML, every figure output present as an image, copies for live slides.
(make html / make slides / make present run these.)"""
import base64
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tools import pages as slides

ROOT = Path(__file__).resolve().parent.parent


def _png():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _figure_cell(code="plt.plot([0, 1])"):
    return new_code_cell(code, outputs=[new_output("display_data", data={
        "image/png": _png(), "text/plain": "<Figure size 100x100 with 1 Axes>"})])


@pytest.fixture
def executed(tmp_path):
    """A small notebook as nbconvert --execute leaves it: two sections, two figures."""
    nb = new_notebook(cells=[
        new_markdown_cell("# 6.2 Residual blocks\n\nIntro prose."),
        new_code_cell("x = 1", outputs=[new_output("stream", name="stdout", text="1\n")]),
        new_markdown_cell("## The identity property\nA picture:"),
        _figure_cell(),
        new_markdown_cell("### A detail"),
        new_markdown_cell("Text that mentions # a hash but is no heading."),
        _figure_cell(),
        new_markdown_cell("   "),
    ])
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    return path


def test_headings_start_slides_and_the_rest_follows():
    nb = new_notebook(cells=[
        new_markdown_cell("Untitled opening"),
        new_markdown_cell("\n# Title"), new_code_cell("1"),
        new_markdown_cell("## Section\ntext"), new_markdown_cell("#### Detail"),
        new_markdown_cell("#hashtag, no heading"), new_markdown_cell(""),
        new_code_cell("2"), new_markdown_cell("Prose after code"), new_code_cell("3"),
    ])
    marked = slides.mark_slides(nb)
    assert [c.metadata.slideshow.slide_type for c in marked.cells] == [
        "slide", "slide", "-", "slide", "subslide", "-", "skip", "-", "subslide", "-"]
    assert "slideshow" not in nb.cells[0].metadata  # the source notebook is left alone


def test_setup_code_before_the_title_is_left_out():
    nb = new_notebook(cells=[new_code_cell("%pip install d2lresnet"), new_code_cell("lang"),
                             new_markdown_cell("# Title"), new_code_cell("1")])
    kinds = [c.metadata.slideshow.slide_type for c in slides.mark_slides(nb).cells]
    assert kinds == ["skip", "skip", "slide", "-"]


def test_the_setup_cell_after_the_title_is_left_out_of_slides_and_pages(tmp_path):
    setup = new_code_cell("present_from_environment()", metadata={"tags": ["setup"]},
                          outputs=[new_output("execute_result", data={"text/plain": "False"})])
    nb = new_notebook(cells=[new_markdown_cell("# Title"), setup, new_code_cell("1")])
    kinds = [c.metadata.slideshow.slide_type for c in slides.mark_slides(nb).cells]
    assert kinds == ["slide", "skip", "-"]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    page = slides.build_html([path], tmp_path / "html")[0].read_text()
    assert "present_from_environment" not in page and "False" not in page


def test_the_index_page_links_every_notebooks_page(tmp_path):
    index = ROOT / "notebooks" / "index.ipynb"
    page = slides.build_html([index], tmp_path)[0]
    links = re.findall(r'href="([^"]+)"', page.read_text())
    notebooks = sorted(p.relative_to(index.parent).with_suffix(".html").as_posix()
                       for p in index.parent.glob("[ez][nh]/*.ipynb"))
    assert sorted(link for link in links if link.endswith(".html")) == notebooks
    assert not [link for link in links if link.endswith(".ipynb")]


def test_a_heading_inside_a_cell_starts_its_own_slide():
    nb = new_notebook(cells=[new_markdown_cell(
        "# Title\n\nIntro.\n\n## Section\ntext\n```\n# not a heading (code)\n```\n"
        "### Detail\nmore")])
    marked = slides.mark_slides(nb)
    assert [(c.source.splitlines()[0], c.metadata.slideshow.slide_type) for c in marked.cells] \
        == [("# Title", "slide"), ("## Section", "slide"), ("### Detail", "subslide")]
    assert "# not a heading (code)" in marked.cells[1].source
    assert len({c.id for c in marked.cells}) == 3
    nbformat.validate(marked)


def test_an_authors_own_slide_type_wins():
    nb = new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell("1")])
    nb.cells[1].metadata["slideshow"] = {"slide_type": "fragment"}
    assert slides.mark_slides(nb).cells[1].metadata.slideshow.slide_type == "fragment"


def test_a_page_is_in_its_notebooks_language_and_chinese_headings_start_slides(tmp_path):
    # <html lang> from the notebook's folder, as its first cell reads it, so a browser draws
    # the Simplified Chinese forms of a CJK font (lang="en" gets the Japanese ones).
    switch = "from d2lresnet import i18n\ni18n.set_notebook_language()"
    notebooks = {
        "zh": [new_code_cell(switch),
               new_markdown_cell("# 6.2 残差块\n\n正文。\n\n## 恒等映射\n文字"),
               new_code_cell("1"), new_markdown_cell("### 细节：步幅\n更多")],
        "en": [new_code_cell(switch), new_markdown_cell("# 6.2 Residual blocks")],
        "elsewhere": [new_markdown_cell("# No language folder")],
    }
    paths = [tmp_path / folder / f"{folder}.ipynb" for folder in notebooks]
    for path, cells in zip(paths, notebooks.values()):
        path.parent.mkdir()
        nbformat.write(new_notebook(cells=cells), path)
    pages = slides.build_html(paths, tmp_path / "html")
    decks = slides.build_slides(paths, tmp_path / "slides")
    for built in (pages, decks):
        langs = [re.search(r"<html lang=\"([^\"]*)\"", page.read_text()).group(1)
                 for page in built]
        assert langs == ["zh", "en", "en"]
    assert "残差块" in pages[0].read_text(encoding="utf-8")
    marked = slides.mark_slides(nbformat.read(paths[0], as_version=4)).cells
    assert [(c.source.splitlines()[0], c.metadata.slideshow.slide_type) for c in marked] == [
        ('from d2lresnet import i18n', "skip"), ("# 6.2 残差块", "slide"), ("## 恒等映射", "slide"),
        ("1", "-"), ("### 细节：步幅", "subslide")]


def test_slides_have_one_section_per_heading_and_every_figure(executed, tmp_path):
    [page] = slides.build_slides([executed], tmp_path / "slides")
    html = page.read_text()
    assert page.name == "demo.slides.html"
    assert html.count('<section') >= 3  # two slides, one sub-slide (plus their wrappers)
    assert "reveal.js" in html and "Reveal.initialize" in html
    assert slides.count_html_figures(html) == slides.count_figures(nbformat.read(executed, 4)) == 2
    assert slides.check_figures([executed], tmp_path / "slides", ".slides.html") == []


def test_reveal_prefix_is_used_for_offline_copies(executed, tmp_path):
    [page] = slides.build_slides([executed], tmp_path, reveal_prefix="vendor/reveal.js",
                                 require_js="vendor/require.js")
    html = page.read_text()
    assert "vendor/reveal.js/dist/reveal.js" in html and 'src="vendor/require.js"' in html
    assert "unpkg.com/reveal.js" not in html


def test_check_reports_missing_pages_and_missing_figures(executed, tmp_path):
    from nbconvert import HTMLExporter
    html, _ = HTMLExporter().from_filename(str(executed))
    (tmp_path / "demo.html").write_text(html)
    assert slides.check_figures([executed], tmp_path) == []
    (tmp_path / "demo.html").write_text(html.replace('src="data:image/png', 'src="x.png', 1))
    [problem] = slides.check_figures([executed], tmp_path)
    assert "1 images, but demo.ipynb has 2 figures" in problem
    assert "missing" in slides.check_figures([executed], tmp_path / "nowhere")[0]
    assert slides.main(["check", "--html-dir", str(tmp_path), str(executed)]) == 1


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*/*.ipynb")),
                         ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix())
def test_every_notebook_gives_a_deck_of_several_slides(path):
    # The build derives slides from headings: a notebook opens with its title and has sections.
    nb = nbformat.read(path, as_version=4)
    first_prose = next(c for c in nb.cells if c.cell_type == "markdown")
    assert slides.heading_level(first_prose) == 1, f"{path.name} does not open with '# ...'"
    marked = [c for c in slides.mark_slides(nb).cells if c.metadata.slideshow.slide_type != "skip"]
    kinds = [c.metadata.slideshow.slide_type for c in marked]
    assert slides.heading_level(marked[0]) == 1 and kinds[0] == "slide"  # opens on the title
    assert sum(k in ("slide", "subslide") for k in kinds) >= 2


FORMULAS = ("# Title\n\nInline $f(\\mathbf{x}) = \\mathbf{x} + g(\\mathbf{x})$ and across a line\n"
            "$\\lfloor(224 + 6 - 7)/2\\rfloor\n+ 1 = 112$, code `$not math$`, a price of 5 dollars, and\n\n"
            "$$f^*_{\\mathcal{F}} = \\arg\\min_{f \\in \\mathcal{F}} L(\\mathbf{X}, \\mathbf{y}, f).$$")


def test_pages_write_formulas_as_mathml(tmp_path):
    path = tmp_path / "maths.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell(FORMULAS)]), path)
    [page] = slides.build_html([path], tmp_path / "html")
    html = page.read_text()
    assert html.count("<math ") == 3 and html.count('display="block"') == 1
    assert "<code>$not math$</code>" in html
    text = re.sub(r"<[^>]+>", "", html.split("<body")[1])
    assert "\\" not in text and "$f" not in text  # no LaTeX left for MathJax
    [deck] = slides.build_slides([path], tmp_path / "slides")
    assert deck.read_text().count("<math ") == 3


def _formulas(nb):
    pattern = re.compile(r"\$\$(.+?)\$\$|(?<![$\\])\$(.+?)(?<![$\\])\$", re.S)
    return [m.group(1) or m.group(2) for cell in nb.cells if cell.cell_type == "markdown"
            for m in pattern.finditer(cell.source)]


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*/*.ipynb")),
                         ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix())
def test_every_formula_in_the_notebooks_converts(path):
    # latex2mathml leaves commands it does not know as text ("\\arg"): none may be left.
    for formula in _formulas(nbformat.read(path, as_version=4)):
        assert "\\" not in re.sub(r"<[^>]+>", "", slides.mathml(formula)), formula


def test_present_copies_carry_slide_metadata_and_the_figures(tmp_path):
    source = tmp_path / "notebooks"
    (source / "figures").mkdir(parents=True)
    (source / "figures" / "a.png").write_bytes(b"png")
    (source / "demo.py").write_text("# paired source, not copied")
    nbformat.write(new_notebook(cells=[new_markdown_cell("# T\n\n## S"), new_code_cell("1")]),
                   source / "demo.ipynb")
    [copy] = slides.build_present([source / "demo.ipynb"], tmp_path / "present")
    nb = nbformat.read(copy, as_version=4)
    # "continue" is no slide_type at all: jupyterlab-slideshow would hide a cell marked "-".
    assert [c.metadata.get("slideshow") for c in nb.cells] == [
        {"slide_type": "slide"}, {"slide_type": "slide"}, None]
    assert (tmp_path / "present" / "figures" / "a.png").exists()
    assert not (tmp_path / "present" / "demo.py").exists()
    assert "ipynb" in (tmp_path / "present" / "jupytext.toml").read_text()


def test_present_copies_of_a_language_folder_share_the_figures_one_level_up(tmp_path):
    # notebooks/en/NN.ipynb refers to ../figures/x.png: so must build/present/en/NN.ipynb.
    source = tmp_path / "notebooks"
    (source / "figures").mkdir(parents=True)
    (source / "figures" / "x.png").write_bytes(b"png")
    (source / "en").mkdir()
    nbformat.write(new_notebook(cells=[new_markdown_cell("# T")]), source / "en" / "demo.ipynb")
    [copy] = slides.build_present([source / "en" / "demo.ipynb"], tmp_path / "present" / "en")
    assert copy == tmp_path / "present" / "en" / "demo.ipynb"
    assert (copy.parent / ".." / "figures" / "x.png").resolve().read_bytes() == b"png"
    # A folder that is no language folder keeps everything inside the output folder.
    (source / "other").mkdir()
    nbformat.write(new_notebook(cells=[new_markdown_cell("# T")]), source / "other" / "d.ipynb")
    slides.build_present([source / "other" / "d.ipynb"], tmp_path / "elsewhere" / "other")
    assert not (tmp_path / "elsewhere" / "figures").exists()


def _language_folders(tmp_path):
    """notebooks/{en,figures}/ as in the repository: en/demo.ipynb beside a paired demo.py."""
    source = tmp_path / "notebooks"
    (source / "figures").mkdir(parents=True)
    (source / "figures" / "x.png").write_bytes(b"png")
    (source / "en").mkdir()
    (source / "en" / "demo.py").write_text("# paired source")
    nbformat.write(new_notebook(cells=[new_markdown_cell("# T"), new_code_cell("1")]),
                   source / "en" / "demo.ipynb")
    return source


@pytest.mark.parametrize("output_dir", [
    "en", "en/present", ".", "../elsewhere/.."])  # relative to notebooks/: each holds en/demo
def test_present_refuses_an_output_folder_that_holds_the_notebook(tmp_path, output_dir,
                                                                  capsys):
    source = _language_folders(tmp_path)
    before = {p: p.read_bytes() for p in source.rglob("*") if p.is_file()}
    notebook = str(source / "en" / "demo.ipynb")
    assert slides.main(["present", "--output-dir", str(source / output_dir), notebook]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: --output-dir") and "demo.ipynb" in line
    assert {p: p.read_bytes() for p in source.rglob("*") if p.is_file()} == before
    with pytest.raises(ValueError, match="overwrite the sources"):  # the API refuses it too
        slides.build_present([notebook], source / output_dir)


def test_present_beside_the_language_folder_leaves_the_shared_figures_alone(tmp_path):
    # notebooks/fr/ takes ../figures from where it already is (no copy onto itself).
    source = _language_folders(tmp_path)
    [copy] = slides.build_present([source / "en" / "demo.ipynb"], source / "fr")
    assert copy == source / "fr" / "demo.ipynb" and (source / "figures" / "x.png").exists()
    assert "slideshow" not in nbformat.read(source / "en" / "demo.ipynb", as_version=4
                                            ).cells[0].metadata


def _bad_input(tmp_path, case):
    """(notebook, output folder, what the one-line error must say)."""
    good = tmp_path / "good.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("1")]), good)
    if case == "missing":
        return tmp_path / "missing.ipynb", tmp_path / "out", "No such file or directory"
    if case == "not a notebook":
        (tmp_path / "x.py").write_text("print(1)\n")
        return tmp_path / "x.py", tmp_path / "out", "x.py is not a notebook"
    if case == "bad schema":
        nb = new_notebook(cells=[new_code_cell("1")])
        del nb.cells[0]["outputs"]
        (tmp_path / "bad.ipynb").write_text(json.dumps(nb))
        return tmp_path / "bad.ipynb", tmp_path / "out", "'outputs' is a required property"
    (tmp_path / "afile").write_text("")
    return good, tmp_path / "afile", "is a file, not a folder"


@pytest.mark.parametrize("command", ["html", "slides", "present"])
@pytest.mark.parametrize("case", ["missing", "not a notebook", "bad schema", "output is a file"])
def test_a_mistake_is_one_line_and_builds_nothing(tmp_path, command, case, capsys):
    notebook, output_dir, expected = _bad_input(tmp_path, case)
    (tmp_path / "src").mkdir()
    first = tmp_path / "src" / "first.ipynb"  # a good notebook first: nothing is built for it
    nbformat.write(new_notebook(cells=[new_markdown_cell("# T")]), first)
    assert slides.main([command, "--output-dir", str(output_dir), str(first),
                        str(notebook)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and expected in line
    assert not (tmp_path / "out").exists()


def test_check_names_a_notebook_that_is_not_one(tmp_path, capsys):
    notebook, _, expected = _bad_input(tmp_path, "not a notebook")
    assert slides.main(["check", "--html-dir", str(tmp_path), str(notebook)]) == 2
    assert expected in capsys.readouterr().err


def test_a_mistake_exits_2_with_no_traceback(tmp_path):
    source = _language_folders(tmp_path)  # issue 27: en/ as its own output crashed
    result = subprocess.run([sys.executable, "-m", "tools.pages", "present", "--output-dir",
                             str(source / "en"), str(source / "en" / "demo.ipynb")], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")
