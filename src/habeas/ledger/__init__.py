"""The tamper-evident event ledger: canonical encoding, hash chain, Merkle tree, checkpoints."""
