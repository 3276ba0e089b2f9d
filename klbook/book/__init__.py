"""The book's companions: what the chapters use to teach, built on :mod:`klbook.core`.

The written forms of KL (:mod:`~klbook.book.forms`), the integrand and its signed areas
(:mod:`~klbook.book.integrand`), the properties as checkable numbers (:mod:`~klbook.book.properties`),
learning and variational inference (:mod:`~klbook.book.learning`, :mod:`~klbook.book.variational`),
plotting (:mod:`~klbook.book.plotting`, needs matplotlib), the live HTML explorers
(:mod:`~klbook.book.explorers`) and the ipywidgets explorers (:mod:`~klbook.book.widgets`).

Rule: companions may import the core; the core never imports a companion.
"""
