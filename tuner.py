"""`python tuner.py ...` is the `tuner` command (the tuner/ package shadows this file on import)."""
from tuner.cli import main

if __name__ == "__main__":  # guarded: process-pool workers re-import the main script
    main()
