"""habeas: a custody register in which nobody disappears."""

__version__ = "0.1.0"
