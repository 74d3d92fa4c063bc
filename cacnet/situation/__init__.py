"""Situation updates: a member city publishes its epidemic figures per day, shown as charts on
its public page, compared between cities per 100,000 inhabitants, and downloadable as CSV and
JSON."""
