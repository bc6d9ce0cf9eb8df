"""Reports built from the gradebook: per-student feedback, the class HTML report, similarity."""
