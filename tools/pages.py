"""Copies of the notebooks for instructors: static HTML pages, reveal.js slides, notebooks for
live slides (jupyterlab-slideshow), and a check that every figure made it into a page. Build
tooling, not teaching code.

Slides: the notebooks carry no slide metadata. ``mark_slides`` derives it at build time, so the
sources stay plain and the slides follow every edit. A markdown cell is first split at each
heading inside it; then a ``#`` or ``##`` heading opens a new slide, a deeper heading a
sub-slide (reveal.js: down), and so does prose that follows code, so each explanation and the
cell that demonstrates it share a screen; the rest stays on the slide above it. Code before the
title and the cell tagged "setup" (installing on Colab, choosing a language) are left out. A cell that already has
``slideshow`` metadata keeps it (unsplit), so an author can still override a cell.

Formulas are written as MathML when a page is built (latex2mathml), so pages and slides show
them with no network: browsers draw MathML themselves, no MathJax needed.

A page's ``<html lang>`` is its notebook's language, which the notebook's folder names
(``zh/``, as ``i18n.set_notebook_language()`` reads it; English otherwise): with ``lang="zh"``
browsers draw Chinese with the Simplified Chinese forms of a CJK font (Noto Sans CJK SC, not
the Japanese forms they pick for an English page, which shows in punctuation such as ：).

    python -m tools.pages html   --output-dir build/html    build/executed/*.ipynb
    python -m tools.pages slides --output-dir build/slides  build/executed/*.ipynb
    python -m tools.pages present --output-dir build/present notebooks/*.ipynb
    python -m tools.pages check  --html-dir build/html      build/executed/*.ipynb
"""
import argparse
import copy
import re
import shutil
import sys
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter, SlidesExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

from tools.execute_notebook import check_output_dir, read_notebook, write_new

FIGURE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
_HEADING = re.compile(r"^(#{1,6})\s+\S")
# Inline $...$ (not $$): a formula wrapped over lines is joined first, as JupyterLab does by
# taking formulas out before reading the markdown, or a line starting "+ 1" becomes a list.
_INLINE_MATH = re.compile(r"(?<![$\\])\$(?!\$)(.+?)(?<![$\\])\$", re.S)
# LaTeX that latex2mathml does not know, spelled in a way it does.
_LATEX_ALIASES = {r"\arg": r"\operatorname{arg}"}
# The folders named after the notebooks' languages (d2lresnet.i18n.set_notebook_language).
LANGUAGE_FOLDERS = ("en", "zh")


# Slide structure from headings -------------------------------------------------------------

def heading_level(cell):
    """The level of the heading a markdown cell starts with (1 for ``# ...``), else None."""
    if cell.cell_type != "markdown":
        return None
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    match = _HEADING.match(first.strip())
    return len(match.group(1)) if match else None


def slide_type(cell, previous=None):
    level = heading_level(cell)
    if level is None:
        if not cell.source.strip():
            return "skip"
        if cell.cell_type == "markdown" and previous is not None \
                and previous.cell_type == "code":
            return "subslide"
        return "-"
    return "slide" if level <= 2 else "subslide"


def split_at_headings(cell):
    """A markdown cell as a list of cells, a new one starting at every heading line
    (headings inside fenced code blocks do not count)."""
    if cell.cell_type != "markdown" or "slideshow" in cell.metadata:
        return [cell]
    chunks, fenced = [[]], False
    for line in cell.source.splitlines(keepends=True):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and _HEADING.match(line.strip()) and any(l.strip() for l in chunks[-1]):
            chunks.append([])
        chunks[-1].append(line)
    if len(chunks) == 1:
        return [cell]
    parts = []
    for k, chunk in enumerate(chunks):
        part = copy.deepcopy(cell)
        part.source = "".join(chunk).strip("\n")
        if k and "id" in cell:
            part.id = f"{cell.id[:60]}-{k}"
        parts.append(part)
    return parts


SETUP_TAG = "setup"


def is_setup(cell):
    """The notebook's set-up cell (language, presentation), tagged "setup" and hidden in
    JupyterLab: not part of the lesson, so pages and slides leave it out."""
    return SETUP_TAG in cell.get("metadata", {}).get("tags", [])


def without_setup(nb):
    """A copy of nb without its set-up cells (and so without their output)."""
    nb = copy.deepcopy(nb)
    nb.cells = [cell for cell in nb.cells if not is_setup(cell)]
    return nb


def mark_slides(nb):
    """A copy of ``nb`` with its markdown cells split at headings and slideshow metadata on
    every cell (see the module docstring)."""
    nb = copy.deepcopy(nb)
    nb.cells = [part for cell in nb.cells for part in split_at_headings(cell)]
    title = next((i for i, cell in enumerate(nb.cells) if heading_level(cell)), len(nb.cells))
    opened = False
    for i, cell in enumerate(nb.cells):
        if "slide_type" in cell.metadata.get("slideshow", {}):
            opened = opened or cell.metadata.slideshow.slide_type != "skip"
            continue
        if cell.cell_type == "code" and (i < title or is_setup(cell)):
            kind = "skip"  # set-up (installing on Colab, choosing a language): not the lesson
        else:
            kind = slide_type(cell, nb.cells[i - 1] if i else None)
        if not opened and kind in ("-", "subslide"):
            kind = "slide"  # the deck must open with a slide
        opened = opened or kind != "skip"
        cell.metadata["slideshow"] = {"slide_type": kind}
    return nb


# Formulas as MathML ------------------------------------------------------------------------

def mathml(latex, display="inline"):
    from latex2mathml.converter import convert  # a dev tool: `make present` runs without it
    for name, alias in _LATEX_ALIASES.items():
        latex = re.sub(re.escape(name) + r"(?![A-Za-z])", lambda _: alias, latex)
    return convert(latex, display=display)


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, writing formulas as MathML instead of leaving them to
    MathJax (a script from a CDN)."""

    def inline_math(self, body):
        return mathml(body)

    def block_math(self, body):
        return mathml(body, display="block")

    def latex_environment(self, name, body):
        return mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display="block")


# A worked solution (a code cell tagged "solution", notebooks/*: exercises) is folded on the page
# as in JupyterLab: a <details> element, opened with one click.
_SOLUTION_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{% block codecell %}
{%- if 'solution' in cell.metadata.get('tags', []) -%}
<details class="solution"><summary>{{ resources.solution_label }}</summary>
{{ super() }}
</details>
{%- else -%}{{ super() }}{%- endif -%}
{%- endblock codecell %}
{#- Formulas are MathML already: no MathJax, a script from a CDN that offline pages lack. -#}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}"""
SOLUTION_LABEL = {"en": "Solution", "zh": "解答"}


class MathMLExporter(HTMLExporter):
    def __init__(self, **kwargs):
        super().__init__(extra_loaders=[jinja2.DictLoader({"solution.html.j2": _SOLUTION_TEMPLATE})],
                         template_file="solution.html.j2", **kwargs)

    @jinja2.pass_context
    def markdown2html(self, context, source):
        # HTMLExporter.markdown2html (nbconvert 7), with MathMLRenderer.
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False, attachments=cell.get("attachments", {}), embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
        source = _INLINE_MATH.sub(lambda m: m.group(0).replace("\n", " "), source)
        return MarkdownWithMath(renderer=renderer).render(source)


class MathMLSlidesExporter(SlidesExporter):
    markdown2html = MathMLExporter.markdown2html


# Building ----------------------------------------------------------------------------------

def notebook_language(path):
    """The notebook's language, as an ISO 639-1 code for ``<html lang>``: the name of its folder
    (notebooks/zh/, build/executed/smoke/zh/), as the notebook's first cell reads it; else "en"."""
    folder = Path(path).parent.name
    return folder if folder in LANGUAGE_FOLDERS else "en"


def _export(exporter, paths, output_dir, suffix, transform=lambda nb: nb):
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for path in map(Path, paths):
        nb = transform(nbformat.read(path, as_version=4))
        exporter.language_code = notebook_language(path)
        language = notebook_language(path)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem},
                                                             "solution_label": SOLUTION_LABEL[language]})
        target = output_dir / f"{path.stem}{suffix}"
        write_new(target, body)  # whole or not at all: a full disk leaves no half page
        written[target] = nb
    return written


_NOTEBOOK_LINK = re.compile(r"\]\(([^)\s]+)\.ipynb\)")


def linking_pages(nb):
    """A copy of nb whose markdown links to notebooks point to their pages (x.ipynb -> x.html):
    the index page leads to the other pages, as notebooks/index.ipynb does in JupyterLab."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _NOTEBOOK_LINK.sub(r"](\1.html)", cell.source)
    return nb


def build_html(paths, output_dir, widget_renderer=None, require_js=None):
    """Write OUTPUT_DIR/NAME.html for each notebook; return the paths written. Links between
    notebooks become links between pages. Widgets are drawn from the state saved in the
    executed notebook by @jupyter-widgets/html-manager's embed-amd.js and require.js: from a CDN
    unless widget_renderer and require_js point to copies (`make html` vendors them from npm,
    so the pages work offline)."""
    exporter = MathMLExporter()
    for name, value in [("widget_renderer_url", widget_renderer), ("require_js_url", require_js)]:
        if value:
            setattr(exporter, name, value)
    return list(_export(exporter, paths, output_dir, ".html",
                        lambda nb: linking_pages(without_setup(nb))))


def build_slides(paths, output_dir, reveal_prefix=None, require_js=None, jquery=None):
    """Write OUTPUT_DIR/NAME.slides.html for each notebook; return the paths written."""
    exporter = MathMLSlidesExporter(reveal_scroll=True, reveal_number="c/t")
    for name, value in [("reveal_url_prefix", reveal_prefix), ("require_js_url", require_js),
                        ("jquery_url", jquery)]:
        if value:
            setattr(exporter, name, value)
    written = _export(exporter, paths, output_dir, ".slides.html", mark_slides)
    for target, nb in written.items():
        kinds = [c.metadata.slideshow.slide_type for c in nb.cells]
        print(f"{target}: {kinds.count('slide')} slides, {kinds.count('subslide')} sub-slides")
    return list(written)


def check_present_output(paths, output_dir):
    """A ValueError if OUTPUT_DIR holds one of the notebooks or lies in a notebook's folder:
    the copies would replace the sources, or the folder be copied into itself."""
    out = Path(output_dir).resolve()
    for path in map(Path, paths):
        folder = path.resolve().parent
        if out == folder or folder in out.parents or out in folder.parents:
            raise ValueError(f"--output-dir {output_dir} holds {path} or lies in its folder: "
                             "the copies would overwrite the sources; choose another folder")


def shared_figures(paths, output_dir):
    """(the figures/ folder beside a language folder, which its notebooks name ../figures/,
    where the copies' figures go), or None if the notebooks share no such folder. They go one
    level above OUTPUT_DIR only where OUTPUT_DIR is itself named after a language
    (build/present/en, as `make` builds, share build/present/figures); else inside it, and
    the copies then name figures/ (relink_figures): nothing lands outside the folder asked for."""
    if not paths:
        return None
    source, output_dir = Path(paths[0]).parent, Path(output_dir)
    shared = source.parent / "figures"
    if source.name not in LANGUAGE_FOLDERS or not shared.is_dir():
        return None
    inside = output_dir.name not in LANGUAGE_FOLDERS
    return shared, (output_dir if inside else output_dir.parent) / "figures"


def copy_figures(paths, output_dir):
    """Copy the shared figures where shared_figures says (never onto themselves); True if the
    copies must name them figures/ instead of ../figures/."""
    found = shared_figures(paths, output_dir)
    if not found:
        return False
    shared, dest = found
    if dest.resolve() != shared.resolve():
        shutil.copytree(shared, dest, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return dest.parent.resolve() == Path(output_dir).resolve()


def relink_figures(nb):
    """The copy's ../figures/ paths (images, saved runs) as figures/, where its figures are."""
    for cell in nb.cells:
        cell.source = cell.source.replace("../figures/", "figures/")
    return nb


def _sources_and_special_files(folder, names):
    """What build_present leaves behind: the notebooks and their .py twins, and anything that
    is neither a file nor a folder (a FIFO would block the copy forever)."""
    skipped = set(shutil.ignore_patterns("*.ipynb", "*.py", ".ipynb_checkpoints")(folder, names))
    return skipped | {name for name in names
                      if not (Path(folder, name).is_file() or Path(folder, name).is_dir())}


def build_present(paths, output_dir):
    """Copies of the notebooks with slide metadata, for live slides in JupyterLab
    (jupyterlab-slideshow: a running kernel, widgets that move). Whatever else lies beside the
    first notebook (figures/) is copied along, and a jupytext.toml stops saving there from
    writing paired .py files. Notebooks in a language folder (notebooks/en/, notebooks/zh/)
    share the figures/ one level up as ../figures/: it goes one level above an OUTPUT_DIR
    named en or zh (build/present/en/ -> build/present/figures/), so the same relative paths
    still work; into any other OUTPUT_DIR itself, the copies naming figures/ (shared_figures)."""
    check_present_output(paths, output_dir)
    output_dir = Path(output_dir)
    paths = list(map(Path, paths))
    if paths:
        source = paths[0].parent
        shutil.copytree(source, output_dir, dirs_exist_ok=True,
                        ignore=_sources_and_special_files)
    relink = copy_figures(paths, output_dir)
    (output_dir / "jupytext.toml").write_text('formats = "ipynb"\n')
    written = []
    for path in paths:
        nb = mark_slides(nbformat.read(path, as_version=4))
        if relink:
            relink_figures(nb)
        for cell in nb.cells:  # jupyterlab-slideshow reads "continue" as no slide_type, not "-"
            if cell.metadata.slideshow.get("slide_type") == "-":
                del cell.metadata["slideshow"]
        target = output_dir / path.name
        write_new(target, nbformat.writes(nb))
        written.append(target)
    return written


# Checking ----------------------------------------------------------------------------------

def count_figures(nb):
    """Figures among the code cells' outputs (images a reader should see in the HTML)."""
    return sum(1 for cell in nb.cells if cell.cell_type == "code"
               for output in cell.get("outputs", [])
               if any(t in output.get("data", {}) for t in FIGURE_TYPES))


def count_html_figures(html):
    """Images embedded in an nbconvert page: data-URI <img> tags and inline <svg> outputs."""
    return (len(re.findall(r"<img\s[^>]*src=\"data:image/", html))
            + len(re.findall(r"<div[^>]*image/svg\+xml[^>]*>\s*<svg", html)))


def check_figures(paths, html_dir, suffix=".html"):
    """Compare each notebook's figure outputs with the images in HTML_DIR/NAME{suffix};
    return the list of problems (empty when every figure made it into its page)."""
    problems = []
    for path in map(Path, paths):
        expected = count_figures(nbformat.read(path, as_version=4))
        page = Path(html_dir) / f"{path.stem}{suffix}"
        if not page.exists():
            problems.append(f"{page} is missing")
            continue
        found = count_html_figures(page.read_text(encoding="utf-8"))
        print(f"{page}: {found} images for {expected} figure outputs")
        if found != expected:
            problems.append(f"{page}: {found} images, but {path.name} has {expected} figures")
    return problems


def _one_line_when_a_write_fails(main):
    """A full disk, a folder made read-only meanwhile, a FIFO beside the notebooks: one line
    naming the file, exit 1, instead of a traceback."""
    def wrapped(argv=None):
        try:
            return main(argv)
        except OSError as err:
            print(f"error: {err.filename or 'writing the pages'}: {err.strerror or err}",
                  file=sys.stderr)
            return 1
    return wrapped


@_one_line_when_a_write_fails
def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.pages", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    html = commands.add_parser("html", help="static pages from executed notebooks")
    html.add_argument("--widget-renderer", help="html-manager's embed-amd.js (default: a CDN)")
    html.add_argument("--require-js", help="require.js URL (default: a CDN)")
    slides = commands.add_parser("slides", help="reveal.js slides from executed notebooks")
    slides.add_argument("--reveal-prefix", help="reveal.js 4 location (default: a CDN)")
    slides.add_argument("--require-js", help="require.js URL (default: a CDN)")
    slides.add_argument("--jquery", help="jQuery URL (default: a CDN)")
    present = commands.add_parser("present", help="notebooks with slide metadata, for live "
                                  "slides in JupyterLab")
    for command, default in [(html, "build/html"), (slides, "build/slides"),
                             (present, "build/present")]:
        command.add_argument("--output-dir", default=default)
    check = commands.add_parser("check", help="every figure output is an image in the HTML")
    check.add_argument("--html-dir", default="build/html")
    check.add_argument("--suffix", default=".html", help="page name = notebook stem + suffix")
    for command in (html, slides, present, check):
        command.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)

    try:  # every mistake in what was typed, before anything is built
        for path in args.notebooks:
            read_notebook(path)
        if args.command != "check":
            check_output_dir(args.output_dir)
        if args.command == "present":
            check_present_output(args.notebooks, args.output_dir)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    problems = []
    if args.command == "html":
        build_html(args.notebooks, args.output_dir, args.widget_renderer, args.require_js)
        problems = check_figures(args.notebooks, args.output_dir)
    elif args.command == "slides":
        build_slides(args.notebooks, args.output_dir, args.reveal_prefix, args.require_js,
                     args.jquery)
        problems = check_figures(args.notebooks, args.output_dir, ".slides.html")
    elif args.command == "present":
        for target in build_present(args.notebooks, args.output_dir):
            print(target)
    else:
        problems = check_figures(args.notebooks, args.html_dir, args.suffix)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
