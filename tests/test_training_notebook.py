"""The notebooks clean up after themselves: every temporary file or folder they make is a
`with` block's, deleted when the block ends. (Notebook 05 itself runs under nbval, where its
saving cell asserts its folder is gone; here no notebook is run a second time, the code is
read.)"""
import ast
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks" / "en").glob("[0-9]*.py"))
SELF_CLEANING = {"TemporaryDirectory", "TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile"}


def temporary_things_left_behind(source):
    """tempfile calls in source that nothing deletes: outside a `with`, or delete=False."""
    tree = ast.parse(source)
    in_with = {id(item.context_expr) for node in ast.walk(tree) if isinstance(node, ast.With)
               for item in node.items}
    left = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "tempfile":
            keeps = any(k.arg in ("delete", "delete_on_close") and
                        isinstance(k.value, ast.Constant) and not k.value.value
                        for k in node.keywords)
            if node.func.attr not in SELF_CLEANING or id(node) not in in_with or keeps:
                left.append(f"line {node.lineno}: tempfile.{node.func.attr}")
    return left


def test_the_check_catches_what_it_names():
    assert temporary_things_left_behind("import tempfile\nd = tempfile.mkdtemp()")
    assert temporary_things_left_behind("with tempfile.NamedTemporaryFile(delete=False): pass")
    assert temporary_things_left_behind("d = tempfile.TemporaryDirectory()")
    assert not temporary_things_left_behind("with tempfile.TemporaryDirectory() as d: pass")


def test_notebook_05_still_saves_in_a_temporary_folder():
    code = "\n".join(c.source for c in jupytext.read(NOTEBOOKS[0].with_name("05_training.py"))
                     .cells if c.cell_type == "code")
    assert "torch.save" in code and "tempfile.TemporaryDirectory()" in code


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_leave_no_temporary_files(notebook):
    for cell in jupytext.read(notebook).cells:
        if cell.cell_type == "code" and "tempfile" in cell.source:
            source = "\n".join(line for line in cell.source.splitlines()
                               if not line.lstrip().startswith(("%", "!")))  # IPython magics
            assert not temporary_things_left_behind(source), (notebook.name, cell.source)
