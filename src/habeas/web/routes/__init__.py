"""The pages, one module per area; each module has one ``router`` (see habeas.web)."""
