"""Keep the README's figures equal to the committed benchmark results.

    python -m benchmarks.readme_figures           # rewrite README.md's figure blocks from results/
    python -m benchmarks.readme_figures --check   # exit 1 if a block differs from its source

A figure block in README.md is

    <!-- figures: memory_vs_depth.md table 1 -->
    | network | BP | ... |
    <!-- end figures -->

and holds exactly that table of benchmarks/results/memory_vs_depth.md (or, for a .txt file,
the whole file in a code fence). A source may sit one folder down, e.g. `amd_epyc/step_time.md`:
the results of a second machine, written there with `--out benchmarks/results/amd_epyc`. So a
figure in the README is always one a benchmark measured and committed; prose outside the blocks quotes none (tests/test_readme_figures.py checks both).
"""
import argparse
import os
import re
import sys

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
BLOCK = re.compile(r"<!-- figures: (?P<source>(?:\w[\w-]*/)?[\w.-]+)(?: table (?P<index>\d+))? -->\n(?P<body>.*?)<!-- end figures -->",
                   re.S)


class FigureError(ValueError):
    """A figure block that names a missing results file or table."""


def markdown_tables(text):
    """The tables of a markdown text (runs of lines starting with '|'), each as one string."""
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append("\n".join(current) + "\n")
            current = []
    if current:
        tables.append("\n".join(current) + "\n")
    return tables


def render(source, index=None, results_dir=RESULTS_DIR):
    """What the block naming `source` (and table `index`, 1-based) must hold."""
    path = os.path.join(results_dir, source)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise FigureError(f"figure block names {source}, which cannot be read: {error.strerror}") from None
    if source.endswith(".txt"):
        return "```\n" + text + ("" if text.endswith("\n") else "\n") + "```\n"
    tables = markdown_tables(text)
    number = int(index or 1)
    if not 1 <= number <= len(tables):
        raise FigureError(f"figure block names table {number} of {source}, which has {len(tables)} table(s)")
    return tables[number - 1]


def blocks(readme_text):
    """[(source, index, body)] of every figure block, in order."""
    return [(m["source"], m["index"], m["body"]) for m in BLOCK.finditer(readme_text)]


def sync(readme_text, results_dir=RESULTS_DIR):
    """The README text with every figure block rewritten from its source."""
    def replace(match):
        head = match.group(0)[:match.start("body") - match.start()]
        return head + render(match["source"], match["index"], results_dir) + "<!-- end figures -->"
    return BLOCK.sub(replace, readme_text)


def outside_blocks(readme_text):
    """The README's prose: without figure blocks, code (fenced, indented or inline) and settings."""
    text = BLOCK.sub("", readme_text)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"^ {4}.*$", "", text, flags=re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report blocks that differ; exit 1 if any")
    args = parser.parse_args(argv)
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    try:
        updated = sync(text)
    except FigureError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    if args.check:
        stale = [source for (source, index, body), (_, _, new) in zip(blocks(text), blocks(updated)) if body != new]
        for source in stale:
            print(f"README.md: the figures from {source} are stale", file=sys.stderr)
        return 1 if stale else 0
    if updated != text:
        from definitions.files import atomic_write_text
        atomic_write_text(README, updated)
        print("README.md: figure blocks rewritten from benchmarks/results/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
