"""Prognostic scores for systemic mastocytosis."""
