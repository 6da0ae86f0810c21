"""Local mode: our real state machines and handlers on moto's in-process AWS emulation.

Nothing here runs on AWS; it exists so that `make demo` and the tests exercise the same ASL,
handlers and table definition that `sam deploy` ships.
"""
