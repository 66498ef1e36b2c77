"""The detection rules of triggers.md 4.3, grouped by kind; insights.analysis runs them."""
