"""Level-2 validation over SQL: profile a database (source at backup time, restore afterwards).

psycopg is imported only here, so handlers that never open a database do not pay for it.
"""
