"""`python experiment.py ...` is the same command as the installed `experiment` script."""
from training.cli import main

if __name__ == "__main__":
    main()
