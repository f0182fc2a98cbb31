"""What planners hand on: map images, standalone HTML, GIS files, CSV, the stakeholder report."""
