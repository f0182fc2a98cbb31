"""Economics of PV and batteries: capex, annual savings, NPV, LCOE, discounted payback, CO2.

Pure numpy, vectorised over systems (buildings, transformer areas or the district: every
quantity is linear in the components, so a transformer or the district is the same formula on
summed components). Two views:

- the **owner's** view of a building: its own meter. Savings are the avoided import valued at the
  import tariff plus its export valued at the feed-in price.
- the **community's** view of a transformer area: the buildings behind one transformer share
  energy hour by hour (DESIGN.md section 3) and own its community battery. Savings use the
  pooled import and export of the area; energy one building exports and its neighbour uses is
  valued at the import tariff instead of the feed-in price. The *community gain* is the pooled
  savings minus the sum of the owners' savings.

Cash flows, year ``y = 0 .. L`` (``L`` = PV lifetime, real terms, no price escalation)::

    CF_0 = −capex
    CF_y = S_1 (1 − δ)^(y−1) − OM − R_y            y = 1 .. L

with ``S_1`` the first year's savings [EUR/a], ``δ`` the PV degradation [1/a], ``OM`` the
operation and maintenance cost [EUR/a] and ``R_y`` the battery replacement cost in the years
``y = m × L_bat < L`` (``m = 1, 2, ...``; the battery bought again at today's price, no residual
value at the end). Energy benefits are scaled with the modules' output, a first-order
approximation that keeps the hourly matching of the first year.

- ``NPV = Σ_{y=0..L} CF_y / (1 + r)^y``
- ``LCOE = (capex + Σ_y (OM + R_y) / (1 + r)^y) / Σ_y G_1 (1 − δ)^(y−1) / (1 + r)^y``
  [EUR/kWh of PV generation; NaN without generation]
- discounted payback: the first time the cumulative discounted cash flow reaches 0, linear
  within the year [a]; ``inf`` when it does not within the lifetime ("not within lifetime"),
  NaN when nothing is invested.
- CO2 avoided ``= (D − I + E) × emission factor`` [t/a] (first year).

Time of use and hourly emission factor: with a peak import price ``p_peak`` (weekdays, hours
``[h0, h1)``; :func:`peak_mask`) the first year's savings are
``(D − I) × p_flat + (D_peak − I_peak) × (p_peak − p_flat) + E × p_feed-in``, where
``D_peak`` and ``I_peak`` are demand and import summed over the peak hours only (the bill with
DER ``Σ_t I_t p_t − E_t x`` subtracted from the bill without ``Σ_t D_t p_t``). With an hourly
emission factor ``f_t`` (:func:`co2_weights`) CO2 avoided is ``Σ_t f_t (D_t − I_t + E_t)``.
Both need hourly sums weighted by the peak mask and by ``f_t`` (:class:`Weighted`); prices
and a flat factor only scale sums, so changing them re-prices without simulating again.

References
----------
.. [1] Short, W., Packey, D. J., Holt, T. (1995). A Manual for the Economic Evaluation of
   Energy Efficiency and Renewable Energy Technologies. NREL/TP-462-5173 (NPV, LCOE,
   discounted payback).
.. [2] Fraunhofer ISE (2024). Stromgestehungskosten erneuerbare Energien (LCOE method with
   annual degradation and discounting of the energy).
.. [3] Jordan, D. C., Kurtz, S. R. (2013). Photovoltaic Degradation Rates — an Analytical
   Review. Progress in Photovoltaics 21(1), 12-29 (median 0.5 %/a).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain.assumptions import Assumptions
from dashboard.domain.errors import DecentraError


@dataclass(frozen=True)
class EconParams:
    """Economic assumptions (defaults = ``data/assumptions.csv``; an assumptions table from
    before a row existed falls back to these).

    ``pv_class_max_kwp`` are the upper bounds of the PV size classes [kWp] (a system of exactly
    a bound belongs to the smaller class); ``pv_capex_eur_per_kwp`` holds one specific price per
    class, one more than bounds. The whole system is priced at its class's price.
    """

    pv_class_max_kwp: tuple[float, ...] = (10.0, 30.0, 100.0)
    pv_capex_eur_per_kwp: tuple[float, ...] = (1500.0, 1300.0, 1100.0, 950.0)
    battery_eur_per_kwh: float = 600.0
    battery_eur_per_kw: float = 100.0
    community_battery_eur_per_kwh: float = 400.0
    community_battery_eur_per_kw: float = 150.0
    om_eur_per_kwp_a: float = 20.0
    import_price_eur_per_kwh: float = 0.25
    export_price_eur_per_kwh: float = 0.06
    discount_rate: float = 0.04
    pv_lifetime_a: int = 25
    battery_lifetime_a: int = 15
    pv_degradation_per_a: float = 0.005
    co2_kg_per_kwh: float = 0.40
    # time of use: None = flat import tariff; the window [from, to) in hours, Monday-Friday
    import_peak_price_eur_per_kwh: float | None = None
    import_peak_hours: tuple[float, float] = (17.0, 21.0)
    # hourly emission factor [kg/kWh]: 24 values (hour of day) or 8760; None = flat
    co2_hourly_kg_per_kwh: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        bounds = self.pv_class_max_kwp
        if len(self.pv_capex_eur_per_kwp) != len(bounds) + 1:
            raise DecentraError("econ.pv_capex_by_class_eur_per_kwp needs one price more than "
                                "econ.pv_class_max_kwp has bounds", source="assumptions")
        if any(b1 <= b0 for b0, b1 in itertools.pairwise(bounds)):
            raise DecentraError("econ.pv_class_max_kwp must increase", source="assumptions")
        if self.pv_lifetime_a < 1 or self.battery_lifetime_a < 1:
            raise DecentraError("lifetimes must be at least one year", source="assumptions")
        if self.discount_rate <= -1:
            raise DecentraError("econ.discount_rate must be above -1", source="assumptions")
        h0, h1 = self.import_peak_hours
        if not 0 <= h0 < h1 <= 24:
            raise DecentraError("econ.import_peak_hours must be 'from;to' with 0 <= from < to "
                                "<= 24", source="assumptions")
        if self.co2_hourly_kg_per_kwh is not None and len(self.co2_hourly_kg_per_kwh) not in (
                24, 8760):
            raise DecentraError("emissions.hourly_kg_co2_per_kwh needs 24 or 8760 values",
                                source="assumptions")

    @property
    def weights_key(self) -> tuple[object, ...]:
        """What decides the hourly weights (peak window, hourly factor): equal keys, equal
        weighted sums."""
        peak = self.import_peak_hours if self.import_peak_price_eur_per_kwh is not None \
            else None
        return (peak, self.co2_hourly_kg_per_kwh)

    @classmethod
    def from_assumptions(cls, a: Assumptions) -> EconParams:
        """Read the ``econ.*`` and ``emissions.*`` rows; missing rows take the defaults (a
        stored table from before the size classes with a flat ``econ.pv_capex_eur_per_kwp``
        keeps its flat price for every size)."""
        d = cls()

        def num(key: str, default: float) -> float:
            return a.number(key) if key in a else default

        if "econ.pv_capex_by_class_eur_per_kwp" in a:
            bounds = (a.numbers("econ.pv_class_max_kwp") if "econ.pv_class_max_kwp" in a
                      else d.pv_class_max_kwp)
            prices = a.numbers("econ.pv_capex_by_class_eur_per_kwp")
        elif "econ.pv_capex_eur_per_kwp" in a:
            bounds, prices = (), (a.number("econ.pv_capex_eur_per_kwp"),)
        else:
            bounds, prices = d.pv_class_max_kwp, d.pv_capex_eur_per_kwp
        return cls(
            pv_class_max_kwp=tuple(bounds), pv_capex_eur_per_kwp=tuple(prices),
            battery_eur_per_kwh=num("econ.battery_capex_eur_per_kwh", d.battery_eur_per_kwh),
            battery_eur_per_kw=num("econ.battery_capex_eur_per_kw", d.battery_eur_per_kw),
            community_battery_eur_per_kwh=num("econ.community_battery_capex_eur_per_kwh",
                                              d.community_battery_eur_per_kwh),
            community_battery_eur_per_kw=num("econ.community_battery_capex_eur_per_kw",
                                             d.community_battery_eur_per_kw),
            om_eur_per_kwp_a=num("econ.pv_om_eur_per_kwp_a", d.om_eur_per_kwp_a),
            import_price_eur_per_kwh=num("econ.import_price_eur_per_kwh",
                                         d.import_price_eur_per_kwh),
            export_price_eur_per_kwh=num("econ.export_price_eur_per_kwh",
                                         d.export_price_eur_per_kwh),
            discount_rate=num("econ.discount_rate", d.discount_rate),
            pv_lifetime_a=int(num("econ.pv_lifetime_a", d.pv_lifetime_a)),
            battery_lifetime_a=int(num("econ.battery_lifetime_a", d.battery_lifetime_a)),
            pv_degradation_per_a=num("econ.pv_degradation_per_a", d.pv_degradation_per_a),
            co2_kg_per_kwh=num("emissions.grid_kg_co2_per_kwh", d.co2_kg_per_kwh),
            import_peak_price_eur_per_kwh=(a.number("econ.import_peak_price_eur_per_kwh")
                                           if "econ.import_peak_price_eur_per_kwh" in a
                                           else None),
            import_peak_hours=(_two(a.numbers("econ.import_peak_hours"))
                               if "econ.import_peak_hours" in a else d.import_peak_hours),
            co2_hourly_kg_per_kwh=(a.numbers("emissions.hourly_kg_co2_per_kwh")
                                   if "emissions.hourly_kg_co2_per_kwh" in a else None),
        )


def _two(values: tuple[float, ...]) -> tuple[float, float]:
    if len(values) != 2:
        raise DecentraError("econ.import_peak_hours must be two hours 'from;to'",
                            source="assumptions")
    return values[0], values[1]


def _hours_and_weekdays(index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Hour of day (0..23) and "is Monday-Friday" of each step (a plain range index: hour t
    of a year starting on a Monday)."""
    if isinstance(index, pd.DatetimeIndex):
        return np.asarray(index.hour), np.asarray(index.dayofweek) < 5
    t = np.arange(len(index))
    return t % 24, (t // 24) % 7 < 5


def peak_mask(index: pd.Index, p: EconParams) -> np.ndarray:
    """1.0 in the peak hours of the time-of-use tariff (Monday to Friday, hour of day in
    ``[from, to)``; public holidays count as weekdays), else 0.0; all 0 without a peak
    price."""
    if p.import_peak_price_eur_per_kwh is None:
        return np.zeros(len(index))
    hour, weekday = _hours_and_weekdays(index)
    h0, h1 = p.import_peak_hours
    return (weekday & (hour >= h0) & (hour < h1)).astype(np.float64)


def co2_weights(index: pd.Index, p: EconParams) -> np.ndarray:
    """The hourly emission factor [kg/kWh] of each step: 24 values laid on the hour of day,
    or 8760 taken as they are (the year must have 8760 steps); ones when the factor is flat
    (the flat factor then scales the plain sums)."""
    f = p.co2_hourly_kg_per_kwh
    if f is None:
        return np.ones(len(index))
    arr = np.asarray(f, dtype=np.float64)
    if len(arr) == 24:
        hour, _ = _hours_and_weekdays(index)
        return arr[hour]
    if len(arr) != len(index):
        raise DecentraError(f"the hourly emission factor has {len(arr)} values, the "
                            f"district's year {len(index)} hours", source="assumptions")
    return arr


@dataclass(frozen=True)
class Weighted:
    """First-year sums over hours weighted by the peak mask (``*_peak_kwh``) and by the hourly
    emission factor (``*_co2_kg``, kg when the factor is hourly) of a set of systems."""

    demand_peak_kwh: np.ndarray
    import_peak_kwh: np.ndarray
    demand_co2_kg: np.ndarray
    import_co2_kg: np.ndarray
    export_co2_kg: np.ndarray


def pv_capex_eur(kwp: np.ndarray, p: EconParams) -> np.ndarray:
    """PV investment [EUR]: ``kWp × price of the system's size class``.

    Parameters
    ----------
    kwp : array of float
        Installed PV per system [kWp]; 0 costs nothing.
    p : EconParams
        Size-class bounds [kWp] and prices [EUR/kWp].

    Returns
    -------
    array of float
        Investment [EUR]. A system of exactly a class bound (e.g. 10 kWp) is priced in the
        smaller class.
    """
    kwp = np.asarray(kwp, dtype=np.float64)
    cls = np.searchsorted(np.asarray(p.pv_class_max_kwp, dtype=np.float64), kwp, side="left")
    return kwp * np.asarray(p.pv_capex_eur_per_kwp, dtype=np.float64)[cls]


def annual_savings_eur(demand_kwh: np.ndarray, import_kwh: np.ndarray,
                       export_kwh: np.ndarray, p: EconParams,
                       weighted: Weighted | None = None) -> np.ndarray:
    """First-year savings [EUR/a] against buying all demand from the grid:
    ``(D − I) × import tariff + E × feed-in price`` (energies in kWh/a), plus
    ``(D_peak − I_peak) × (peak − flat price)`` with a time-of-use tariff (``weighted``
    needed then)."""
    d = np.asarray(demand_kwh, dtype=np.float64)
    out = ((d - np.asarray(import_kwh, dtype=np.float64)) * p.import_price_eur_per_kwh
           + np.asarray(export_kwh, dtype=np.float64) * p.export_price_eur_per_kwh)
    if p.import_peak_price_eur_per_kwh is not None:
        if weighted is None:
            raise ValueError("a time-of-use tariff needs the peak-hour sums")
        out = out + (np.asarray(weighted.demand_peak_kwh, np.float64)
                     - np.asarray(weighted.import_peak_kwh, np.float64)) * (
            p.import_peak_price_eur_per_kwh - p.import_price_eur_per_kwh)
    return out


def co2_avoided_t(demand_kwh: np.ndarray, import_kwh: np.ndarray, export_kwh: np.ndarray,
                  p: EconParams, weighted: Weighted | None = None) -> np.ndarray:
    """First-year CO2 avoided [t/a]: ``(D − I + E) × flat factor``, or with an hourly factor
    ``Σ_t f_t (D_t − I_t + E_t)`` (``weighted`` needed then)."""
    if p.co2_hourly_kg_per_kwh is None:
        return (np.asarray(demand_kwh, dtype=np.float64)
                - np.asarray(import_kwh, dtype=np.float64)
                + np.asarray(export_kwh, dtype=np.float64)) * p.co2_kg_per_kwh / 1000.0
    if weighted is None:
        raise ValueError("an hourly emission factor needs the weighted sums")
    return (np.asarray(weighted.demand_co2_kg, np.float64)
            - np.asarray(weighted.import_co2_kg, np.float64)
            + np.asarray(weighted.export_co2_kg, np.float64)) / 1000.0


def replacement_years(p: EconParams) -> np.ndarray:
    """Years in which batteries are bought again: ``m × L_bat < L_pv``, m = 1, 2, ..."""
    return np.arange(p.battery_lifetime_a, p.pv_lifetime_a, p.battery_lifetime_a)


def _replaced(years: np.ndarray, p: EconParams) -> np.ndarray:
    """1.0 in the years of :func:`replacement_years`, else 0.0 (a modulo: ``np.isin`` cost
    a tenth of an evaluation in the optimizer's loop)."""
    return ((years % p.battery_lifetime_a == 0) & (years < p.pv_lifetime_a)).astype(np.float64)


def cash_flows(capex_eur: np.ndarray, battery_capex_eur: np.ndarray, savings_eur_a: np.ndarray,
               om_eur_a: np.ndarray, p: EconParams) -> np.ndarray:
    """Undiscounted yearly cash flows (systems, L + 1) [EUR], year 0 first (module formula).

    ``battery_capex_eur`` (part of ``capex_eur``) is spent again in each replacement year."""
    years = np.arange(1, p.pv_lifetime_a + 1)
    deg = (1.0 - p.pv_degradation_per_a) ** (years - 1)
    repl = _replaced(years, p)
    capex = np.atleast_1d(np.asarray(capex_eur, dtype=np.float64))
    flows = np.empty((capex.shape[0], p.pv_lifetime_a + 1))
    flows[:, 0] = -capex
    flows[:, 1:] = (np.asarray(savings_eur_a, dtype=np.float64)[:, None] * deg
                    - np.asarray(om_eur_a, dtype=np.float64)[:, None]
                    - np.asarray(battery_capex_eur, dtype=np.float64)[:, None] * repl)
    return flows


def discount(p: EconParams) -> np.ndarray:
    """Discount factors ``1 / (1 + r)^y`` for y = 0 .. L."""
    return (1.0 + p.discount_rate) ** -np.arange(p.pv_lifetime_a + 1, dtype=np.float64)


def npv_eur(flows: np.ndarray, p: EconParams) -> np.ndarray:
    """Net present value [EUR] of cash flows (systems, L + 1): ``Σ_y CF_y / (1 + r)^y``."""
    return flows @ discount(p)


def discounted_payback_a(flows: np.ndarray, p: EconParams) -> np.ndarray:
    """Discounted payback [a] of cash flows (systems, L + 1).

    The first year y whose cumulative discounted cash flow ``C_y`` is ≥ 0, interpolated
    linearly inside that year: ``y − 1 + (−C_{y−1}) / (C_y − C_{y−1})``. ``inf`` when it stays
    negative through the lifetime; NaN when nothing is invested (``CF_0 = 0``)."""
    cum = np.cumsum(flows * discount(p), axis=1)
    reached = cum[:, 1:] >= 0.0
    any_reached = reached.any(axis=1)
    y = np.argmax(reached, axis=1) + 1                     # first year reaching 0
    rows = np.arange(flows.shape[0])
    before, after = cum[rows, y - 1], cum[rows, y]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(after > before, -before / np.where(after > before, after - before, 1.0),
                        0.0)
    out = np.where(any_reached, y - 1 + frac, np.inf)
    return np.where(flows[:, 0] < 0.0, out, np.nan)


def lcoe_eur_per_kwh(capex_eur: np.ndarray, battery_capex_eur: np.ndarray,
                     om_eur_a: np.ndarray, generation_kwh_a: np.ndarray,
                     p: EconParams) -> np.ndarray:
    """Levelised cost of electricity [EUR/kWh] (module formula): discounted lifetime cost
    (capex, O&M, battery replacements) over discounted lifetime PV generation (first year
    ``generation_kwh_a``, degrading by δ a year). NaN without generation."""
    years = np.arange(1, p.pv_lifetime_a + 1)
    disc = discount(p)[1:]
    repl = _replaced(years, p)
    cost = (np.asarray(capex_eur, dtype=np.float64)
            + np.asarray(om_eur_a, dtype=np.float64) * disc.sum()
            + np.asarray(battery_capex_eur, dtype=np.float64) * (repl * disc).sum())
    energy = np.asarray(generation_kwh_a, dtype=np.float64) * (
        ((1.0 - p.pv_degradation_per_a) ** (years - 1)) * disc).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(energy > 0, cost / np.where(energy > 0, energy, 1.0), np.nan)


def economics(kwp: np.ndarray, battery_capex: np.ndarray, demand_kwh: np.ndarray,
              pv_kwh: np.ndarray, import_kwh: np.ndarray, export_kwh: np.ndarray,
              p: EconParams, pv_capex: np.ndarray | None = None,
              weighted: Weighted | None = None) -> dict[str, np.ndarray]:
    """All indicators of a set of systems (buildings, transformer areas, or the district as
    one row).

    Parameters
    ----------
    kwp : array of float
        Installed PV [kWp] (O&M is ``kWp × econ.pv_om_eur_per_kwp_a``).
    battery_capex : array of float
        Investment in batteries [EUR] (replaced every battery lifetime).
    demand_kwh, pv_kwh, import_kwh, export_kwh : array of float
        First-year energy at the system's meter [kWh/a].
    p : EconParams
    pv_capex : array of float, optional
        PV investment [EUR]; default :func:`pv_capex_eur` of ``kwp`` (a transformer area passes
        the sum of its buildings', priced each by its own size).
    weighted : Weighted, optional
        Peak-hour and emission-weighted sums; needed with a time-of-use tariff or an hourly
        emission factor.

    Returns
    -------
    dict of arrays
        ``capex_eur`` [EUR], ``annual_savings_eur`` [EUR/a], ``om_eur_per_a`` [EUR/a],
        ``npv_eur`` [EUR], ``lcoe_eur_per_kwh`` [EUR/kWh], ``discounted_payback_a`` [a],
        ``co2_avoided_t`` [t/a].
    """
    kwp = np.atleast_1d(np.asarray(kwp, dtype=np.float64))
    pv_cost = pv_capex_eur(kwp, p) if pv_capex is None else np.asarray(pv_capex, np.float64)
    bat = np.atleast_1d(np.asarray(battery_capex, dtype=np.float64))
    capex = pv_cost + bat
    savings = annual_savings_eur(demand_kwh, import_kwh, export_kwh, p, weighted)
    om = kwp * p.om_eur_per_kwp_a
    flows = cash_flows(capex, bat, savings, om, p)
    return {
        "capex_eur": capex,
        "annual_savings_eur": savings,
        "om_eur_per_a": om,
        "npv_eur": npv_eur(flows, p),
        "lcoe_eur_per_kwh": lcoe_eur_per_kwh(capex, bat, om, pv_kwh, p),
        "discounted_payback_a": discounted_payback_a(flows, p),
        "co2_avoided_t": co2_avoided_t(demand_kwh, import_kwh, export_kwh, p, weighted),
    }
