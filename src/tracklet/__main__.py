"""``python -m tracklet``: the ``tracklet`` command, for environments without the script on PATH."""

from tracklet.cli import main

if __name__ == "__main__":
    main(prog_name="tracklet")
