"""Importers of outside data sets; each reports every line it could not take, and why."""
