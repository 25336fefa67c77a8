"""Mastocytosis: the WHO 2022, ICC 2022 and WHO 2016 criteria for systemic mastocytosis, its variants and B/C-findings, cutaneous mastocytosis, and the next tests."""
