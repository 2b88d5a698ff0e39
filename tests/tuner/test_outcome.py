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
    (raw(exit_code=-9), "failed", "killed"),
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
