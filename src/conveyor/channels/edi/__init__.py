"""Electronic data interchange: X12 and EDIFACT."""
