"""nguoitot: find 'Người tốt – Việc tốt' in the Vietnamese press and in unit reports.

Each stage is a plain function over plain records (dicts); the store
(:mod:`pipeline.store`) is the only shared state; the CLI (:mod:`pipeline.cli`)
only parses arguments and calls these functions.
"""

__version__ = "0.1.0"
