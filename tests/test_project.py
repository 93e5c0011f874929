"""Project files kept in step: pip vs conda dependencies, and each notebook .py/.ipynb pair."""
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONDA_TO_PIP = {"pytorch": "torch", "matplotlib-base": "matplotlib"}
CHANNELS = ["conda-forge", "nodefaults"]  # conda-forge only: no mixing with pytorch/defaults


def _requirement(text):
    """("torch", ">=2.4") from "torch>=2.4  # ..." or conda's "pytorch>=2.4"."""
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*([^#;]*)", text).groups()
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_TO_PIP.get(name, name), spec.replace(" ", "")


def _pip(extra=None):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return dict(map(_requirement, requirements))


def _conda(path):
    """{name: spec} of a conda environment file (its pip: section included), and the file."""
    env = yaml.safe_load((ROOT / path).read_text())
    pip = next((d["pip"] for d in env["dependencies"] if isinstance(d, dict)), [])
    names = [d for d in env["dependencies"] if isinstance(d, str)] + \
            [p for p in pip if not p.startswith("-")]
    return dict(map(_requirement, names)), env


def test_runtime_and_lab_are_environment_yml_conda_forge_only():
    conda, env = _conda("environment.yml")
    assert env["channels"] == CHANNELS
    assert conda.pop("python") == ">=3.11" and conda.pop("pip") == ""
    assert conda == _pip() | _pip("lab")
    # The package itself, without letting pip touch what conda installed.
    assert env["dependencies"][-1] == {"pip": ["--no-deps -e ."]}


def test_dev_tools_are_environment_dev_yml():
    conda, env = _conda("environment-dev.yml")
    assert env["channels"] == CHANNELS and conda.pop("pip") == ""
    assert conda == _pip("dev")


def test_the_student_install_has_no_test_tools():
    student = set(_pip()) | set(_pip("lab"))
    assert {"torch", "torchvision", "matplotlib", "ipywidgets", "tqdm"} == set(_pip())
    assert {"jupyterlab", "jupytext"} <= set(_pip("lab"))
    assert not student & {"pytest", "nbval", "hypothesis", "playwright", "pytest-playwright"}


def test_binder_builds_the_same_environment_then_installs_the_package():
    binder, env = _conda("binder/environment.yml")
    conda, _ = _conda("environment.yml")
    assert env["channels"] == CHANNELS
    # repo2docker picks its Python from an exact "python=3.X" (a range gets its old default).
    python, _ = binder.pop("python"), conda.pop("python")
    assert re.fullmatch(r"=3\.\d+", python) and int(python.split(".")[1]) >= 11, python
    assert binder == {k: v for k, v in conda.items() if k != "pip"}
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK)
    assert "pip install --no-deps -e ." in post_build.read_text()


def test_python_floor_is_declared_once_everywhere():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert _conda("environment.yml")[0]["python"] == ">=3.11"


def test_jupytext_pairs_ipynb_with_py_percent():
    config = tomllib.loads((ROOT / "jupytext.toml").read_text())
    assert config["formats"] == "ipynb,py:percent"


def _cells(path):
    return [(cell.cell_type, cell.source.strip()) for cell in jupytext.read(path).cells]


NOTEBOOK_DIR = ROOT / "notebooks"


def _notebook_id(path):
    return path.relative_to(NOTEBOOK_DIR).as_posix()


@pytest.mark.parametrize("source", sorted(NOTEBOOK_DIR.glob("**/*.py")), ids=_notebook_id)
def test_notebook_matches_its_py_source(source):
    notebook = source.with_suffix(".ipynb")
    assert notebook.exists(), f"{notebook.name} is missing: run `make sync`"
    assert _cells(notebook) == _cells(source), f"{notebook.name} is out of date: run `make sync`"


@pytest.mark.parametrize("notebook", sorted(NOTEBOOK_DIR.glob("*/*.ipynb")), ids=_notebook_id)
def test_notebook_is_committed_without_outputs(notebook):
    # The .py is the source; executed copies are build products (make html).
    code_cells = [c for c in jupytext.read(notebook).cells if c.cell_type == "code"]
    assert code_cells and all(not c.outputs and c.execution_count is None for c in code_cells)


def _vermin(target, *paths):
    # vermin knows which release brought each language feature and standard-library name.
    # (vermin has no __main__ module: call its main() the way its console script does.)
    return subprocess.run([sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())",
                           "--no-tips", "--violations",
                           "--eval-annotations", f"-t={target}-", *map(str, paths)],
                          capture_output=True, text=True, cwd=ROOT)


def test_nothing_needs_a_python_above_the_floor():
    result = _vermin("3.11", "d2lresnet", "tools", "tests", "notebooks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_floor_check_catches_newer_python(tmp_path):
    # It would have caught the old floor (3.10 vs hashlib.file_digest) and catches 3.12 names.
    assert _vermin("3.10", "d2lresnet/data.py").returncode == 1
    newer = tmp_path / "newer.py"
    newer.write_text("import itertools\nprint(list(itertools.batched('abc', 2)))\n")
    result = _vermin("3.11", newer)
    assert result.returncode == 1 and "itertools.batched" in result.stdout


POSIX_ONLY = ("resource", "fcntl", "pwd", "grp", "termios")  # none of them exists on Windows


def test_every_module_imports_without_posix_only_modules():
    # What Windows would do: each `import resource` (etc.) raises ImportError.
    code = ("import importlib, pkgutil, sys\n"
            f"sys.modules.update(dict.fromkeys({POSIX_ONLY!r}))\n"
            "import d2lresnet\n"
            "for module in pkgutil.iter_modules(d2lresnet.__path__):\n"
            "    if module.name != '__main__':  # (that one runs the command line)\n"
            "        importlib.import_module('d2lresnet.' + module.name)\n")
    result = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, MPLBACKEND="Agg"),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def test_readme_layout_names_every_module_and_tool():
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout"):]
    layout = layout[:layout.index("```", layout.index("```") + 3)]
    files = [p for p in (ROOT / "d2lresnet").rglob("*.py") if p.name != "__init__.py"]
    files += [p for p in (ROOT / "tools").glob("*.py") if p.name != "__init__.py"]
    missing = [str(p.relative_to(ROOT)) for p in files if p.name not in layout]
    assert not missing, f"README's Layout does not name {missing}"
    subpackages = [p.name for p in (ROOT / "d2lresnet").iterdir()
                   if p.is_dir() and (p / "__init__.py").exists()]
    assert all(f"{name}/" in layout for name in subpackages)


def test_no_import_cycle_between_the_package_modules():
    """Every module's imports of its siblings, as a graph, has no cycle (checkpoint <-> train
    had one: a module that needs the other at import time cannot be read on its own)."""
    import ast
    graph = {}
    for path in (ROOT / "d2lresnet").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = name if parts[-1] == "__init__" else name.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                imported.add(target)
                imported.update(f"{target}.{alias.name}" for alias in node.names)
        graph[name] = imported
    graph = {name: {t for t in targets if t in graph and t != name and
                    not name.startswith(t + ".") and not t.startswith(name + ".")}
             for name, targets in graph.items()}

    def cycle_from(start, node, seen):
        for nxt in graph[node]:
            if nxt == start:
                return [node, nxt]
            if nxt not in seen:
                seen.add(nxt)
                path = cycle_from(start, nxt, seen)
                if path:
                    return [node] + path
        return None

    cycles = [cycle_from(name, name, {name}) for name in graph]
    assert not any(cycles), [c for c in cycles if c]
