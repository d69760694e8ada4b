"""Read models folded from the ledger's events, updated in the same transaction as the append."""
