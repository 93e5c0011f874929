"""`make student` (tools/student.py): copies to hand out, with no worked solution left in them,
every exercise's answer cell and check kept, and a solution cell that lost its tag refused."""
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools.student import build_student, is_solution, main

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _with_solutions(language):
    paths = sorted((NOTEBOOKS / language).glob("*.ipynb"))
    return [p for p in paths if any(map(is_solution, nbformat.read(p, as_version=4).cells))]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_solution_text_survives(language, tmp_path):
    paths = _with_solutions(language)
    assert len(paths) >= 4  # notebooks 01-04 at least
    written = build_student(paths, tmp_path / "student" / language)
    assert [p.name for p in written] == [p.name for p in paths]
    for source, copy in zip(paths, written):
        original = nbformat.read(source, as_version=4)
        student = nbformat.read(copy, as_version=4)
        solutions = [c.source for c in original.cells if is_solution(c)]
        kept = [c for c in original.cells if not is_solution(c)]
        assert [c.source for c in student.cells] == [c.source for c in kept]
        text = copy.read_text(encoding="utf-8")
        # Every line a solution has and the rest of the notebook has not is gone.
        elsewhere = {line.strip() for c in kept for line in c.source.splitlines()}
        gone = {line.strip() for solution in solutions for line in solution.splitlines()
                if line.strip()} - elsewhere
        assert gone
        for line in gone:  # as JSON writes it into the file
            assert json.dumps(line)[1:-1] not in text, line
        assert '"solution"' not in text and "#@title" not in text
        # Each exercise is still there to answer and check, and nothing answers it.
        answers = re.findall(r"^(answer_\d+_\d+) = (.*)$",
                             "\n".join(c.source for c in student.cells), flags=re.M)
        assert answers and all(value == "...  # your answer" for _, value in answers)
        checks = [c for c in student.cells if "exercises.check(" in c.source]
        assert len(checks) == len(answers) == len(solutions)
        assert all(c.outputs == [] for c in student.cells if c.cell_type == "code")
        assert "jupytext" not in student.metadata  # no paired .py written beside a copy


def test_a_solution_without_its_tag_is_refused_in_one_line(tmp_path, capsys):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("answer_1_1 = ...  # your answer"),
        nbformat.v4.new_code_cell('exercises.check("01.1", answer_1_1)'),
        nbformat.v4.new_code_cell('answer_1_1 = 2400\nassert exercises.check("01.1", answer_1_1)'),
    ])
    source = tmp_path / "in" / "01_x.ipynb"
    source.parent.mkdir()
    nbformat.write(nb, source)
    assert main(["--output-dir", str(tmp_path / "out"), str(source)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: 01_x.ipynb: a cell assigns an answer but is not tagged")
    assert not (tmp_path / "out").exists()  # nothing written

    nb.cells[2].metadata["tags"] = ["solution"]
    nbformat.write(nb, source)
    assert main(["--output-dir", str(tmp_path / "out"), str(source)]) == 0
    assert len(nbformat.read(tmp_path / "out" / "01_x.ipynb", as_version=4).cells) == 2


def test_the_copies_do_not_overwrite_the_sources(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tools.student", "--output-dir",
                             str(NOTEBOOKS / "en"), str(NOTEBOOKS / "en" / "02_residual_block.ipynb")],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "overwrite the sources" in result.stderr


def test_make_student_builds_both_languages():
    dry = subprocess.run(["make", "-n", "student"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    for language in ("en", "zh"):
        assert re.search(rf"tools\.student --output-dir build/student/{language} "
                         rf"(notebooks/{language}/\S+\.ipynb ?)+", dry.stdout), dry.stdout
