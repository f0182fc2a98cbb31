"""Pure computation on numpy arrays shaped (hours, buildings). Imports only dashboard.domain."""
