"""Services: authorize, load current state, ask the domain, append events and update projections."""
