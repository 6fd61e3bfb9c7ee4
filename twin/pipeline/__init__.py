"""The one run pipeline (scenario -> run folder), its risk step, the run budget and the nightly batch.
"""
