"""``habeas demo``: the facility from the reports (standards.md §3–5), synthetic, one command away."""
