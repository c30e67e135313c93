"""Eval sets, metrics, baselines and reports for the assistant (`toolkit-assistant eval`)."""
