"""A researcher's own Python file of sequences and network dicts (`--definitions my_nets.py`).

The file follows the rule of the shipped modules: a public function defined in it whose first
parameter is `output_size` is a sequence, a public module-level dict is a network. Whatever
goes wrong while it runs (a syntax error, an exception at import) is one ConfigError naming
the file and the line, so the CLI prints one `Error:` line instead of a traceback.
"""
import ast
import hashlib
import importlib.machinery
import importlib.util
import inspect
import sys
import traceback

from definitions.errors import ConfigError, ZppMemError


def sequences_of(module):
    """{name: function}: the module's own public functions of `output_size` (helpers are left out)."""
    found = {}
    for name, value in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(value) or value.__module__ != module.__name__:
            continue
        if list(inspect.signature(value).parameters)[:1] == ["output_size"]:
            found[name] = value
    return found


def networks_of(module, imported=()):
    """{name: dict}: the module's public dicts, but the `imported` ones (shipped dicts it extends)."""
    skip = {id(network) for network in imported}
    return {name: value for name, value in vars(module).items()
            if isinstance(value, dict) and not name.startswith("_") and id(value) not in skip}


class UserFile:
    """One loaded file: its module, and where in it a name (or a key of a network) is written."""

    def __init__(self, path, module):
        self.path = path
        self.module = module

    def where(self, name, key=None):
        """`path:line` of the statement that defines `name`, or of the line holding `key` in it."""
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            tree = ast.parse(handle.read())  # it ran, so it parses
        statements = [statement for statement in tree.body if name in _names_set_by(statement)]
        for statement in statements if key is not None else ():
            for node in ast.walk(statement):
                if (isinstance(node, ast.Constant) and node.value == key) or \
                        (isinstance(node, ast.keyword) and node.arg == key):
                    return f"{self.path}:{node.lineno}"
        return f"{self.path}:{statements[0].lineno if statements else 1}"


def load(path):
    """Run the file at `path` (absolute) as a module of its own and return it as a UserFile."""
    # One module per path, whatever the file is called: two files named nets.py do not collide.
    name = "zppmem_definitions_" + hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    loader = importlib.machinery.SourceFileLoader(name, path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
    sys.modules[name] = module  # dataclasses, pickle and typing look a class's module up there
    try:
        loader.exec_module(module)
    except OSError as error:
        del sys.modules[name]
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    except (Exception, SystemExit) as error:
        del sys.modules[name]
        raise ConfigError(failure(path, error)) from None
    return UserFile(path, module)


def failure(path, error):
    """One line for an exception raised while the file at `path` ran: `path:line: what`."""
    if isinstance(error, SyntaxError) and error.filename == path:
        return f"{path}:{error.lineno}: {type(error).__name__}: {error.msg}"
    # The file's own line that led to the error; else (it came from a module the file imports)
    # the line that raised it, importlib's frozen frames left out.
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if not frame.filename.startswith("<")]
    ours = [frame for frame in frames if frame.filename == path] or frames[-1:]
    where = f"{ours[-1].filename}:{ours[-1].lineno}" if ours else path
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    what = text if isinstance(error, ZppMemError) else f"{type(error).__name__}: {text}".rstrip(": ")
    return f"{where}: {what}"


def _names_set_by(statement):
    """The module-level names a statement defines or changes (`def x`, `x = ...`, `x.update(...)`, `x[k] = ...`)."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {statement.name}
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) and \
            isinstance(statement.value.func, ast.Attribute):
        targets = [statement.value.func.value]
    else:
        return set()
    names = set()
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                names.add(node.id)
    return names
