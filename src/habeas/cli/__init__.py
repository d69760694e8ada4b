"""The ``habeas`` command line (Typer + Rich)."""
