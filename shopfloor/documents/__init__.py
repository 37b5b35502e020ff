"""Documents of a repair order: the A4 PDF (ReportLab, Chinese by its built-in CID fonts)."""
