"""The detection rules R01-R17 (described in insights.catalogue.RULES), grouped by kind;
insights.analysis runs them."""
