"""A stand-in for experiment.py that follows its contract and misbehaves on request.

Takes any `--key value` pairs. --output_dir is required (the tuner adds it). Behaviour:
  --mode ok        print a final `total accuracy: ...` line, exit 0 (default)
  --mode diverge   print `diverged at epoch 1, iteration 7`, exit 3
  --mode badinput  one line on stderr, exit 2
  --mode crash     a traceback on stderr, exit 1
  --mode garbage   exit 0 but print bytes that are no final line
  --mode hang      sleep until killed
  --mode stubborn  ignore SIGTERM, sleep until killed
  --sleep S        sleep S seconds first
  --wait_for PATH  wait until PATH exists first ("none": do not wait), saying so on stdout
                   (unflushed) and stderr
Every start appends a line to OUTPUT_DIR/ran.txt and writes OUTPUT_DIR/pid, so tests can
count runs and check that a stopped run's process is gone.
Accuracy is a deterministic function of --learning_rate and --batch_size.
"""
import os
import signal
import sys
import time


def main(argv):
    if len(argv) % 2:
        print(f"fake_experiment: expected --key value pairs, got {argv}", file=sys.stderr)
        return 2
    opts = {}
    for key, value in zip(argv[::2], argv[1::2]):
        if not key.startswith("--"):
            print(f"fake_experiment: {key!r} is not an option", file=sys.stderr)
            return 2
        opts[key[2:]] = value
    if "output_dir" not in opts:
        print("fake_experiment: --output_dir is required", file=sys.stderr)
        return 2
    out = opts["output_dir"]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "ran.txt"), "a") as handle:
        handle.write("ran\n")
    with open(os.path.join(out, "pid"), "w") as handle:
        handle.write(str(os.getpid()))

    mode = opts.get("mode", "ok")
    print("starting", " ".join(f"{k}={v}" for k, v in sorted(opts.items())), flush=True)
    wait_for = opts.get("wait_for", "none")
    if wait_for != "none":
        # Not flushed: only an unbuffered child (the tuner sets PYTHONUNBUFFERED) shows it at once.
        print(f"waiting for {wait_for}")
        print(f"fake_experiment: waiting for {wait_for}", file=sys.stderr)
    while wait_for != "none" and not os.path.exists(wait_for):
        time.sleep(0.05)
    time.sleep(float(opts.get("sleep", 0)))

    if mode == "ok":
        lr = float(opts.get("learning_rate", 0.1))
        batch = int(opts.get("batch_size", 10))
        accuracy = 90.0 + 50.0 * lr - batch / 10.0
        print("epoch 1: loss 0.5")
        print(f"total accuracy: {accuracy:.2f}%, loss: {1.0 / (1 + lr):.4f}, acc iterations: {1000 // batch}")
        return 0
    if mode == "diverge":
        print("diverged at epoch 1, iteration 7")
        return 3
    if mode == "badinput":
        print("error: unknown network 'nope'", file=sys.stderr)
        return 2
    if mode == "crash":
        print("Traceback (most recent call last):\nRuntimeError: boom", file=sys.stderr)
        return 1
    if mode == "garbage":
        sys.stdout.flush()
        sys.stdout.buffer.write(b"\xff\xfe total acc\x00uracy: lots\n")
        return 0
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if mode in ("hang", "stubborn"):
        while True:
            time.sleep(0.1)
    print(f"fake_experiment: unknown --mode {mode}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
