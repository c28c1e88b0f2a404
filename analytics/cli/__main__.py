"""``python -m analytics.cli``: the same as the ``lastmile`` executable."""

from analytics.cli import run

if __name__ == "__main__":
    run()
