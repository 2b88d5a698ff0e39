"""Every figure the README quotes is one a benchmark measured and committed to benchmarks/results/."""
import re

import pytest

from benchmarks import readme_figures

README = open(readme_figures.README, encoding="utf-8").read()

# A measured figure in prose: sizes, multiples, percentages with decimals, ratios like 0.066,
# times. (Settings such as a learning rate of 0.01 have two decimals or sit in code.)
MEASURED = re.compile(r"\d+(?:\.\d+)?\s?[KMG]iB\b|\b\d+\.\d+x\b|\b\d+\.\d+%|\b0\.\d{3,}\b|\b\d+(?:\.\d+)?\s?ms\b")


@pytest.mark.parametrize("source,index,body", readme_figures.blocks(README),
                         ids=[f"{s}#{i or 1}" for s, i, _ in readme_figures.blocks(README)])
def test_each_figure_block_is_its_committed_result(source, index, body):
    assert body == readme_figures.render(source, index), \
        f"README's block from {source} is stale: run python -m benchmarks.readme_figures"


def test_the_benchmarks_the_readme_cites_have_blocks():
    sources = {source for source, _, _ in readme_figures.blocks(README)}
    assert {"demo.txt", "accuracy.md", "memory_vs_depth.md", "step_time.md", "time_x_memory.md",
            "versus_keras.md", "mnist5k.md"} <= sources


def test_prose_quotes_no_figure_of_its_own():
    found = MEASURED.findall(readme_figures.outside_blocks(README))
    assert not found, f"figures outside figure blocks (put them in benchmarks/results/): {found}"


def test_a_stale_block_is_found_and_rewritten(tmp_path):
    (tmp_path / "r.md").write_text("# R\n\n| a | b |\n|---|---:|\n| x | 1.000 |\n\nnotes\n\n| t |\n|---|\n| y |\n")
    text = "intro\n<!-- figures: r.md table 2 -->\n| t |\n|---|\n| z |\n<!-- end figures -->\nend\n"
    synced = readme_figures.sync(text, str(tmp_path))
    assert synced == "intro\n<!-- figures: r.md table 2 -->\n| t |\n|---|\n| y |\n<!-- end figures -->\nend\n"
    assert readme_figures.sync(synced, str(tmp_path)) == synced
    with pytest.raises(readme_figures.FigureError, match="table 3 of r.md"):
        readme_figures.render("r.md", "3", str(tmp_path))


def test_a_block_may_name_a_second_machines_results_one_folder_down(tmp_path):
    (tmp_path / "amd_epyc").mkdir()
    (tmp_path / "amd_epyc" / "r.md").write_text("# R\n\n| a |\n|---|\n| 2 |\n")
    text = "<!-- figures: amd_epyc/r.md -->\n| a |\n|---|\n| 1 |\n<!-- end figures -->\n"
    assert readme_figures.sync(text, str(tmp_path)) == "<!-- figures: amd_epyc/r.md -->\n| a |\n|---|\n| 2 |\n<!-- end figures -->\n"
    # Only a plain folder name: a block naming ../ or a deeper path is no block, so never read.
    for source in ("../r.md", "a/b/r.md", "/r.md"):
        assert readme_figures.blocks(f"<!-- figures: {source} -->\nx\n<!-- end figures -->\n") == []
