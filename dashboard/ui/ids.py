"""Component ids, defined once (layout and callbacks import them from here)."""

SESSION = "session"
SESSION_BG = "session-bg"        # dcc.Store: session produced by a background job
TABS = "tabs"              # dcc.Store: district hash, scenario key, undo/redo stacks
SELECTION = "selection"          # dcc.Store: selected building ids / transformer id
MESSAGE = "message"
BUSY = "busy"

MAP = "map"
MAP_CLICK = "map-click"       # dcc.Store written by assets/map.js on building clicks
MAP_LEGEND = "map-legend"
MAP_FITTED = "map-fitted"    # text set once the view is framed (for scripts and tests)
MAP_SIZE = "map-size"        # dcc.Store written by assets/fit.js: map and covered edges [px]
MAP_REGION = "map-region"     # dcc.Store written by assets/map.js after a box / lasso
COLOR_BY = "color-by"
BASEMAP = "basemap"
LAYERS = "layers"
DRAG_MODE = "drag-mode"        # pan / box / lasso: how a drag on the map selects
BASEMAP_NOTE = "basemap-note"  # says so when the OpenStreetMap tiles cannot be loaded

KPIS = "kpis"
SCENARIO_NAME = "scenario-name"
SCENARIO_STATUS = "scenario-status"
UNDO = "undo"
REDO = "redo"
RESET = "reset"

PANEL_TITLE = "panel-title"
PANEL_HINT = "panel-hint"
SINGLE_PANEL = "single-panel"
MULTI_PANEL = "multi-panel"
TRANSFORMER_PANEL = "transformer-panel"

PV_KWP = "pv-kwp"
PV_TILT = "pv-tilt"
PV_AZIMUTH = "pv-azimuth"
PV_APPLY = "pv-apply"
PV_REMOVE = "pv-remove"
BAT_KWH = "bat-kwh"
BAT_KW = "bat-kw"
BAT_APPLY = "bat-apply"
BAT_REMOVE = "bat-remove"

SEL_COVERAGE = "sel-coverage"
SEL_PV_APPLY = "sel-pv-apply"
SEL_BAT_KWH = "sel-bat-kwh"
SEL_BAT_KW = "sel-bat-kw"
SEL_BAT_APPLY = "sel-bat-apply"
SEL_REMOVE = "sel-remove"
SEL_CLEAR = "sel-clear"
CRIT_MARK = "crit-mark"
CRIT_UNMARK = "crit-unmark"
SEL_CRIT_MARK = "sel-crit-mark"
SEL_CRIT_UNMARK = "sel-crit-unmark"
HUBS = "resilience-hubs"

RULE_MIN_ROOF = "rule-min-roof"
RULE_COVERAGE = "rule-coverage"
RULE_APPLY = "rule-apply"
RULE_PROGRESS = "rule-progress"
RULE_BUSY = "rule-busy"

COMM_KWH = "comm-kwh"
COMM_KW = "comm-kw"
COMM_APPLY = "comm-apply"
COMM_REMOVE = "comm-remove"
COMM_MODE = "comm-mode"
COMM_IMPORT_LIMIT = "comm-import-limit"
COMM_EXPORT_LIMIT = "comm-export-limit"
PV_LIMIT = "pv-export-limit"
PV_LIMIT_APPLY = "pv-export-limit-apply"

TRANSFORMER_TABLE = "transformer-table"
DETAIL_WEEK = "detail-week"
DETAIL_DAY = "detail-day"
WEEK_CHART = "week-chart"
SURVIVAL_CHART = "survival-chart"
DETAIL_TITLE = "detail-title"

# scenarios, exports, compare, presentation
APP = "app"
URL = "url"                      # dcc.Location: ?share=<token> share links
VIEW = "view"                    # dcc.Store: "plan" | "compare" | "present"
SAVE = "save"
SAVE_NEW = "save-new"
SAVED_LIST = "saved-list"
CONFIRM_DELETE = "confirm-delete"  # dcc.ConfirmDialog before deleting a saved scenario
PENDING_DELETE = "pending-delete"  # dcc.Store: the id awaiting that confirmation
SAVED_ACTION = "saved-action"    # dcc.Store written by pattern-matched list buttons
SHARE_URL = "share-url"
SHARE_COPY = "share-copy"
WORKSPACE_URL = "workspace-url"     # the link that opens this workspace in another browser
WORKSPACE_COPY = "workspace-copy"
UPLOAD = "upload"
DOWNLOAD_JSON = "download-json"
DOWNLOAD = "download"
EXPORT_GRID = "export-grid"
EXPORT_PROGRESS = "export-progress"
EXPORT_STATUS = "export-status"
REPORT = "report"
REPORT_QUESTION = "report-question"
REPORT_COMPARE = "report-compare"        # checklist of the workspace's saved scenarios
REPORT_ALTS = "report-alts"              # dcc.Store: server keys of the chosen alternatives
REPORT_CONSULTANT = "report-consultant"
REPORT_LOGO = "report-logo"              # dcc.Upload
REPORT_LOGO_DATA = "report-logo-data"    # dcc.Store: the re-encoded logo (base64 PNG)
REPORT_LOGO_STATUS = "report-logo-status"
COMPARE = "compare"
COMPARE_PICK = "compare-pick"
COMPARE_BODY = "compare-body"
COMPARE_CLOSE = "compare-close"
PRESENT = "present"
PRESENT_SWITCH = "present-switch"
PRESENT_KPIS = "present-kpis"
PRESENT_CLOSE = "present-close"
PRESENT_ORIGIN = "present-origin"   # dcc.Store: the scenario on screen when the talk began

# importing a city's own data
IMPORT_OPEN = "import-open"
IMPORT_DIALOG = "import-dialog"
IMPORT_CLOSE = "import-close"
IMPORT_BUILDINGS = "import-buildings"
IMPORT_BUILDINGS_INFO = "import-buildings-info"
IMPORT_LAYER = "import-layer"
IMPORT_LAYER_BOX = "import-layer-box"
IMPORT_GRID = "import-grid"
IMPORT_GRID_INFO = "import-grid-info"
IMPORT_GRID_KIND = "import-grid-kind"
IMPORT_GRID_BOX = "import-grid-box"
IMPORT_WEATHER = "import-weather"
IMPORT_WEATHER_INFO = "import-weather-info"
IMPORT_METERS = "import-meters"
IMPORT_METERS_INFO = "import-meters-info"
IMPORT_PV = "import-pv"
IMPORT_PV_INFO = "import-pv-info"
IMPORT_PVGIS = "import-pvgis"
IMPORT_NAME = "import-name"
IMPORT_RUN = "import-run"
IMPORT_PROGRESS = "import-progress"
IMPORT_RESULT = "import-result"
IMPORT_ACCEPT = "import-accept"
IMPORT_FILES = "import-files"

# grid physics
GRID_STORE = "grid-store"          # dcc.Store: {"key", "scenario", "district"} of a study
GRID_TRIGGER = "grid-trigger"      # dcc.Store: the session once edits have paused
GRID_RUN = "grid-run"
GRID_PROGRESS = "grid-progress"
GRID_PROGRESS_TEXT = "grid-progress-text"   # what the running job is doing
GRID_RUNNING = "grid-running"      # shown only while a power-flow job runs
GRID_STATUS = "grid-status"
GRID_VIOLATIONS = "grid-violations"
GRID_LAYER = "grid-layer"          # map: feeders coloured by power flow or by the estimate
GRID_LEGEND = "grid-legend"
SWEEP_RUN = "sweep-run"            # Details tab: run the penetration sweep
SWEEP_BATTERY = "sweep-battery"    # kWh of battery per kWp placed
SWEEP_ORDER = "sweep-order"
SWEEP_CHART = "sweep-chart"
SWEEP_STATUS = "sweep-status"
ASSUME_ROWS = "assume-rows"        # Assumptions tab: one row per overridable assumption
ASSUME_INPUT = "assume-input"      # pattern-matching type: {"type": ASSUME_INPUT, "key": key}
ASSUME_RESET = "assume-reset"      # pattern-matching type: reset one override
ASSUME_RESET_ALL = "assume-reset-all"
ASSUME_STATUS = "assume-status"

# the Suggest tab: placements by the optimizer (dashboard.suggest)
SUGGEST_BUDGET = "suggest-budget"      # EUR of added capex
SUGGEST_OBJECTIVE = "suggest-objective"
SUGGEST_CRITICAL = "suggest-critical"  # checklist: place only on critical facilities
SUGGEST_RUN = "suggest-run"
SUGGEST_BUSY = "suggest-busy"
SUGGEST_PROGRESS = "suggest-progress"  # what the running job is doing
SUGGEST_STATUS = "suggest-status"      # the outcome (or why there is none)
SUGGEST_RESULT = "suggest-result"      # what was placed and why: the steps
SUGGEST_FOR = "suggest-for"            # store: the scenario key the steps shown belong to
