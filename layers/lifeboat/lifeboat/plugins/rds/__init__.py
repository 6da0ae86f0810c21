"""RDS plugins: DB instances (``instance``) and Aurora / Multi-AZ DB clusters (``cluster``), on
the manual-snapshot primitives they share (``snapshots``).

Nothing is imported here: the registry imports the one plugin module a step needs.
"""
