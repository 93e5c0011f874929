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
        assert '"solution"' not in text and "# Solution · 解答" not in text
        # Each exercise is still there to answer and check, and nothing answers it.
        answers = re.findall(r"^(answer_\d+[a-z]*_\d+) = (.*)$",
                             "\n".join(c.source for c in student.cells), flags=re.M)
        assert answers and all(value.startswith("...  # your answer") for _, value in answers)
        checks = [c for c in student.cells if "exercises.check(" in c.source]
        assert len(checks) == len(answers) == sum("exercises.check(" in s for s in solutions)
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
    assert error.startswith("error: 01_x.ipynb: a cell could set an answer (it sets answer_1_1 "
                            "to something other than ...); tag the cell 'solution'")
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


# Issue 35 items 5 and 9, issue 33 §5: built from the tags, no answer in any form ------------

# Every way an untagged cell once gave an answer away (2400 is 01.1's), each refused.
GIVES_AN_ANSWER = [
    "answer_1_1 = 2400",
    "answer_1_1: int = 2400",
    "answer_1_1: int = ...\nanswer_1_1 = 2400",
    "if True:\n    answer_1_1 = 2400",
    "answer_1_1 = ...\nanswer_1_1 += 2400",
    "answer_1_1, other = 2400, 0",
    "[answer_1_1, other] = 2400, 0",
    "x = 1; answer_1_1 = 2400",
    "(answer_1_1 := 2400)",
    "print(answer_1_1 := 2400)",
    "for answer_1_1 in [2400]:\n    pass",
    "with open('f') as answer_1_1:\n    pass",
    "globals()['answer_1_1'] = 2400",
    "globals().update(answer_1_1=2400)",
    "vars()['answer_1_1'] = 2400",
    "exec('answer_1_1 = 2400')",
    "setattr(__import__('__main__'), 'answer_1_1', 2400)",
    "import sys\nsys.modules['__main__'].answer_1_1 = 2400",
    "import math as answer_1_1",
    "def answer_1_1():\n    return 2400",
    "try:\n    1 / 0\nexcept ZeroDivisionError as answer_1_1:\n    pass",
    "match 2400:\n    case answer_1_1:\n        pass",
    "answer_1_1 = ... if False else 2400",
    "answer_1_1 = ...\ndel answer_1_1\nanswer_1_1 = 2400",
    "%time answer_1_1 = 2400",
]


def _exercise(*cells):
    """A notebook with one exercise around the given cells (code, unless a (type, source,
    tags) tuple)."""
    made = []
    for cell in cells:
        kind, source, tags = cell if isinstance(cell, tuple) else ("code", cell, [])
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        made.append(new(source, metadata={"tags": tags} if tags else {}))
    return nbformat.v4.new_notebook(cells=made)


def _build(tmp_path, nb, name="01_x.ipynb"):
    source = tmp_path / "in" / name
    source.parent.mkdir(exist_ok=True)
    nbformat.write(nb, source)
    return main(["--output-dir", str(tmp_path / "out"), str(source)])


@pytest.mark.parametrize("cell", GIVES_AN_ANSWER)
def test_an_answer_in_any_form_in_an_untagged_cell_is_refused(tmp_path, capsys, cell):
    nb = _exercise("answer_1_1 = ...  # your answer", ("markdown", "Now compute it.", []), cell,
                   ("markdown", "Then check it.", []), 'exercises.check("01.1", answer_1_1)')
    assert _build(tmp_path, nb) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: 01_x.ipynb: a cell could set an answer"), error
    assert not (tmp_path / "out").exists()  # nothing written


def test_what_only_reads_an_answer_or_asks_for_one_is_kept(tmp_path):
    kept = ["answer_1_1 = ...  # your answer", "print(answer_1_1)\nx = answer_1_1",
            "run = {**vars(history)}\nnet.eval()\nn = len(list(net.modules()))",
            "%matplotlib inline", 'exercises.check("01.1", answer_1_1)',
            ("code", "answer_1_1_solution = 2400", ["solution"])]
    assert _build(tmp_path, _exercise(*kept)) == 0
    copy = nbformat.read(tmp_path / "out" / "01_x.ipynb", as_version=4)
    assert [c.source for c in copy.cells] == kept[:-1]


@pytest.mark.parametrize("after_the_check, why", [
    ("print(inspect.getsource(PreActResidual.forward))",  # 07.4's handout printed the answer
     "an untagged cell follows an exercise's check"),
    (("markdown", "**Worked answer.** BatchNorm and ReLU come first.", []),
     "a worked answer is not tagged"),
    (("markdown", "**参考答案。** 批量规范化层和ReLU在前。", []), "a worked answer is not tagged"),
])
def test_an_untagged_worked_solution_after_a_check_is_refused(tmp_path, capsys,
                                                              after_the_check, why):
    nb = _exercise("answer_7_4 = ...  # your answer", 'exercises.check("07.4", answer_7_4)',
                   ("code", "solution_7_4 = ['bn']", ["solution"]), after_the_check)
    assert _build(tmp_path, nb, "07_x.ipynb") == 2
    assert why in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_tagged_markdown_and_code_after_a_check_are_dropped(tmp_path):
    nb = _exercise("answer_7_4 = ...  # your answer", 'exercises.check("07.4", answer_7_4)',
                   ("code", "solution_7_4 = ['bn']", ["solution"]),
                   ("markdown", "**Worked answer.** BatchNorm first.", ["solution"]),
                   ("code", "print(inspect.getsource(PreActResidual.forward))", ["solution"]),
                   ("markdown", "### Exercise 5", []))
    assert _build(tmp_path, nb, "07_x.ipynb") == 0
    copy = nbformat.read(tmp_path / "out" / "07_x.ipynb", as_version=4)
    assert [c.source for c in copy.cells] == ["answer_7_4 = ...  # your answer",
                                              'exercises.check("07.4", answer_7_4)',
                                              "### Exercise 5"]


class _Names(dict):
    """A namespace in which every name not yet set is None: the copy's exercise cells run
    without the lesson's cells before them."""

    def __missing__(self, name):
        return None


@pytest.mark.parametrize("language", ["en", "zh"])
def test_running_a_copys_exercise_cells_leaves_every_answer_unanswered(language, tmp_path):
    paths = _with_solutions(language)
    checked = {}

    class Exercises:
        def check(self, number, answer, **run):
            checked[number] = answer

    for copy in build_student(paths, tmp_path / "student" / language):
        student = nbformat.read(copy, as_version=4)
        worked = [c.source for c in student.cells  # what the worked answers begin with
                  if re.match(r"\W*(Worked answer|参考答案)", c.source)
                  or "getsource(PreAct" in c.source]
        assert not worked, worked
        names = _Names(exercises=Exercises())  # one kernel per notebook
        for cell in student.cells:
            if cell.cell_type == "code" and re.search(r"answer_\d+[a-z]*_\d+", cell.source):
                exec(cell.source, {}, names)
    assert len(checked) >= 10 and all(answer is Ellipsis for answer in checked.values()), checked


def _language_folders(tmp_path):
    """notebooks/{en,figures}/ and the instructor's own k6/figures/ beside the output."""
    source = tmp_path / "notebooks"
    (source / "figures").mkdir(parents=True)
    (source / "figures" / "x.png").write_bytes(b"the notebook's figure")
    (source / "en").mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# T\n\n![x](../figures/x.png)"),
        nbformat.v4.new_code_cell('runs = load_runs("../figures/x.json")')]),
        source / "en" / "demo.ipynb")
    mine = tmp_path / "k6" / "figures" / "x.png"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"the instructor's own figure")
    return source / "en" / "demo.ipynb", mine


@pytest.mark.parametrize("tool", ["student", "present"])
def test_nothing_is_written_outside_the_folder_asked_for(tmp_path, tool):
    from tools import pages
    notebook, mine = _language_folders(tmp_path)
    out = tmp_path / "k6" / ("handout" if tool == "student" else "slides")
    if tool == "student":
        assert main(["--output-dir", str(out), str(notebook)]) == 0
    else:
        assert pages.main(["present", "--output-dir", str(out), str(notebook)]) == 0
    assert mine.read_bytes() == b"the instructor's own figure"
    assert sorted(p.name for p in mine.parent.parent.iterdir()) == ["figures", out.name]
    assert (out / "figures" / "x.png").read_bytes() == b"the notebook's figure"
    copy = nbformat.read(out / "demo.ipynb", as_version=4)  # pointing at the figures it has
    assert "](figures/x.png)" in copy.cells[0].source
    assert copy.cells[1].source == 'runs = load_runs("figures/x.json")'


def test_make_student_copies_still_share_the_figures_one_level_up(tmp_path):
    notebook, _ = _language_folders(tmp_path)
    assert main(["--output-dir", str(tmp_path / "build" / "student" / "en"), str(notebook)]) == 0
    copy = tmp_path / "build" / "student" / "en" / "demo.ipynb"
    assert "](../figures/x.png)" in nbformat.read(copy, as_version=4).cells[0].source
    assert (copy.parent.parent / "figures" / "x.png").read_bytes() == b"the notebook's figure"


def test_a_read_only_output_folder_is_one_line_before_anything_is_built(tmp_path):
    from readonly import read_only
    (tmp_path / "build").mkdir()
    with read_only(tmp_path / "build"):
        result = subprocess.run([sys.executable, "-m", "tools.student", "--output-dir",
                                 str(tmp_path / "build" / "student" / "en"),
                                 str(NOTEBOOKS / "en" / "02_residual_block.ipynb")],
                                cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "cannot write in" in result.stderr and "Traceback" not in result.stderr


def test_the_readme_says_the_checks_teach_and_names_tools_that_grade():
    # Issue 35 item 10: a kernel can be patched, so a check in it is no grade.
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "The checks teach; they do not grade." in text
    assert "nbgrader" in text and "hidden tests" in text and "otter-grader" in text


def test_a_lettered_notebooks_answers_are_guarded_too(tmp_path, capsys):
    # 06b's exercises are answer_6b_1, answer_6b_2: the same rules hold for them.
    nb = _exercise("answer_6b_1 = ...  # your answer", "answer_6b_1 += 512",
                   ("markdown", "Check it.", []), 'exercises.check("06b.1", answer_6b_1)')
    assert _build(tmp_path, nb, "06b_x.ipynb") == 2
    assert "it sets answer_6b_1 to something other than ..." in capsys.readouterr().err
