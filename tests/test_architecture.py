"""The project's shape, held to ARCHITECTURE.md: imports flow one way, and the map's citations resolve.

The import graph is read from the source (ast), every import statement counted, those inside
functions too: a lazy import that dodges a cycle is still a cycle, only a hidden one.
"""
import ast
import pathlib
import re
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("definitions", "layers", "planning", "training", "tracing", "tuner", "benchmarks")
#: Leaf modules every package may import (ARCHITECTURE.md, "Imports"): the standard library only.
SHARED = ("definitions.errors", "definitions.names", "definitions.files")
#: ...and the packages whose __init__ importing them runs.
SHARED_AND_PARENTS = set(SHARED) | {module.rpartition(".")[0] for module in SHARED}


def project_modules(root=REPO):
    """{module name: path} of every module in the packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_names(path, module):
    """Every module name an import statement in the file names, at any depth of the code."""
    names = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


def import_graph(root=REPO):
    """{module: set of project modules it imports}, with the packages whose __init__ an import runs."""
    modules = project_modules(root)
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(path, module):
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):
                target = ".".join(parts[:depth])
                # Importing a.b.c runs a/__init__ and a/b/__init__; a module's own packages are
                # already being imported when it runs, so they are no edge.
                if target in modules and target != module and not module.startswith(target + "."):
                    targets.add(target)
        graph[module] = targets
    return graph


def cycles(graph):
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_graph(graph):
    """{package: packages it imports}, leaving out imports of the SHARED modules."""
    packages = {package: set() for package in PACKAGES}
    for module, targets in graph.items():
        for target in targets - SHARED_AND_PARENTS:
            if target.split(".")[0] != module.split(".")[0]:
                packages[module.split(".")[0]].add(target.split(".")[0])
    return packages


def test_no_module_imports_itself_through_others():
    assert cycles(import_graph()) == []


def test_packages_import_each_other_in_one_direction():
    # Only the SHARED modules may be imported from anywhere: layers raise definitions' errors
    # while definitions' sequences are made of layers.
    assert cycles(package_graph(import_graph())) == []


def test_the_shared_leaf_modules_need_only_the_standard_library():
    # Every package imports them, the tuner and `experiment --list` included: no TensorFlow.
    graph, modules = import_graph(), project_modules()
    for module in sorted(SHARED_AND_PARENTS):
        assert graph[module] <= SHARED_AND_PARENTS, f"{module} imports {sorted(graph[module] - SHARED_AND_PARENTS)}"
        outside = [name for name in imported_names(modules[module], module)
                   if name.split(".")[0] not in PACKAGES and name.split(".")[0] not in sys.stdlib_module_names]
        assert not outside, f"{module} imports {outside}"


CITATION = re.compile(r'ARCHITECTURE\.md(?P<rest>,?\s*"(?P<section>[^"\n]+)")?')


def headings(text):
    """The section names of a Markdown file: its '#' lines without the hashes."""
    return {line.lstrip("#").strip() for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def citations(root=REPO):
    """(file:line, section or None) for every mention of ARCHITECTURE.md in the Python files."""
    found = []
    paths = [*root.glob("*.py"), *(path for folder in (*PACKAGES, "tests") for path in (root / folder).rglob("*.py"))]
    for path in sorted(paths):
        if path == pathlib.Path(__file__):
            continue  # this file writes about citations rather than making them
        text = path.read_text(encoding="utf-8")
        for match in CITATION.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{path.relative_to(root)}:{line}", match.group("section")))
    return found


def test_every_citation_of_the_architecture_names_a_section_that_exists():
    sections = headings((REPO / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    cited = citations()
    assert len(cited) >= 5, cited  # the map is cited where its facts matter
    wrong = [(where, section) for where, section in cited if section not in sections]
    assert not wrong, f"cite as ARCHITECTURE.md, \"<one of {sorted(sections)}>\": {wrong}"


def test_a_citation_without_a_section_or_with_a_lost_one_is_caught(tmp_path):
    (tmp_path / "a.py").write_text('"""See ARCHITECTURE.md.\n\nAnd ARCHITECTURE.md, "Imports"; ARCHITECTURE.md "Gone"."""\n')
    assert citations(tmp_path) == [("a.py:1", None), ("a.py:3", "Imports"), ("a.py:3", "Gone")]
    assert headings("# Title\n## Imports\n### One run, start to finish\n#not a heading\n") == {
        "Title", "Imports", "One run, start to finish"}


def test_the_checks_find_the_cycles_they_are_for(tmp_path):
    """A module cycle through a lazy import, and a package cycle through modules that form none."""
    files = {
        "definitions/__init__.py": "", "definitions/errors.py": "class ConfigError(Exception): pass\n",
        "definitions/registry.py": "import layers.registry\n",
        "layers/__init__.py": "", "layers/registry.py": "def f():\n    from definitions.registry import x\n",
        "training/__init__.py": "", "training/files.py": "import os\n", "training/memory.py": "import tracing\n",
        "tracing/__init__.py": "", "tracing/report.py": "from training.files import atomic_write_json\n",
        "tuner/__init__.py": "from definitions.errors import ConfigError\n",  # shared: no package edge
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    graph = import_graph(tmp_path)
    assert cycles(graph) == [["definitions.registry", "layers.registry"]]
    assert sorted(cycles(package_graph(graph))) == [["definitions", "layers"], ["tracing", "training"]]


def test_every_package_is_installed_and_every_directory_with_python_is_a_package():
    """`pip install` ships the packages setup.cfg includes; one left out imports from a checkout
    (the tests run there) and fails once installed (`experiment plan` did)."""
    import configparser
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    included = {line.strip().rstrip("*") for line in config["options.packages.find"]["include"].split() if line.strip()}
    # benchmarks/ is a package of the checkout, not of the distribution: its scripts run there
    # and write benchmarks/results/ there (README, "Set-up").
    assert included == set(PACKAGES) - {"benchmarks"}
    with_python = {path.parent.name for path in REPO.glob("*/*.py")} - {"tests", "shared", "seeds"}
    assert with_python <= set(PACKAGES), f"directories with Python outside the packages: {with_python - set(PACKAGES)}"
    for package in PACKAGES:
        assert (REPO / package / "__init__.py").exists(), f"{package}/ has no __init__.py: find_packages skips it"
