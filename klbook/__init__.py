"""klbook: the Kullback-Leibler divergence, computed carefully.

The library behind the klbook interactive textbook. Everything is in nats
unless ``base`` is given (``base=2`` gives bits).
"""

__version__ = "0.1.0"
