"""Section 01: the unconditional diffusion model on points uniform in the square.

``config`` (parameters, profiles, settings), ``workflow`` (the computations the notebook
calls, returning plain records), ``figures`` (the section's figure layouts) and ``answers``
(one pure function of the results record per question id).
"""
