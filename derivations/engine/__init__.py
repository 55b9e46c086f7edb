"""The engine: reading a problem, the operation registry, the one reverse loop, values, theorems."""
