"""Section 03: a small GPT-2 trained on "Alice in Wonderland" (questions A1–A5).

``config`` (parameters, profiles, per-profile settings), ``workflow`` (the computations the
notebook calls, returning plain records, and the figure/painting helpers) and ``answers``
(one pure function of the results record per question id, and the tables the notebook shows).
"""
