"""The penetration sweep section: how resilience grows as rooftop PV and storage grow."""
