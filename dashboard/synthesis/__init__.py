"""Fill in what cities lack: building attributes, LV feeders, synthetic cities."""
