"""``python -m omnisdk``: the same as the ``omnisdk`` command."""

from omnisdk.cli import main

if __name__ == "__main__":
    main(prog_name="omnisdk")
