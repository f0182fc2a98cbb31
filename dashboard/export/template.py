"""The report's HTML template (Jinja2, autoescaped: every name, question and id a user typed
is text in the document, never markup). Fragments built elsewhere arrive as ``Markup`` only
where they were escaped when built."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, StrictUndefined

ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                  lstrip_blocks=True)

REPORT = ENV.from_string("""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title><style>{{ css }}</style></head><body>
<section class="page summary">
  <header class="masthead">
    <div>
      <div class="kicker">Decentralized energy planning · executive summary</div>
      <h1>{{ title }}</h1>
      <p class="lead">{{ district_name }} — {{ n_buildings }} buildings, {{ n_transformers }}
      transformers.{% if consultant %} Prepared by <b>{{ consultant }}</b>{% endif %} on
      {{ today }} with Decentra.</p>
    </div>
    {% if logo %}<img class="logo" src="{{ logo }}" alt="logo">{% endif %}
  </header>
  {% if synthetic %}<p class="small"><b>Synthetic district</b>: tiles of real footprints, for
  illustration.</p>{% endif %}
  <div class="question"><div class="k">The question</div>{{ question }}</div>
  <h3>Recommendation</h3>
  <p><b>{{ title }}</b>{% if n_alternatives %}, compared with {{ n_alternatives }}
  alternative{{ 's' if n_alternatives > 1 else '' }}{% endif %}.</p>
  <table class="compare">
    <tr><th>Indicator</th>{% for name in compared_names %}<th{% if loop.first %}
      class="rec"{% endif %}>{{ name }}{% if loop.first %}<span class="tag">recommended</span>
      {% endif %}</th>{% endfor %}</tr>
    {% for label, cells in comparison %}
    <tr><td>{{ label }}</td>{% for c in cells %}<td{% if loop.first %} class="rec"{% endif %}>
      {{ c }}</td>{% endfor %}</tr>
    {% endfor %}
  </table>
  <p class="note">Grid violations: elements outside their limits in a verified full-year
  power flow of that scenario, or (estimate) transformers above rating in the energy
  balance. Today, without PV or storage: self-sufficiency {{ baseline_ss }} %.</p>
  <div class="cols">
    <div><h3>Cost</h3><ul>{% for l in cost %}<li>{{ l }}</li>{% endfor %}</ul>
    <h3>What the district gains</h3><ul>{% for l in gains %}<li>{{ l }}</li>{% endfor %}</ul>
    </div>
    <div class="{{ 'verified' if grid_verified else 'estimate' }}">
      <h3>What the grid needs
        <span class="tag {{ 'ok' if grid_verified else 'warn' }}">{{ 'power flow'
        if grid_verified else 'estimate, not verified' }}</span></h3>
      <ul>{% for l in grid_lines %}<li>{{ l }}</li>{% endfor %}</ul>
    </div>
  </div>
</section>
<section class="page">
  <h2>What is placed where</h2>
  <p class="small">{{ n_placed }} buildings with PV or a battery{% if n_community %} and
  {{ n_community }} community batter{{ 'ies' if n_community > 1 else 'y' }}{% endif %};
  investment {{ capex_total }} EUR in all. Cost: PV by system size class and batteries by
  energy and power, from the assumptions.</p>
  <img class="map" src="{{ placement_map }}">
  <table class="placed">
    <thead><tr><th>Building</th><th class="l">Use</th><th class="l">Transformer</th>
    <th>PV [kWp]</th><th>Battery [kWh]</th><th>Battery [kW]</th><th>Cost [EUR]</th></tr></thead>
    {% for r in placed %}
    <tr><td>{{ r.building_id }}</td><td class="l">{{ r.use_type }}</td>
    <td class="l">{{ r.transformer_id }}</td><td>{{ r.pv }}</td><td>{{ r.kwh }}</td>
    <td>{{ r.kw }}</td><td>{{ r.cost }}</td></tr>
    {% endfor %}
    {% if placed_more %}<tr><td colspan="7" class="l small">… and {{ placed_more }} more
    buildings (the full list: export “Buildings · CSV”).</td></tr>{% endif %}
  </table>
  {% if community %}
  <h3>Community batteries</h3>
  <table><tr><th>Transformer</th><th>Energy [kWh]</th><th>Power [kW]</th><th>Cost [EUR]</th>
  </tr>{% for r in community %}<tr><td>{{ r.transformer_id }}</td><td>{{ r.kwh }}</td>
  <td>{{ r.kw }}</td><td>{{ r.cost }}</td></tr>{% endfor %}</table>
  {% endif %}
</section>
<section class="page">
  <h2>The grid: {{ 'verified power flow' if grid_verified else 'estimate (not verified)' }}</h2>
  {% if grid_verified %}
  <p class="small">Full-year AC power flow (8,760 hours) of exactly this scenario. Limits:
  voltage {{ limits.vmin }}–{{ limits.vmax }} pu, loading {{ limits.loading }} %.
  Hosting capacity: the PV that can still be added at each transformer before any hour
  breaks a limit, from the power flow.</p>
  <table><tr><th>Transformer</th><th>Voltage min [pu]</th><th>Voltage max [pu]</th>
  <th>Hours &gt; max [h/a]</th><th>Hours &lt; min [h/a]</th><th>Line loading max [%]</th>
  <th>Transformer loading max [%]</th><th>Hours overloaded [h/a]</th>
  <th>Hosting capacity, power flow [kWp]</th><th>Hosting capacity, estimate [kWp]</th></tr>
  {% for r in pf_rows %}<tr><td>{{ r.id }}</td><td>{{ r.vmin }}</td><td>{{ r.vmax }}</td>
  <td>{{ r.over }}</td><td>{{ r.under }}</td><td>{{ r.line }}</td><td>{{ r.trafo }}</td>
  <td>{{ r.overload }}</td><td>{{ r.hc }}</td><td>{{ r.hc_est }}</td></tr>{% endfor %}</table>
  {% if violations %}
  <h3>Elements outside their limits</h3>
  <table><tr><th class="l">Kind</th><th class="l">Element</th><th class="l">Transformer</th>
  <th>Worst</th><th>Hours [h/a]</th></tr>{% for r in violations %}<tr>
  <td class="l">{{ r.kind }}</td><td class="l">{{ r.element }}</td>
  <td class="l">{{ r.transformer_id }}</td><td>{{ r.worst }}</td><td>{{ r.hours }}</td></tr>
  {% endfor %}</table>
  {% endif %}
  <img class="map" src="{{ voltage_map }}">
  <img class="map" src="{{ loading_map }}">
  {% else %}
  <div class="warnbox">Not verified: no full-year power flow has been run for this scenario.
  The figures below are the energy-balance estimate (transformer loading from hourly net
  load; hosting capacity from the transformer's rating only, no voltage). Run the power flow
  in the app's Grid tab or with <code>python -m dashboard grid --scenario FILE</code>, then
  create the report again.</div>
  {% endif %}
  <h3>Transformers (energy balance)</h3>
  {{ transformers_table }}
</section>
{{ rest }}
</body></html>""")


def render(**context: Any) -> str:
    """The report document from its context (see :func:`dashboard.export.report.report_html`)."""
    return REPORT.render(**context)


__all__ = ["ENV", "REPORT", "render"]
