"""Section 02: the class-conditional diffusion model on five class regions of the square.

``config`` (the partition, class names, default probes, parameters, profiles, settings),
``workflow`` (the computations the notebook calls, each returning a plain record, and the
section's figure layouts) and ``answers`` (one pure function of the results record per
question id).
"""
