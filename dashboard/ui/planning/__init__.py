"""Planning: the map, placing PV and storage, the KPI strip, the detail charts."""
