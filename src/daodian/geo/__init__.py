"""Geodesy helpers: Chinese map datums (WGS-84 / GCJ-02 / BD-09) and distances."""
