"""Safeguards: the catalogue of rules (R1–R31, H1), their checks, and the sweep that raises and resolves alerts."""
