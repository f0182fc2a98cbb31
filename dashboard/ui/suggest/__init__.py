"""The Suggest tab: placements by the optimizer for a budget and a goal."""
