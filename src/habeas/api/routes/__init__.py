"""One router per capability; each route declares the one permission it needs."""
