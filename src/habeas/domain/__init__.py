"""Pure domain code: value types, events and decisions.  No I/O, no clock."""
