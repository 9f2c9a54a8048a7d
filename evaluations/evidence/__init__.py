"""Evidence: a claim next to the measurement in its setting, and what that says.

- ``verdicts``: the one verdict type, with its order and labels;
- ``rule``: DISCREPANCY.md's test (pure);
- ``health``: the run health check before any flag (pure);
- ``matching``: the one matcher and the loaders every page, export and service reads.
"""
