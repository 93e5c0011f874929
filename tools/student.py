"""Copies of the notebooks to hand out to students: the worked solutions left out.

A notebook's exercise is an answer cell (``answer_2_1 = ...  # your answer``), a check
(``exercises.check("02.1", answer_2_1)``, which computes the right answer from d2lresnet, so
it is written nowhere in the notebook) and the worked solution: the cells after the check
tagged ``solution``, code and markdown ("Worked answer") alike. The copies are built from the
tags: they drop every cell tagged ``solution``, every output and the Jupytext pairing (a copy
is a plain notebook). A notebook whose untagged cells could still give an answer away is
refused, naming the cell, before anything is written:

- a code cell that binds an ``answer_N_M`` name to anything but ``...``, in any form Python
  has (``answer_1_1: int = 5``, ``+=``, tuple unpacking, ``x = 1; answer_1_1 = 5``, a walrus,
  ``for answer_1_1 in``, ``import ... as answer_1_1``, ``globals()["answer_1_1"]``, ``exec``);
- an untagged code cell right after a check, where the worked solution goes (07.4's once
  printed the block's source there);
- an untagged "Worked answer" / "参考答案" markdown cell.

    python -m tools.student --output-dir build/student/en notebooks/en/*.ipynb
"""
import argparse
import ast
import re
import sys
from pathlib import Path

import nbformat

from tools.execute_notebook import check_output_dir, read_notebook, write_new
from tools.pages import check_present_output, copy_figures, relink_figures

SOLUTION_TAG = "solution"
_ANSWER = re.compile(r"answer_\d+[a-z]*_\d+")  # answer_2_1, answer_6b_1
_CHECK = re.compile(r"\bexercises\.check\(")
_WORKED = re.compile(r"^\W*(worked answer|参考答案|解答)", re.I)
# What reaches a variable through a string, where no parser can tell which one.
_INDIRECT_NAMES = {"globals", "locals", "exec", "eval", "compile", "setattr", "__import__",
                   "__main__", "__builtins__"}
_INDIRECT_ATTRIBUTES = {"__dict__", "__main__", "__builtins__", "user_ns"}


def is_solution(cell):
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def _python(source):
    """The cell as plain Python (IPython's %magics and !commands turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager().transform_cell(source)


def _asks_for_an_answer(node):
    """``answer_N_M = ...``: the one way an untagged cell may bind an answer name."""
    return (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and _ANSWER.fullmatch(node.targets[0].id)
            and isinstance(node.value, ast.Constant) and node.value.value is Ellipsis)


def gives_an_answer(source):
    """Why a code cell could set an exercise's answer (None: it only asks for one with
    ``answer_N_M = ...`` or reads one)."""
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return "it is not Python this tool can read" if _ANSWER.search(source) else None
    asked = {id(node.targets[0]) for node in ast.walk(tree) if _asks_for_an_answer(node)}
    for node in ast.walk(tree):
        indirect = (isinstance(node, ast.Name) and node.id in _INDIRECT_NAMES and node.id
                    or isinstance(node, ast.Attribute) and (
                        node.attr in _INDIRECT_ATTRIBUTES or node.attr == "modules"
                        and isinstance(node.value, ast.Name) and node.value.id == "sys")
                    and node.attr)
        if indirect:
            return f"it uses {indirect}, which can set any name"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "vars" and not node.args:
            return "it uses vars(), which can set any name"
        bound = None
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound = None if id(node) in asked else node.id
        elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
            bound = node.attr
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = node.name
        elif isinstance(node, ast.alias):
            bound = node.asname or node.name
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound = next((n for n in node.names if _ANSWER.fullmatch(n)), None)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            bound = node.name
        elif isinstance(node, ast.MatchMapping):
            bound = node.rest
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and "answer_" in node.value:
            return f"a string names an answer ({node.value[:40]!r})"
        if bound and _ANSWER.search(bound):
            return f"it sets {bound} to something other than ..."
    return None


def _refusal(name, cell, why):
    return ValueError(f"{name}: {why}; tag the cell '{SOLUTION_TAG}' if it is a worked "
                      f"solution:\n{cell.source}")


def check_untagged(nb, name="notebook"):
    """ValueError naming the first untagged cell that could give an answer away (see the
    module docstring), else None."""
    after_check = False
    for cell in nb.cells:
        if is_solution(cell):
            continue
        if cell.cell_type == "markdown":
            after_check = False
            if _WORKED.match(cell.source):
                raise _refusal(name, cell, "a worked answer is not tagged")
        elif cell.cell_type == "code":
            why = gives_an_answer(cell.source)
            if why:
                raise _refusal(name, cell, f"a cell could set an answer ({why})")
            if after_check:
                raise _refusal(name, cell, "an untagged cell follows an exercise's check, "
                                           "where its worked solution goes")
            after_check = bool(_CHECK.search(cell.source))


def student_copy(nb, name="notebook"):
    """The notebook without its solution cells and outputs; ValueError if an untagged cell
    could still give an answer away."""
    check_untagged(nb, name)
    nb.cells = [cell for cell in nb.cells if not is_solution(cell)]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("jupytext", None)  # a plain notebook: saving it writes no .py beside it
    return nb


def build_student(paths, output_dir):
    """Write OUTPUT_DIR/NAME.ipynb for each notebook; return the paths written. Notebooks in a
    language folder read ../figures/: the copies find theirs where tools.pages.shared_figures
    puts them, never outside OUTPUT_DIR unless it is named en or zh."""
    check_present_output(paths, output_dir)
    output_dir = Path(output_dir)
    paths = list(map(Path, paths))
    copies = {path: student_copy(nbformat.read(path, as_version=4), path.name) for path in paths}
    output_dir.mkdir(parents=True, exist_ok=True)
    relink = copy_figures(paths, output_dir)
    written = []
    for path, nb in copies.items():
        target = output_dir / path.name
        write_new(target, nbformat.writes(relink_figures(nb) if relink else nb))
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
    except OSError as err:  # a full disk, a folder made read-only meanwhile
        print(f"error: cannot write the copies in {args.output_dir}: {err.strerror or err}",
              file=sys.stderr)
        return 1
    for target in written:
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
