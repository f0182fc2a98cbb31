"""Dash layout and thin callbacks. Computes no energy: it calls dashboard.scenarios."""
