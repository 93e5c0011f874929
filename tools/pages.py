"""Static copies of the notebooks for instructors: reveal.js slides and a figure check.

The notebooks carry no slide metadata: ``mark_slides`` derives it when the slides are built, so
the sources stay plain and the slides follow every edit. A markdown cell is first split at
each heading inside it, then a ``#`` or ``##`` heading opens a new slide, a deeper heading a
sub-slide (reveal.js: down), and so does prose that follows code, so each explanation and the
cell that demonstrates it share a screen; the rest stays on the slide above it. A cell that
already has ``slideshow`` metadata keeps it (unsplit), so an author can still override one
cell by hand.

    python -m d2lresnet.slides slides --output-dir build/slides build/executed/*.ipynb
    python -m d2lresnet.slides check --html-dir build/html build/executed/*.ipynb

``make html`` and ``make slides`` run these on notebooks executed once into build/executed/.
"""
import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

FIGURE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
_HEADING = re.compile(r"^(#{1,6})\s+\S")


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


def mark_slides(nb):
    """A copy of ``nb`` with its markdown cells split at headings and slideshow metadata on
    every cell (see the module docstring)."""
    nb = copy.deepcopy(nb)
    nb.cells = [part for cell in nb.cells for part in split_at_headings(cell)]
    for i, cell in enumerate(nb.cells):
        if "slide_type" in cell.metadata.get("slideshow", {}):
            continue
        kind = slide_type(cell, nb.cells[i - 1] if i else None)
        if i == 0 and kind in ("-", "subslide"):
            kind = "slide"  # the deck must open with a slide
        cell.metadata["slideshow"] = {"slide_type": kind}
    return nb


def count_figures(nb):
    """Figures among the code cells' outputs (images a reader should see in the HTML)."""
    return sum(1 for cell in nb.cells if cell.cell_type == "code"
               for output in cell.get("outputs", [])
               if any(t in output.get("data", {}) for t in FIGURE_TYPES))


def count_html_figures(html):
    """Images embedded in an nbconvert page: data-URI <img> tags and inline <svg> outputs."""
    return (len(re.findall(r"<img\s[^>]*src=\"data:image/", html))
            + len(re.findall(r"<div[^>]*image/svg\+xml[^>]*>\s*<svg", html)))


def build_slides(paths, output_dir, reveal_prefix=None, require_js=None, jquery=None,
                 mathjax=None):
    """Write OUTPUT_DIR/NAME.slides.html for each notebook; return the paths written."""
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(reveal_scroll=True, reveal_number="c/t")
    for name, value in [("reveal_url_prefix", reveal_prefix), ("require_js_url", require_js),
                        ("jquery_url", jquery), ("mathjax_url", mathjax)]:
        if value:
            setattr(exporter, name, value)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, paths):
        nb = mark_slides(nbformat.read(path, as_version=4))
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        target = output_dir / f"{path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        kinds = [c.metadata.slideshow.slide_type for c in nb.cells]
        print(f"{target}: {kinds.count('slide')} slides, {kinds.count('subslide')} sub-slides, "
              f"{count_figures(nb)} figure outputs")
        written.append(target)
    return written


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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m d2lresnet.slides", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    slides = commands.add_parser("slides", help="reveal.js slides from (executed) notebooks")
    slides.add_argument("notebooks", nargs="+")
    slides.add_argument("--output-dir", default="build/slides")
    slides.add_argument("--reveal-prefix", help="reveal.js 4 location (default: a CDN)")
    slides.add_argument("--require-js", help="require.js URL (default: a CDN)")
    slides.add_argument("--jquery", help="jQuery URL (default: a CDN)")
    slides.add_argument("--mathjax", help="MathJax 2 URL (default: a CDN)")
    check = commands.add_parser("check", help="every figure output is an image in the HTML")
    check.add_argument("notebooks", nargs="+")
    check.add_argument("--html-dir", default="build/html")
    check.add_argument("--suffix", default=".html", help="page name = notebook stem + suffix")
    args = parser.parse_args(argv)

    if args.command == "slides":
        build_slides(args.notebooks, args.output_dir, args.reveal_prefix, args.require_js,
                     args.jquery, args.mathjax)
        problems = check_figures(args.notebooks, args.output_dir, ".slides.html")
    else:
        problems = check_figures(args.notebooks, args.html_dir, args.suffix)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
