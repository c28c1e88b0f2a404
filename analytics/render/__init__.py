"""For people and programs: one formatter, text/JSON/CSV output, charts and the PDF report."""
