"""Anaphylaxis: the WAO 2020 and NIAID/FAAN 2006 criteria, the Brown 2004 severity grade, and the REMA score for a clonal mast cell disorder."""
