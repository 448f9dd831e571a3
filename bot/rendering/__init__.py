"""Renderers of neutral cards for each platform."""
