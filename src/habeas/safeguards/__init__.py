"""Safeguards: the catalogue of rules (R1–R31), their checks, and the sweep that raises and resolves alerts."""
