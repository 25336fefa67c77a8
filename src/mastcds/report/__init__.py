"""The case on paper: timeline figure (matplotlib) and case report (HTML, and PDF via WeasyPrint)."""
