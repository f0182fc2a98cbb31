"""The Assumptions tab: the district's prices, costs and shares, and the scenario's overrides."""
