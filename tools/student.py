"""Copies of the notebooks to hand out to students: the worked solutions left out.

A notebook's exercise is an answer cell (``answer_2_1 = ...  # your answer``), a check
(``exercises.check("02.1", answer_2_1)``, which computes the right answer from d2lresnet, so
it is written nowhere in the notebook) and the worked solution, a cell tagged ``solution``.
The copies keep the first two and drop every solution cell, every output and the Jupytext
pairing (a copy is a plain notebook). A copy that would still assign an answer other than
``...`` is refused: a solution cell without its tag.

    python -m tools.student --output-dir build/student/en notebooks/en/*.ipynb
"""
import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat

from tools.execute_notebook import check_output_dir, read_notebook
from tools.pages import LANGUAGE_FOLDERS, check_present_output

SOLUTION_TAG = "solution"
# An exercise's answer given in clear text: anything but the `...` a student replaces.
_ANSWERED = re.compile(r"^answer_\d+_\d+\s*=(?!\s*\.\.\.\s*(#|$))", re.M)


def is_solution(cell):
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def student_copy(nb, name="notebook"):
    """The notebook without its solution cells and outputs; ValueError if an answer survives."""
    nb.cells = [cell for cell in nb.cells if not is_solution(cell)]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if _ANSWERED.search(cell.source):
                raise ValueError(f"{name}: a cell assigns an answer but is not tagged "
                                 f"'{SOLUTION_TAG}':\n{cell.source}")
    nb.metadata.pop("jupytext", None)  # a plain notebook: saving it writes no .py beside it
    return nb


def build_student(paths, output_dir):
    """Write OUTPUT_DIR/NAME.ipynb for each notebook; return the paths written. Notebooks in a
    language folder read ../figures/: it is copied one level above OUTPUT_DIR."""
    check_present_output(paths, output_dir)
    output_dir = Path(output_dir)
    paths = list(map(Path, paths))
    copies = {path: student_copy(nbformat.read(path, as_version=4), path.name) for path in paths}
    output_dir.mkdir(parents=True, exist_ok=True)
    if paths and paths[0].parent.name in LANGUAGE_FOLDERS:
        shared = paths[0].parent.parent / "figures"
        if shared.is_dir():
            shutil.copytree(shared, output_dir.parent / "figures", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    written = []
    for path, nb in copies.items():
        target = output_dir / path.name
        nbformat.write(nb, target)
        written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.student", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", default="build/student")
    parser.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)
    try:  # every mistake in what was typed, and every untagged answer, before writing
        for path in args.notebooks:
            read_notebook(path)
        check_output_dir(args.output_dir)
        written = build_student(args.notebooks, args.output_dir)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for target in written:
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
