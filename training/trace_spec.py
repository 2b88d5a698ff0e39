"""`experiment trace SPEC`: find the user's function and what it returns.

SPEC is `path/to/file.py:function` or `package.module:function`. The function returns either a
compiled Keras model and one batch, `(model, (x, y))`, or a step and its arguments,
`(function, (arg, ...))`. A function with a `batch_size` parameter is given --batch_size;
otherwise a Keras batch is cut to its first --batch_size rows. Everything that is wrong is one
ConfigError (the CLI's `Error:` line, exit 2).
"""
import importlib
import importlib.util
import inspect
import os
from dataclasses import dataclass

from definitions import user_files
from definitions.errors import ConfigError
from definitions.names import suggestion

SPEC_FORMS = "'path/to/file.py:function' or 'package.module:function'"
RETURNS = "(compiled Keras model, (x, y)) or (tf.function, (arguments, ...))"


@dataclass
class TraceTarget:
    name: str  # the function's name: the run directory's prefix
    model: object = None  # a compiled Keras model, or None
    batch: tuple = ()  # (x, y) for the model
    step: object = None  # a function to trace, or None
    args: tuple = ()  # its arguments


def load_target(spec, batch_size=None):
    function = _function(spec)
    accepts = "batch_size" in inspect.signature(function).parameters
    try:
        returned = function(batch_size=batch_size) if accepts and batch_size is not None else function()
    except (Exception, SystemExit) as error:
        raise ConfigError(f"{spec} failed: {user_files.failure(inspect.getsourcefile(function), error)}") from None
    target = _target(spec, function.__name__, returned)
    if batch_size is not None and not accepts:
        if target.model is None:
            raise ConfigError(f"--batch_size: {spec} returns a function and its arguments, and takes no batch_size "
                              "parameter: give it one, or leave out --batch_size")
        target.batch = _first_rows(target.batch, batch_size)
    return target


def _function(spec):
    where, colon, name = spec.rpartition(":") if isinstance(spec, str) else ("", "", "")
    if not colon or not where or not name.isidentifier():
        raise ConfigError(f"SPEC {spec!r} is not {SPEC_FORMS}")
    module = _file_module(where) if where.endswith(".py") or os.sep in where else _module(where)
    function = getattr(module, name, None)
    if not callable(function):
        known = [key for key, value in vars(module).items() if callable(value) and not key.startswith("_")
                 and getattr(value, "__module__", None) == module.__name__]
        raise ConfigError(f"{where} has no function {name!r}{suggestion(name, known)}")
    return function


def _file_module(path):
    if not os.path.isfile(path):
        raise ConfigError(f"no such file: {path}")
    return user_files.load(os.path.abspath(path)).module


def _module(name):
    if not all(part.isidentifier() for part in name.split(".")):
        raise ConfigError(f"SPEC: {name!r} is neither a .py file nor a module name ({SPEC_FORMS})")
    try:
        spec = importlib.util.find_spec(name)
    except (Exception, SystemExit) as error:  # a parent package that fails to import, or is missing
        raise ConfigError(f"cannot import {name}: {user_files.failure(None, error)}") from None
    if spec is None:
        raise ConfigError(f"no module named {name!r} (is its directory on PYTHONPATH?)")
    try:
        return importlib.import_module(name)
    except (Exception, SystemExit) as error:
        raise ConfigError(f"cannot import {name}: {user_files.failure(spec.origin, error)}") from None


def _is_keras_model(value):
    return any(cls.__module__.startswith("keras") and cls.__name__ == "Model" for cls in type(value).__mro__)


def _target(spec, name, returned):
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        raise ConfigError(f"{spec} returned {_kind(returned)}; it must return {RETURNS}")
    first, second = returned
    if _is_keras_model(first):
        if not getattr(first, "compiled", False):
            raise ConfigError(f"{spec} returned a Keras model that is not compiled: call "
                              "model.compile(optimizer=..., loss=...) before returning it")
        if not isinstance(second, (tuple, list)) or len(second) != 2:
            raise ConfigError(f"{spec} returned a Keras model with {_kind(second)}; its batch must be (x, y)")
        return TraceTarget(name, model=first, batch=tuple(second))
    if callable(first):
        if not isinstance(second, (tuple, list)):
            raise ConfigError(f"{spec} returned a function with {_kind(second)}; its arguments must be a tuple")
        return TraceTarget(name, step=first, args=tuple(second))
    raise ConfigError(f"{spec} returned ({_kind(first)}, ...); it must return {RETURNS}")


def _first_rows(batch, batch_size):
    rows = min(len(part) for part in batch)
    if batch_size > rows:
        raise ConfigError(f"--batch_size {batch_size}: the batch has {rows} rows only")
    return tuple(part[:batch_size] for part in batch)


def _kind(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if value is None:
        return "None"
    kind = type(value).__name__
    return f"{'an' if kind[0].lower() in 'aeiou' else 'a'} {kind}"
