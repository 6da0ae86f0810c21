"""The demo on the emulated account: fleet, sample data, backdated history and the acts.

Built on ``lifeboat.local`` (the emulator) and ``lifeboat.cli`` (tables and printers).
"""
