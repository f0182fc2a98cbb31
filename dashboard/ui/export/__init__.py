"""The Export tab: files of the scenario and the stakeholder report, made in background jobs."""
