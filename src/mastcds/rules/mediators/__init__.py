"""Mast cell mediators: the tryptase 20% + 2 rule, the hereditary alpha-tryptasemia adjustment, and mast cell activation syndrome."""
