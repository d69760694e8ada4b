"""Jurisdiction policies as data files: ``jurisdictions/<code>.toml`` (time limits, decrees, space, separation).

Read them with :func:`habeas.policy.loader.load_policy`; the rules they express are
:class:`habeas.domain.policy.Policy`.  ``layouts/`` holds example facility layouts.
"""
