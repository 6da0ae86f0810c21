"""The demo on the emulated account: fleet, sample data, backdated history, the acts, and the
``LocalMode`` the cli's ``--local`` runs go through (``local_mode.EmulatedAccount``).

Built on ``lifeboat.local`` (the emulator) and ``lifeboat.cli`` (tables and printers); neither
imports this package (``tests/unit/test_layout.py``).
"""
