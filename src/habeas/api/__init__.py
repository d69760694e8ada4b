"""The HTTP API (``/api/v1``): every command and query of the register, the law and transfers."""
