"""Domain values: no I/O, no Dash."""

from dashboard.domain.assumptions import Assumption, Assumptions
from dashboard.domain.district import District, Site
from dashboard.domain.errors import DecentraError
from dashboard.domain.scenario import (
    BatteryPlacement,
    CommunityBattery,
    CriticalMark,
    PvPlacement,
    Scenario,
    ScenarioParams,
)

__all__ = [
    "Assumption",
    "Assumptions",
    "BatteryPlacement",
    "CommunityBattery",
    "CriticalMark",
    "DecentraError",
    "District",
    "PvPlacement",
    "Scenario",
    "ScenarioParams",
    "Site",
]
