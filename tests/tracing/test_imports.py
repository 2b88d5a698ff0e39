import subprocess
import sys


def test_record_processing_imports_no_tensorflow():
    # Writers and compare must stay usable (and fast to import) without TensorFlow.
    code = ("import sys, tracing, tracing.report, tracing.compare, tracing.plots; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported before drawing'")
    subprocess.run([sys.executable, "-c", code], check=True)
