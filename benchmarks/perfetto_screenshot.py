"""The README's picture of a trace in the Perfetto UI: a Keras model's own step beside DFA on it.

    python -m benchmarks.perfetto_screenshot [--out benchmarks/results/perfetto_keras_vs_dfa.png]

Traces `definitions.keras_examples:digits_trace` (Keras' train_step with Adam, `experiment
trace`) and the same Keras model converted and trained by DFA (`--memory_only`), merges the two
traces as `experiment compare --trace` does, opens the result in the Perfetto UI in headless
Chromium (tracing/perfetto_browser.py; the `browser` extra and a system Chromium) and saves a
screenshot with every run's tracks expanded.
"""
import argparse
import os
import subprocess
import sys
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "perfetto_keras_vs_dfa.png")


def run(*args):
    subprocess.run([sys.executable, "-m", "training.cli", *args], check=True, stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUT)
    out = parser.parse_args().out
    from tracing.perfetto_browser import ENABLE, missing, perfetto_page
    if missing():
        sys.exit(f"needs {', '.join(missing())}: {ENABLE}")
    with tempfile.TemporaryDirectory() as runs:
        run("trace", "definitions.keras_examples:digits_trace", "--batch_size", "32", "--output_dir", runs,
            "--id", "keras")
        run("--sequence", "definitions.keras_examples:digits_convnet", "--type", "DFA", "--batch_size", "32",
            "--memory_only", "true", "--output_dir", runs, "--id", "dfa")
        from training.cli_view import view_trace
        trace = view_trace([os.path.join(runs, "keras"), os.path.join(runs, "dfa")])
        with perfetto_page(1600, 760) as page:
            page.open(trace)
            page.screenshot(out)
    print(out)


if __name__ == "__main__":
    main()
