"""What SQL turnkeep sends: the statements and the backend built on them, for any driver.

Nothing here knows which driver carries the statements (:mod:`memory.drivers`).
"""
