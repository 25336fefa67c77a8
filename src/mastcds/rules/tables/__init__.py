"""Dosing grids and treatment steps as data files, each entry with its source (read by the rules modules)."""
