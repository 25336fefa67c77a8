"""Glue from a Case to the sections of the evaluation contract."""
