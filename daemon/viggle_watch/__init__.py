"""viggle-watch: drop files into folders, get Viggle renders out, never pay twice."""

__version__ = "0.1.0"
