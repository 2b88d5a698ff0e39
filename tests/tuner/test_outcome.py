import pytest

from tuner.outcome import judge, parse_final_line

FINAL = "total accuracy: 97.22%, loss: 0.1234, acc iterations: 144"


def raw(**overrides):
    report = {"exit_code": 0, "stdout": "", "stderr": "", "ending": None, "error": None}
    report.update(overrides)
    return report


def test_parse_final_line_takes_the_last_one():
    stdout = "total accuracy: 10.00%, loss: 2.0, acc iterations: 1\nepoch 2\n" + FINAL + "\n"
    assert parse_final_line(stdout) == {"accuracy": 97.22, "loss": 0.1234, "iterations": 144}
    assert parse_final_line("no numbers here\n") is None
    assert parse_final_line("total accuracy: 10.00%, loss: nan, acc iterations: 3")["loss"] is None


@pytest.mark.parametrize("report, status, reason", [
    (raw(stdout=FINAL), "completed", None),
    (raw(stdout="garbage"), "failed", "no_result_line"),
    (raw(exit_code=3, stdout="diverged at epoch 2, iteration 17\n"), "failed", "diverged"),
    (raw(exit_code=2, stderr="error: unknown network 'nope'\n"), "failed", "bad_input"),
    (raw(exit_code=1, stderr="Traceback\nRuntimeError: boom\n"), "failed", "crashed"),
    (raw(exit_code=4, stderr="Error: out of memory during training (OOM)\n"), "failed", "out_of_memory"),
    (raw(exit_code=-9), "failed", "killed"),
    (raw(exit_code=130, stderr="\ninterrupted by SIGTERM; continue it with: experiment --resume r\n"), "failed", "killed"),
    (raw(exit_code=-15, ending="timeout", timeout_s=5), "failed", "timeout"),
    (raw(exit_code=None, error="could not start 'pythn': No such file"), "failed", "not_started"),
])
def test_judge(report, status, reason):
    verdict = judge(report)
    assert (verdict["status"], verdict["reason"]) == (status, reason)


def test_judge_details_say_what_happened():
    assert judge(raw(exit_code=3, stdout="x\ndiverged at epoch 2, iteration 17\n"))["detail"] == \
        "diverged at epoch 2, iteration 17"
    assert judge(raw(exit_code=1, stderr="Traceback\nRuntimeError: boom\n"))["detail"] == "RuntimeError: boom"
    assert judge(raw(exit_code=-9))["detail"] == "killed by signal SIGKILL"
    # Stopped by a signal it caught: the experiment's own last line says which (resumable: killed).
    assert judge(raw(exit_code=130, stderr="interrupted by SIGHUP; continue it with: experiment --resume r\n"))[
        "detail"] == "interrupted by SIGHUP; continue it with: experiment --resume r"


def test_a_resumed_run_says_from_which_checkpoint():
    # The line training/checkpoints.py prints, after an epoch and inside one.
    after_epoch = "resuming from /s/r/n_BP_001/checkpoints/epoch_2 (epoch 2, iteration 800)\n" + FINAL
    inside = "resuming from /s/r/n_BP_001/checkpoints/epoch_3_step_5 (epoch 3, step 5, iteration 805)\n" + FINAL
    assert judge(raw(stdout=after_epoch))["resumed_from_epoch"] == 2
    verdict = judge(raw(stdout=inside))
    assert (verdict["resumed_from_epoch"], verdict["resumed_from_step"], verdict["resumed_from_iteration"]) == \
        (3, 5, 805)
    fresh = judge(raw(stdout="no usable checkpoint in /s/r/checkpoints: starting from epoch 1\n" + FINAL))
    assert (fresh["resumed_from_epoch"], fresh["resumed_from_step"], fresh["resumed_from_iteration"]) == \
        (None, None, None)
