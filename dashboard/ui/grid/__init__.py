"""The Grid tab and the power flow on the map."""
